/**
 * The drift sweep: the backstop for anything lost on the way (a webhook never delivered, queued
 * jobs dropped by a Redis crash after the poll cursor moved on, an edit made while tandem was
 * down). It walks every synchronized relation at a budgeted pace, reads both records in batches,
 * compares them with each other and with the shadow (core/drift.ts), records each finding in the
 * audit log, and repairs it through the normal pipeline: the contact is reported as a change
 * (source `drift`), so the repair is planned under the contact's lock, fenced and audited like
 * any sync, as a repair.
 */
import { filteredSide } from '../core/filter';
import { windowsOf } from '../../connectors/kit/limiter';
import { isAccount, isContact, type Connector } from '../../connectors/kit/types';
import { findDrift } from '../core/drift';
import {
  type Account,
  type BusinessRelation,
  type ConnectorSlot,
  type Contact,
  type Entity,
  type SyncRecord,
} from '../core/model';
import { mappingsFor } from '../config/schema';
import type { Engine } from './ports/index';
import type { DriftFinding, DriftReport } from './ports/drift';
import type { NewAuditEntry, ShadowEntry } from './ports/store';
import { toShadowMap } from './sync-contact';

/** What the sweep runs with besides the engine. */
export interface DriftDeps {
  /** Waits for the side's budget before each read call. */
  pace: Record<ConnectorSlot, () => Promise<void>>;
  /** Reports contacts as changed (source `drift`), so the sync repairs them. */
  repair(contactIds: string[]): Promise<void>;
  /** Called after each chunk of contacts: relations done, of the total. */
  progress?(done: number, total: number): void;
  /** Ends the sweep after the chunk in progress. */
  signal?: AbortSignal;
}

/** Contacts compared per chunk: their records are read in batches of this size at most. */
const CHUNK = 50;
/** Findings kept in the report itself. */
const REPORT_FINDINGS = 100;

/** Runs one sweep over every synchronized relation. */
export async function sweepDrift(engine: Engine, deps: DriftDeps): Promise<DriftReport> {
  const startedAt = new Date().toISOString();
  const requests: Record<ConnectorSlot, number> = { crm: 0, accounting: 0 };
  const report: Omit<DriftReport, 'finishedAt' | 'startedAt'> = {
    relations: 0,
    drifted: 0,
    fields: { missed: 0, inconsistent: 0, shadow: 0 },
    repaired: 0,
    requests,
    findings: [],
    stopped: false,
  };
  const byContact = groupByContact(await allSynchronizedRelations(engine));
  const total = [...byContact.values()].reduce((sum, relations) => sum + relations.length, 0);
  const contactIds = [...byContact.keys()];
  for (let start = 0; start < contactIds.length; start += CHUNK) {
    if (deps.signal?.aborted) {
      report.stopped = true;
      break;
    }
    const chunk = contactIds.slice(start, start + CHUNK);
    const relations = chunk.flatMap((id) => byContact.get(id) ?? []);
    const findings = await compareChunk(engine, deps, chunk, relations, requests);
    const repair = new Set<string>();
    for (const finding of findings) {
      report.drifted++;
      for (const field of finding.fields) report.fields[field.cause]++;
      if (report.findings.length < REPORT_FINDINGS) report.findings.push(finding);
      repair.add(finding.contactId);
    }
    await recordFindings(engine, findings);
    if (repair.size > 0) await deps.repair([...repair]);
    report.repaired += repair.size;
    report.relations += relations.length;
    deps.progress?.(report.relations, total);
  }
  const finishedAt = new Date().toISOString();
  engine.logger.info({ ...report, findings: undefined }, 'drift sweep done');
  return { startedAt, finishedAt, ...report };
}

/** Compares the relations of a chunk of contacts, reading each side in batches. */
async function compareChunk(
  engine: Engine,
  deps: DriftDeps,
  contactIds: string[],
  relations: BusinessRelation[],
  requests: Record<ConnectorSlot, number>,
): Promise<DriftFinding[]> {
  const read = async (slot: ConnectorSlot, entity: Entity, ids: string[]) => {
    const connector = slot === 'crm' ? engine.crm : engine.accounting;
    const records = await readMany(connector, entity, ids, async () => {
      await deps.pace[slot]();
      requests[slot]++;
    });
    // The sweep's reads are observations like any other (core/observe.ts).
    return engine.store.observeRecords(slot, records);
  };
  const contacts = new Map<string, Contact>();
  for (const record of await read('crm', 'contact', contactIds)) if (isContact(record)) contacts.set(record.id, record);
  const accounts = new Map<string, Account>();
  for (const kind of new Set(relations.map((relation) => relation.accountKind))) {
    const ids = relations.filter((relation) => relation.accountKind === kind).map((relation) => relation.accountId);
    for (const record of await read('accounting', kind, ids))
      if (isAccount(record)) accounts.set(`${kind}:${record.id}`, record);
  }
  const shadows = await engine.store.getShadows(relations.map((relation) => relation.id));

  const findings: DriftFinding[] = [];
  for (const relation of relations) {
    const base = {
      relationId: relation.id,
      contactId: relation.contactId,
      accountKind: relation.accountKind,
      accountId: relation.accountId,
    };
    // A contact merged into another carries no fields: its sync moves the relation, as for a missing one.
    const read = contacts.get(relation.contactId);
    const contact = read?.mergedInto ? undefined : read;
    const account = accounts.get(`${relation.accountKind}:${relation.accountId}`);
    if (!contact || !account) {
      findings.push({ ...base, missing: contact ? 'account' : 'contact', fields: [] });
      continue;
    }
    // A relation a sync filter leaves out may differ: that is what leaving it alone means.
    if (filteredSide(engine.config.filters[relation.accountKind], contact, account) !== null) continue;
    const fields = findDrift({
      contact,
      account,
      mappings: mappingsFor(engine.config, relation.accountKind),
      shadow: toShadowMap(shadows.get(relation.id) ?? []),
    });
    if (fields.length > 0) findings.push({ ...base, fields });
  }
  return findings;
}

