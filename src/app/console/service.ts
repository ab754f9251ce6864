/** The console service: the operations of ConsoleService over one engine. */
import { randomUUID } from 'node:crypto';
import type { Connector, FieldDescription } from '../../../connectors/kit/types';
import { editableYaml, mergeEditable } from '../../config/editable';
import type { TandemConfig } from '../../config/schema';
import type { ChangeJob } from '../ports/changes';
import type { ConfigVersionChannel } from '../ports/config-channel';
import type { ConnectorActivity } from '../ports/connector-activity';
import type { DriftStatus } from '../ports/drift';
import type { FirstSyncStatus } from '../ports/first-sync';
import type { ConsoleQueues } from '../ports/queues';
import { InvalidAuditQueryError } from '../ports/store';
import type { Engine } from '../ports/index';
import type { Entity } from '../../core/model';
import { upstream } from '../relations/context';
import { ConflictProblem, InvalidInputProblem, NotFoundProblem } from '../ports/problems';
import type { RelationService } from '../ports/relations';
import { applyLosingValue, listConflicts, undo } from './conflicts';
import {
  configState,
  listConfigVersions,
  previewConfig,
  restoreConfigVersion,
  saveConfig,
  checkEditable,
  type ConfigContext,
} from './config';
import { auditToCsv } from './csv';
import { buildOverview } from './overview';
import { scanQueues } from './queues';
import { filterRows, relationRows } from './states';
import type { ConsoleService } from '../ports/console';

/** The console service with its optional operations present. */
export type FullConsoleService = Required<ConsoleService>;

/** What the console service runs with. */
export interface ConsoleDeps {
  engine: Engine;
  relations: RelationService;
  /** The queues (absent: no jobs are seen and resync is refused). */
  queues?: ConsoleQueues;
  /** When each connector last polled and renews its subscriptions next, for the overview. */
  activity?: ConnectorActivity;
  /** The drift sweep's state, for the overview. */
  drift?: () => Promise<DriftStatus>;
  /** The first sync's state, for the overview. */
  firstSync?: () => Promise<FirstSyncStatus>;
  /** Announces saved config versions to the other processes. */
  configChannel?: ConfigVersionChannel;
  /** The config as read from the file at start (default: the engine's config now). */
  fileConfig?: TandemConfig;
  /** Records read at once by the config preview (default 8). */
  readConcurrency?: number;
  /** Starts a drift sweep, which a save that changes mappings or filters asks for. */
  resync?: () => Promise<{ started: boolean }>;
  now?: () => Date;
}

/** Largest page of relation rows. */
const MAX_PAGE = 1000;

