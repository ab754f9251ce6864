import { INITIAL_SCHEMA } from './001-initial-schema';
import { INTERACTIONS_AND_OPERATIONS } from './002-interactions-operations';
import { CONSOLE_TABLES } from './003-console';
import { ROTATED_SECRETS } from './004-rotated-secrets';
import { RECORD_OBSERVATIONS } from './005-record-observations';
import { DRIFT_AUDIT } from './006-drift-audit';
import { FIRST_SYNC } from './007-first-sync';
import { STAGED_AUDIT } from './008-staged-audit';
import { INTERACTION_ORDER } from './009-interaction-order';
import { OPERATION_REQUESTS } from './010-operation-requests';
import { REVOKED_SESSIONS } from './011-revoked-sessions';

/** One schema change, applied once, in version order. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Every migration, oldest first. Kept as TypeScript strings rather than .sql files so `tsc`
 * ships them in dist without a copy step. Append only: never edit one that has been released.
 */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial schema', sql: INITIAL_SCHEMA },
  { version: 2, name: 'interactions and operations', sql: INTERACTIONS_AND_OPERATIONS },
  { version: 3, name: 'match rejections and config versions', sql: CONSOLE_TABLES },
  { version: 4, name: 'rotated secrets', sql: ROTATED_SECRETS },
  { version: 5, name: 'record observations', sql: RECORD_OBSERVATIONS },
  { version: 6, name: 'drift in the audit log', sql: DRIFT_AUDIT },
  { version: 7, name: 'first sync runs', sql: FIRST_SYNC },
  { version: 8, name: 'staged audit entries', sql: STAGED_AUDIT },
  { version: 9, name: 'interaction order', sql: INTERACTION_ORDER },
  { version: 10, name: 'operation requests', sql: OPERATION_REQUESTS },
  { version: 11, name: 'revoked sessions', sql: REVOKED_SESSIONS },
];