/**
 * Audits each finding, and forgets the shadow of every inconsistent field in the same
 * transaction: with no shadow, the sync decides that field afresh by last-writer-wins.
 */
async function recordFindings(engine: Engine, findings: DriftFinding[]): Promise<void> {
  if (findings.length === 0) return;
  const forget: Array<Pick<ShadowEntry, 'relationId' | 'side' | 'field'>> = [];
  const audit: NewAuditEntry[] = findings.map((finding) => {
    for (const field of finding.fields.filter((drifted) => drifted.cause === 'inconsistent')) {
      forget.push({ relationId: finding.relationId, side: 'contact', field: field.contactField });
      forget.push({ relationId: finding.relationId, side: 'account', field: field.accountField });
    }
    return {
      kind: 'drift',
      relationId: finding.relationId,
      contactId: finding.contactId,
      accountKind: finding.accountKind,
      accountId: finding.accountId,
      field: finding.fields.length === 1 ? (finding.fields[0]?.contactField ?? null) : null,
      sourceSystem: null,
      details: {
        ...(finding.missing ? { missing: finding.missing } : {}),
        fields: finding.fields.map((field) => ({
          ...field,
          shadowContact: field.shadowContact ?? null,
          shadowAccount: field.shadowAccount ?? null,
        })),
        repair: 'the contact is synchronized again',
      },
    };
  });
  await engine.store.forgetShadow(forget, audit);
}

/** Reads records by id in the connector's batches (one call each), or one call per record. */
export async function readMany(
  connector: Connector,
  entity: Entity,
  ids: string[],
  beforeCall: () => Promise<void>,
): Promise<SyncRecord[]> {
  const unique = [...new Set(ids)];
  if (connector.batchGet) {
    const size = connector.limits?.batchSize?.read ?? 100;
    const records: SyncRecord[] = [];
    for (let start = 0; start < unique.length; start += size) {
      await beforeCall();
      records.push(...(await connector.batchGet(entity, unique.slice(start, start + size))));
    }
    return records;
  }
  const records: SyncRecord[] = [];
  for (const id of unique) {
    await beforeCall();
    const record = await connector.get(entity, id);
    if (record) records.push(record);
  }
  return records;
}

/** Every relation of a kind that is synchronized (its relation code is set). */
async function allSynchronizedRelations(engine: Engine): Promise<BusinessRelation[]> {
  const relations: BusinessRelation[] = [];
  const page = 500;
  for (let offset = 0; ; offset += page) {
    const batch = await engine.store.listRelations({ limit: page, offset });
    relations.push(...batch.filter((relation) => engine.config.relationCodes[relation.accountKind] !== null));
    if (batch.length < page) return relations;
  }
}

function groupByContact(relations: BusinessRelation[]): Map<string, BusinessRelation[]> {
  const byContact = new Map<string, BusinessRelation[]>();
  for (const relation of relations)
    byContact.set(relation.contactId, [...(byContact.get(relation.contactId) ?? []), relation]);
  return byContact;
}

/** The ceiling assumed for a connector that publishes no request limit (Tryton), in requests per second. */
const UNPUBLISHED_CEILING_PER_S = 10;

/**
 * The sweep's pace for one side: `share` of the tightest of the provider's published request
 * windows and the config's own `rateLimit`, as the interval between two read calls.
 */
export function driftIntervalMs(
  connector: Connector,
  rateLimit: { max: number; per: number } | undefined,
  share: number,
): number {
  const perMs = [
    ...windowsOf(connector.limits ?? {}).map((window) => window.max / window.perMs),
    ...(rateLimit ? [rateLimit.max / rateLimit.per] : []),
  ];
  const ceiling = perMs.length > 0 ? Math.min(...perMs) : UNPUBLISHED_CEILING_PER_S / 1000;
  return Math.ceil(1 / (ceiling * share));
}

/** Spaces calls `intervalMs` apart: the first goes at once, each next one waits for its turn. */
export function pacer(intervalMs: number, sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))) {
  let next = 0;
  return async (): Promise<void> => {
    const now = Date.now();
    const at = Math.max(now, next);
    next = at + intervalMs;
    if (at > now) await sleep(at - now);
  };
}