/** Creates the console service. */
export function createConsoleService(deps: ConsoleDeps): FullConsoleService {
  const { engine } = deps;
  const now = deps.now ?? (() => new Date());
  const configContext: ConfigContext = {
    engine,
    fileConfig: deps.fileConfig ?? engine.config,
    channel: deps.configChannel,
    readConcurrency: deps.readConcurrency ?? 8,
    resync: deps.resync,
  };

  const service: FullConsoleService = {
    async overview() {
      const scan = await scanQueues(deps.queues, { completed: true });
      const at = now();
      const rows = await relationRows(engine, scan, at);
      const drift = deps.drift ? await deps.drift() : null;
      const firstSync = deps.firstSync ? await deps.firstSync() : null;
      return buildOverview(engine, {
        queues: deps.queues,
        activity: deps.activity,
        drift,
        firstSync,
        scan,
        rows,
        now: at,
      });
    },
    async listRelationRows(filter) {
      const limit = filter.limit ?? 50;
      const offset = filter.offset ?? 0;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
        throw new InvalidInputProblem('limit', `must be an integer from 1 to ${MAX_PAGE}`);
      if (!Number.isInteger(offset) || offset < 0)
        throw new InvalidInputProblem('offset', 'must be a non-negative integer');
      const rows = filterRows(
        await relationRows(engine, await scanQueues(deps.queues, { completed: false }), now()),
        filter,
      );
      return { rows: rows.slice(offset, offset + limit), total: rows.length };
    },
    async resync(relationId, actor) {
      const relation = await engine.store.getRelation(relationId);
      if (relation === null) throw new NotFoundProblem(`relation ${relationId} does not exist`);
      if (!deps.queues) throw new ConflictProblem('NOT_SUPPORTED', 'this process has no queues to enqueue a sync on');
      // A fresh event id: a manual sync is never merged with an earlier change of the same record.
      const change: ChangeJob = {
        connector: 'crm',
        entity: 'contact',
        id: relation.contactId,
        source: 'manual',
        eventId: `resync-${randomUUID()}`,
      };
      const jobId = await deps.queues.enqueueChange(change);
      engine.logger.info(
        { relationId, contactId: relation.contactId, actor: actor.name },
        'sync requested from the console',
      );
      return { jobId };
    },
    listConflicts: (filter) => listConflicts(engine, filter),
    applyLosingValue: (auditId, input, actor) => applyLosingValue(engine, auditId, input, actor),
    undo: (auditId, actor) => undo(engine, auditId, actor),
    async auditCsv(query) {
      try {
        return auditToCsv(await engine.store.queryAudit(query));
      } catch (error) {
        if (error instanceof InvalidAuditQueryError) throw new InvalidInputProblem('limit', error.message);
        throw error;
      }
    },
    async rejectMatch(pair, actor) {
      for (const key of ['contactId', 'accountId'] as const) {
        if (typeof pair[key] !== 'string' || pair[key].trim() === '') throw new InvalidInputProblem(key, 'is required');
      }
      await engine.store.rejectMatch({
        contactId: pair.contactId,
        accountKind: pair.accountKind,
        accountId: pair.accountId,
        rejectedBy: actor.name,
      });
    },
    async proposeMatches(input) {
      const [proposal, rejections] = await Promise.all([
        deps.relations.proposeMatches(input),
        engine.store.listMatchRejections(),
      ]);
      const rejected = new Set(
        rejections.map((rejection) => `${rejection.contactId}|${rejection.accountKind}|${rejection.accountId}`),
      );
      const kept = (pair: { contactId: string; accountKind: string; accountId: string }) =>
        !rejected.has(`${pair.contactId}|${pair.accountKind}|${pair.accountId}`);
      return {
        pairs: proposal.pairs.filter(kept),
        // A contact or account that had several candidates stays for review even when one is left.
        review: proposal.review
          .map((entry) => ({ ...entry, candidates: entry.candidates.filter(kept) }))
          .filter((entry) => entry.candidates.length > 0),
      };
    },
    configState: () => configState(configContext),
    async describeFields(kind) {
      const described = (connector: Connector, entity: Entity): Promise<FieldDescription[]> =>
        connector.describeFields?.(entity) ??
        Promise.resolve(
          (connector.fields[entity] ?? []).map((name): FieldDescription => ({
            name,
            label: name,
            type: 'text',
            writable: true,
            custom: false,
          })),
        );
      if (!engine.accounting.entities.includes(kind))
        throw new InvalidInputProblem('kind', `the accounting connector has no ${kind} records`);
      const [contact, account] = await Promise.all([
        upstream('reading the CRM field schema', () => described(engine.crm, 'contact')),
        upstream('reading the accounting field schema', () => described(engine.accounting, kind)),
      ]);
      return { contact, account };
    },
    validateConfig: async (yaml) => (await checkEditable(configContext, yaml)).problems,
    editableConfig: (yaml) => {
      const merged = mergeEditable(engine.config, yaml);
      return Promise.resolve(merged.ok ? { ...merged.editable } : null);
    },
    previewConfig: (yaml) => previewConfig(configContext, yaml),
    saveConfig: (yaml, input, actor) => saveConfig(configContext, yaml, input, actor),
    listConfigVersions: () => listConfigVersions(configContext),
    restoreConfigVersion: (version, actor) => restoreConfigVersion(configContext, version, actor),
    importFileConfig: (actor) =>
      saveConfig(
        configContext,
        editableYaml(configContext.fileConfig),
        { comment: 'imported from the config file' },
        actor,
      ),
    async history(relationId, limit = 100) {
      if (!Number.isInteger(limit) || limit < 1) throw new InvalidInputProblem('limit', 'must be a positive integer');
      return engine.store.queryAudit({ relationId, limit, newestFirst: true });
    },
  };
  return service;
}
