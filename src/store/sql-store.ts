import { randomUUID } from 'node:crypto';
import type { AccountKind, BusinessRelation, ConnectorSlot, FieldValue, SyncRecord } from '../core/model';
import { carryValues, observeRecord, withObservedTimes, type RecordObservation } from '../core/observe';
import { DEFAULT_AUDIT_LIMIT, InvalidAuditQueryError, MAX_AUDIT_LIMIT } from '../app/ports/store';
import { Coalescer } from './coalesce';
import { runMigrations } from './migrate';
import {
  toAuditEntry,
  toBusinessRelation,
  toConfigVersion,
  toFirstSyncItem,
  toFirstSyncRun,
  toInteraction,
  toMatchRejection,
  toOperation,
  storedObservationFields,
  toRecordObservation,
  toRotatedSecret,
  toShadowEntry,
  toStagedAudit,
} from './rows';
import {
  constraintOf,
  sqlStateOf,
  UNIQUE_VIOLATION,
  type SqlExecutor,
  type SqlQueryable,
  type SqlRow,
} from './sql-executor';
import {
  FirstSyncOpenError,
  RelationConflictError,
  type AuditEntry,
  type FirstSyncItem,
  type FirstSyncItemOutcome,
  type FirstSyncRun,
  type AuditQuery,
  type MatchRejection,
  type NewAuditEntry,
  type NewInteraction,
  type NewRelation,
  type OperationClaim,
  type OperationState,
  type RotatedSecret,
  type ShadowEntry,
  type StagedAudit,
  type Store,
  type StoredConfigVersion,
  type StoredInteraction,
} from '../app/ports/store';

// Postgres accepts at most 65535 parameters per statement; batches stay well below.
const ROWS_PER_INSERT = 500;

const RELATION_COLUMNS = 'id, contact_id, account_kind, account_id, relation_code, origin, created_at';
const SHADOW_COLUMNS = 'relation_id, side, field, value, source_modified_at, synced_at';
const INTERACTION_COLUMNS =
  'id, contact_id, type, description, occurred_at, who, source, relation_id, details, created_at';
const OPERATION_COLUMNS = 'key, kind, state, result, error, started_at, request';
const AUDIT_COLUMNS =
  'id::text AS id, kind, relation_id, contact_id, account_kind, account_id, field, old_value, ' +
  'new_value, direction, source_system, source_modified_at, job_id, details, applied_at';

const CONFIG_VERSION_COLUMNS = 'version, saved_at, saved_by, comment, yaml';
const FIRST_SYNC_RUN_COLUMNS = 'id, state, started_at, finished_at, plan, report';
const FIRST_SYNC_ITEM_COLUMNS = 'seq, action, contact_id, account_kind, account_id, score, rule, outcome, reason';

const ACCOUNT_KIND_WORDS: Record<AccountKind, string> = {
  customer: 'customer',
  vendor: 'vendor',
  bankAccount: 'bank account',
};

/** Calls of one kind that one statement answers together (see coalesce.ts). */
const CALLS_PER_STATEMENT = 200;
/** The most rows one coalesced transaction reads or writes: short transactions hold their row locks briefly. */
const ROWS_PER_TRANSACTION = ROWS_PER_INSERT;

/** What observeRecords is asked, as one item of a coalesced run. */
interface Observation {
  records: readonly SyncRecord[];
  written?: ReadonlyMap<string, readonly string[]>;
}

/** What recordSync is asked. */
interface Recorded {
  shadow: readonly ShadowEntry[];
  audit: readonly NewAuditEntry[];
  settles?: string;
}

/** What recordCarried is asked. */
interface Carried {
  record: { entity: string; id: string };
  values: Readonly<Record<string, FieldValue>>;
  sources: Readonly<Record<string, string>>;
  replaced?: Readonly<Record<string, FieldValue>>;
}

/**
 * The `Store` over SQL: the same statements on Postgres and on PGlite. The calls every plan makes
 * (a contact's relations, an account's relation, shadows, staged audit, observations, webhook
 * event ids) are coalesced across concurrent callers into one statement each.
 */
export class SqlStore implements Store {
  private readonly relationsOfContacts: Coalescer<string, BusinessRelation[]>;
  private readonly relationsOfAccounts: Coalescer<readonly [AccountKind, string], BusinessRelation | null>;
  private readonly shadowsOf: Coalescer<readonly string[], Map<string, ShadowEntry[]>>;
  private readonly stagedOf: Coalescer<string, StagedAudit[]>;
  private readonly observations = new Map<ConnectorSlot, Coalescer<Observation, SyncRecord[]>>();
  private readonly eventMarks: Coalescer<readonly [string, string], boolean>;
  private readonly syncs: Coalescer<Recorded, undefined>;
  private readonly relationCreates: Coalescer<NewRelation, BusinessRelation>;
  private readonly interactions: Coalescer<NewInteraction, StoredInteraction>;
  private readonly audits: Coalescer<NewAuditEntry[], undefined>;
  private readonly stagings: Coalescer<StagedAudit, undefined>;
  private readonly carries = new Map<ConnectorSlot, Coalescer<Carried, undefined>>();

  constructor(private readonly sql: SqlExecutor) {
    this.relationsOfContacts = this.coalescer((ids) => this.relationsByContacts(ids));
    this.relationsOfAccounts = this.coalescer((accounts) => this.relationsByAccounts(accounts));
    this.shadowsOf = this.coalescer((lists) => this.shadowsByRelations(lists));
    this.stagedOf = this.coalescer((ids) => this.stagedByContacts(ids));
    this.eventMarks = this.coalescer((events) => this.markEvents(events), {
      // The same event twice in one statement would be inserted once but answered for both.
      keys: ([source, eventId]) => [JSON.stringify([source, eventId])],
    });
    this.syncs = this.coalescer((items) => this.recordSyncs(items), {
      // Two plans of one relation, or two settling one staged plan, never share a transaction.
      keys: (item) => [
        ...item.shadow.map((entry) => `relation:${entry.relationId}`),
        ...(item.settles === undefined ? [] : [`plan:${item.settles}`]),
      ],
      weight: (item) => item.shadow.length + item.audit.length,
    });
    this.relationCreates = this.coalescer((relations) => this.createRelations(relations), {
      // Two creates that could clash go one after the other, so that the second fails alone.
      keys: (relation) => [`contact:${relation.contactId}`, `account:${relation.accountKind}:${relation.accountId}`],
    });
    // Listed newest first by their time and then their insert time, which the rows of one
    // statement share: a statement carries at most one interaction of a contact, and a contact's
    // next one goes out only after it, so they list in the order they were made.
    this.interactions = this.coalescer((items) => this.appendInteractions(items), {
      keys: (item) => [item.contactId],
    });
    this.audits = this.coalescer((lists) => this.appendAudits(lists), { weight: (entries) => entries.length });
    this.stagings = this.coalescer((items) => this.stageAudits(items), {
      keys: (item) => [item.planId],
      weight: (item) => item.entries.length,
    });
  }

  private coalescer<I, O>(
    runMany: (items: readonly I[]) => Promise<readonly O[]>,
    options: { keys?: (item: I) => readonly string[]; weight?: (item: I) => number } = {},
  ): Coalescer<I, O> {
    // PGlite runs one statement at a time; a Postgres pool runs several.
    const parallel = this.sql.backend === 'pglite' ? 1 : 4;
    return new Coalescer(runMany, {
      maxItems: CALLS_PER_STATEMENT,
      maxWeight: ROWS_PER_TRANSACTION,
      parallel,
      ...options,
    });
  }

  migrate(): Promise<void> {
    return runMigrations(this.sql);
  }

  close(): Promise<void> {
    return this.sql.close();
  }

  checkReachable(): Promise<void> {
    return this.sql.checkReachable();
  }

  createRelation(relation: NewRelation): Promise<BusinessRelation> {
    return this.relationCreates.submit(relation);
  }

  /** Creates many relations in one statement; a clash fails the run, which then runs each alone. */
  private async createRelations(relations: readonly NewRelation[]): Promise<BusinessRelation[]> {
    const ids = relations.map(() => randomUUID());
    try {
      const rows = await this.sql.query(
        `INSERT INTO business_relation (id, contact_id, account_kind, account_id, relation_code, origin)
         VALUES ${placeholders(relations.length, 6)}
         RETURNING ${RELATION_COLUMNS}`,
        relations.flatMap((relation, index) => [
          ids[index],
          relation.contactId,
          relation.accountKind,
          relation.accountId,
          relation.relationCode,
          relation.origin,
        ]),
      );
      const created = new Map(rows.map((row) => [String(row.id), toBusinessRelation(row)]));
      return ids.map((id) => returnedRow(created, id));
    } catch (error) {
      const [only] = relations;
      if (relations.length > 1 || only === undefined || sqlStateOf(error) !== UNIQUE_VIOLATION) throw error;
      throw await this.describeConflict(only, constraintOf(error), error);
    }
  }

  async getRelation(id: string): Promise<BusinessRelation | null> {
    const rows = await this.sql.query(`SELECT ${RELATION_COLUMNS} FROM business_relation WHERE id = $1`, [id]);
    return rows[0] === undefined ? null : toBusinessRelation(rows[0]);
  }

  findRelationsByContact(contactId: string): Promise<BusinessRelation[]> {
    return this.relationsOfContacts.submit(contactId);
  }

  findRelationByAccount(kind: AccountKind, accountId: string): Promise<BusinessRelation | null> {
    return this.relationsOfAccounts.submit([kind, accountId]);
  }

  private async relationsByContacts(contactIds: readonly string[]): Promise<BusinessRelation[][]> {
    const rows = await this.sql.query(
      `SELECT ${RELATION_COLUMNS} FROM business_relation WHERE contact_id = ANY($1::text[])
       ORDER BY contact_id, account_kind, created_at, id`,
      [[...new Set(contactIds)]],
    );
    const byContact = groupBy(rows.map(toBusinessRelation), (relation) => relation.contactId);
    return contactIds.map((id) => byContact.get(id) ?? []);
  }

  private async relationsByAccounts(
    accounts: readonly (readonly [AccountKind, string])[],
  ): Promise<(BusinessRelation | null)[]> {
    const rows = await this.sql.query(
      `SELECT ${RELATION_COLUMNS} FROM business_relation
       WHERE (account_kind, account_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [accounts.map(([kind]) => kind), accounts.map(([, id]) => id)],
    );
    const byAccount = new Map(
      rows.map(toBusinessRelation).map((relation) => [`${relation.accountKind}|${relation.accountId}`, relation]),
    );
    return accounts.map(([kind, id]) => byAccount.get(`${kind}|${id}`) ?? null);
  }

  async listRelations(
    options: { kind?: AccountKind; limit?: number; offset?: number } = {},
  ): Promise<BusinessRelation[]> {
    // LIMIT NULL means no limit, so one statement covers every combination of options.
    const rows = await this.sql.query(
      `SELECT ${RELATION_COLUMNS} FROM business_relation
       WHERE ($1::text IS NULL OR account_kind = $1::text)
       ORDER BY created_at, id
       LIMIT $2::integer OFFSET $3::integer`,
      [options.kind ?? null, options.limit ?? null, options.offset ?? 0],
    );
    return rows.map(toBusinessRelation);
  }

  async deleteRelation(id: string): Promise<boolean> {
    // relation_shadow rows go with it (ON DELETE CASCADE); audit rows stay.
    const rows = await this.sql.query('DELETE FROM business_relation WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  async replaceRelation(
    id: string,
    replacement: NewRelation | null,
    audit: NewAuditEntry,
  ): Promise<BusinessRelation | null> {
    try {
      return await this.sql.transaction(async (tx) => {
        await tx.query('DELETE FROM business_relation WHERE id = $1', [id]);
        let created: BusinessRelation | null = null;
        if (replacement !== null) {
          const [row] = await tx.query(
            `INSERT INTO business_relation (id, contact_id, account_kind, account_id, relation_code, origin)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${RELATION_COLUMNS}`,
            [
              randomUUID(),
              replacement.contactId,
              replacement.accountKind,
              replacement.accountId,
              replacement.relationCode,
              replacement.origin,
            ],
          );
          created = row === undefined ? null : toBusinessRelation(row);
        }
        await insertAudit(tx, [created ? { ...audit, relationId: created.id } : audit]);
        return created;
      });
    } catch (error) {
      if (replacement === null || sqlStateOf(error) !== UNIQUE_VIOLATION) throw error;
      throw await this.describeConflict(replacement, constraintOf(error), error);
    }
  }

  async getShadow(relationId: string): Promise<ShadowEntry[]> {
    const rows = await this.sql.query(
      `SELECT ${SHADOW_COLUMNS} FROM relation_shadow WHERE relation_id = $1 ORDER BY side, field`,
      [relationId],
    );
    return rows.map(toShadowEntry);
  }

  async getShadows(relationIds: string[]): Promise<Map<string, ShadowEntry[]>> {
    if (relationIds.length === 0) return new Map();
    return this.shadowsOf.submit(relationIds);
  }

  private async shadowsByRelations(lists: readonly (readonly string[])[]): Promise<Map<string, ShadowEntry[]>[]> {
    // As one JSON array: a driver parses it in one go, many times faster than as many rows.
    const [result] = await this.sql.query(
      `SELECT json_agg(json_build_object(${SHADOW_COLUMNS.split(', ')
        .map((column) => `'${column}', ${column}`)
        .join(', ')}) ORDER BY relation_id, side, field) AS rows
       FROM relation_shadow WHERE relation_id = ANY($1::text[])`,
      [[...new Set(lists.flat())]],
    );
    const byRelation = groupBy(jsonRows(result?.['rows']).map(toShadowEntry), (entry) => entry.relationId);
    return lists.map((ids) => {
      const shadows = new Map<string, ShadowEntry[]>();
      for (const id of ids) {
        const entries = byRelation.get(id);
        if (entries !== undefined) shadows.set(id, entries);
      }
      return shadows;
    });
  }

  recordSync(shadow: ShadowEntry[], audit: NewAuditEntry[], settles?: string): Promise<void> {
    return this.syncs.submit({ shadow, audit, ...(settles !== undefined && { settles }) });
  }

  private recordSyncs(items: readonly Recorded[]): Promise<undefined[]> {
    return this.sql.transaction(async (tx) => {
      await upsertShadow(
        tx,
        items.flatMap((item) => item.shadow),
      );
      // A plan whose staged audit the recovery already settled has been recorded once.
      const settled = await unstage(
        tx,
        items.flatMap((item) => (item.settles === undefined ? [] : [item.settles])),
      );
      await insertAudit(
        tx,
        items.flatMap((item) => (item.settles === undefined || settled.has(item.settles) ? item.audit : [])),
      );
      return items.map(() => undefined);
    });
  }

  stageAudit(staged: StagedAudit): Promise<void> {
    return this.stagings.submit(staged);
  }

  private async stageAudits(items: readonly StagedAudit[]): Promise<undefined[]> {
    const casts = ['', '', '::jsonb', '::jsonb'];
    await this.sql.query(
      `INSERT INTO staged_audit (plan_id, contact_id, job_ids, entries)
       VALUES ${placeholders(items.length, casts.length, casts)}
       ON CONFLICT (plan_id) DO UPDATE SET job_ids = EXCLUDED.job_ids, entries = EXCLUDED.entries`,
      items.flatMap((staged) => [
        staged.planId,
        staged.contactId,
        JSON.stringify(staged.jobIds),
        JSON.stringify(staged.entries),
      ]),
    );
    return items.map(() => undefined);
  }

  stagedAudit(contactId: string): Promise<StagedAudit[]> {
    return this.stagedOf.submit(contactId);
  }

  private async stagedByContacts(contactIds: readonly string[]): Promise<StagedAudit[][]> {
    const rows = await this.sql.query(
      `SELECT plan_id, contact_id, job_ids, entries FROM staged_audit WHERE contact_id = ANY($1::text[])
       ORDER BY staged_at, plan_id`,
      [[...new Set(contactIds)]],
    );
    const byContact = groupBy(rows.map(toStagedAudit), (staged) => staged.contactId);
    return contactIds.map((id) => byContact.get(id) ?? []);
  }

  settleStagedAudit(planId: string, audit: NewAuditEntry[]): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      if (!(await unstage(tx, [planId])).has(planId)) return false;
      await insertAudit(tx, audit);
      return true;
    });
  }

  recordCarried(
    slot: ConnectorSlot,
    record: { entity: string; id: string },
    values: Readonly<Record<string, FieldValue>>,
    sources: Readonly<Record<string, string>>,
    replaced?: Readonly<Record<string, FieldValue>>,
  ): Promise<void> {
    let carries = this.carries.get(slot);
    if (carries === undefined) {
      carries = this.coalescer((items) => this.carryMany(slot, items), {
        keys: (item) => [JSON.stringify([item.record.entity, item.record.id])],
      });
      this.carries.set(slot, carries);
    }
    return carries.submit({ record, values, sources, ...(replaced && { replaced }) });
  }

  private carryMany(slot: ConnectorSlot, items: readonly Carried[]): Promise<undefined[]> {
    return this.sql.transaction(async (tx) => {
      const rows = await tx.query(
        `SELECT entity, record_id, modified_at, fields FROM record_observation
         WHERE connector_slot = $1 AND (entity, record_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
         ORDER BY entity, record_id
         FOR UPDATE`,
        [slot, items.map((item) => item.record.entity), items.map((item) => item.record.id)],
      );
      const observed = new Map(
        rows.map((row) => [JSON.stringify([String(row.entity), String(row.record_id)]), toRecordObservation(row)]),
      );
      const updates = items.flatMap(({ record, values, sources, replaced }) => {
        const observation = observed.get(JSON.stringify([record.entity, record.id]));
        if (observation === undefined) return [];
        return [{ record, fields: carryValues(observation, values, sources, replaced).fields }];
      });
      if (updates.length > 0)
        await tx.query(
          `UPDATE record_observation AS observation SET fields = carried.fields::jsonb, observed_at = now()
           FROM unnest($2::text[], $3::text[], $4::text[]) AS carried (entity, record_id, fields)
           WHERE observation.connector_slot = $1 AND observation.entity = carried.entity
             AND observation.record_id = carried.record_id`,
          [
            slot,
            updates.map((update) => update.record.entity),
            updates.map((update) => update.record.id),
            updates.map((update) => storedObservationFields(update.fields)),
          ],
        );
      return items.map(() => undefined);
    });
  }

  forgetShadow(
    entries: Array<Pick<ShadowEntry, 'relationId' | 'side' | 'field'>>,
    audit: NewAuditEntry[],
  ): Promise<void> {
    return this.sql.transaction(async (tx) => {
      for (const batch of chunks(entries, ROWS_PER_INSERT)) {
        await tx.query(
          `DELETE FROM relation_shadow
           WHERE (relation_id, side, field) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
          [batch.map((entry) => entry.relationId), batch.map((entry) => entry.side), batch.map((entry) => entry.field)],
        );
      }
      await insertAudit(tx, audit);
    });
  }

  async observeRecords<R extends SyncRecord>(
    slot: ConnectorSlot,
    records: readonly R[],
    written?: ReadonlyMap<string, readonly string[]>,
  ): Promise<R[]> {
    if (records.length === 0) return [];
    let observations = this.observations.get(slot);
    if (observations === undefined) {
      observations = this.coalescer((items) => this.observeMany(slot, items), {
        // `written` is keyed by record id: calls naming one id never share a statement.
        keys: (item) => item.records.map((record) => record.id),
        weight: (item) => item.records.length,
      });
      this.observations.set(slot, observations);
    }
    return (await observations.submit({ records, ...(written && { written }) })) as R[];
  }

  /** Several calls' observations in one transaction, each call answered with its own records. */
  private async observeMany(slot: ConnectorSlot, items: readonly Observation[]): Promise<SyncRecord[][]> {
    const written = new Map(items.flatMap((item) => [...(item.written ?? [])]));
    const observed = await this.observeNow(
      slot,
      items.flatMap((item) => item.records),
      written,
    );
    let offset = 0;
    return items.map((item) => observed.slice(offset, (offset += item.records.length)));
  }

  private observeNow<R extends SyncRecord>(
    slot: ConnectorSlot,
    records: readonly R[],
    written: ReadonlyMap<string, readonly string[]>,
  ): Promise<R[]> {
    return this.sql.transaction(async (tx) => {
      const key = (entity: string, id: string) => JSON.stringify([entity, id]);
      const previous = new Map<string, RecordObservation>();
      for (const batch of chunks(records, ROWS_PER_INSERT)) {
        const rows = await tx.query(
          // The keys as arrays, not a list of (entity, id) rows: PGlite loses its transaction state
          // on a row list of a few hundred (test/contract/store.contract.ts).
          `SELECT entity, record_id, modified_at, fields FROM record_observation
           WHERE connector_slot = $1 AND (entity, record_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
           ORDER BY entity, record_id
           FOR UPDATE`,
          [slot, batch.map((record) => record.entity), batch.map((record) => record.id)],
        );
        for (const row of rows) previous.set(key(String(row.entity), String(row.record_id)), toRecordObservation(row));
      }
      const stored = new Map(previous);
      // A record read twice in one call is observed in order, the later read on top of the earlier.
      for (const record of records) {
        const id = key(record.entity, record.id);
        previous.set(id, observeRecord(previous.get(id) ?? null, record, written.get(record.id)));
      }
      const observed = records.map((record) => ({ record, key: key(record.entity, record.id) }));
      // In key order, so that concurrent transactions take the rows they share in the same order.
      const latest = [...new Map(observed.map((entry) => [entry.key, entry.record])).entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, record]) => record)
        // A read that taught nothing new (the record as last observed) is not stored again.
        .filter((record) => {
          const id = key(record.entity, record.id);
          return !sameObservation(stored.get(id), previous.get(id) as RecordObservation);
        });
      for (const batch of chunks(latest, ROWS_PER_INSERT)) {
        const observations = batch.map((record) => previous.get(key(record.entity, record.id)) as RecordObservation);
        // One array per column (see upsertShadow).
        await tx.query(
          `INSERT INTO record_observation (connector_slot, entity, record_id, modified_at, fields)
           SELECT $1, entity, record_id, modified_at, fields::jsonb
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS seen (entity, record_id, modified_at, fields)
           ON CONFLICT (connector_slot, entity, record_id) DO UPDATE SET
             modified_at = EXCLUDED.modified_at, fields = EXCLUDED.fields, observed_at = now()`,
          [
            slot,
            batch.map((record) => record.entity),
            batch.map((record) => record.id),
            observations.map((observation) => observation.modifiedAt),
            observations.map((observation) => storedObservationFields(observation.fields)),
          ],
        );
      }
      return observed.map((entry) => withObservedTimes(entry.record, previous.get(entry.key) as RecordObservation));
    });
  }

  async appendAudit(entries: NewAuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.audits.submit(entries);
  }

  /** Each call's entries land together or not at all; the calls of one run share a transaction. */
  private async appendAudits(lists: readonly NewAuditEntry[][]): Promise<undefined[]> {
    await this.sql.transaction((tx) => insertAudit(tx, lists.flat()));
    return lists.map(() => undefined);
  }

  async queryAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const limit = auditLimit(query.limit);
    const conditions: string[] = [];
    const params: unknown[] = [];
    const where = (column: string, value: string | undefined, operator = '=', cast = '') => {
      if (value === undefined) return;
      params.push(value);
      conditions.push(`${column} ${operator} $${params.length}${cast}`);
    };
    where('contact_id', query.contactId);
    where('account_kind', query.accountKind);
    where('account_id', query.accountId);
    where('relation_id', query.relationId);
    where('kind', query.kind);
    where('field', query.field);
    where('applied_at', query.from, '>=', '::timestamptz');
    where('applied_at', query.to, '<', '::timestamptz');
    params.push(limit);
    // Qualified in ORDER BY: a bare 'id' would mean the id::text output column (sorts 10 before 9).
    const rows = await this.sql.query(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log
       ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
       ORDER BY audit_log.applied_at ${query.newestFirst ? 'DESC' : ''}, audit_log.id ${query.newestFirst ? 'DESC' : ''}
       LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAuditEntry);
  }

  async getCursor(connector: string, entity: string): Promise<string | null> {
    const rows = await this.sql.query('SELECT cursor FROM connector_cursor WHERE connector = $1 AND entity = $2', [
      connector,
      entity,
    ]);
    const cursor = rows[0]?.['cursor'];
    return typeof cursor === 'string' ? cursor : null;
  }

  async setCursor(connector: string, entity: string, cursor: string): Promise<void> {
    await this.sql.query(
      `INSERT INTO connector_cursor (connector, entity, cursor) VALUES ($1, $2, $3)
       ON CONFLICT (connector, entity) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()`,
      [connector, entity, cursor],
    );
  }

  async listRotatedSecrets(): Promise<RotatedSecret[]> {
    const rows = await this.sql.query(
      'SELECT connector_slot, name, value, rotated_at FROM rotated_secret ORDER BY connector_slot, name',
    );
    return rows.map(toRotatedSecret);
  }

  async saveRotatedSecret(slot: ConnectorSlot, name: string, value: string): Promise<void> {
    await this.sql.query(
      `INSERT INTO rotated_secret (connector_slot, name, value) VALUES ($1, $2, $3)
       ON CONFLICT (connector_slot, name) DO UPDATE SET value = EXCLUDED.value, rotated_at = now()`,
      [slot, name, value],
    );
  }

  async revokeSession(id: string, expiresAt: Date): Promise<void> {
    await this.sql.query('DELETE FROM revoked_session WHERE expires_at < now()');
    await this.sql.query('INSERT INTO revoked_session (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [
      id,
      expiresAt.toISOString(),
    ]);
  }

  async isSessionRevoked(id: string): Promise<boolean> {
    const rows = await this.sql.query('SELECT 1 FROM revoked_session WHERE id = $1', [id]);
    return rows.length > 0;
  }

  markEventProcessed(source: string, eventId: string): Promise<boolean> {
    return this.eventMarks.submit([source, eventId]);
  }

  private async markEvents(events: readonly (readonly [string, string])[]): Promise<boolean[]> {
    const rows = await this.sql.query(
      `INSERT INTO processed_event (source, event_id) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id`,
      [events.map(([source]) => source), events.map(([, id]) => id)],
    );
    const inserted = new Set(rows.map((row) => JSON.stringify([String(row.source), String(row.event_id)])));
    return events.map((event) => inserted.has(JSON.stringify(event)));
  }

  async forgetProcessedEvent(source: string, eventId: string): Promise<void> {
    await this.sql.query('DELETE FROM processed_event WHERE source = $1 AND event_id = $2', [source, eventId]);
  }

  async pruneProcessedEvents(before: string): Promise<number> {
    const rows = await this.sql.query(
      `WITH pruned AS (DELETE FROM processed_event WHERE seen_at < $1::timestamptz RETURNING 1)
       SELECT count(*)::integer AS pruned FROM pruned`,
      [before],
    );
    const pruned = rows[0]?.['pruned'];
    return typeof pruned === 'number' ? pruned : 0;
  }

  appendInteraction(interaction: NewInteraction): Promise<StoredInteraction> {
    return this.interactions.submit(interaction);
  }

  private async appendInteractions(interactions: readonly NewInteraction[]): Promise<StoredInteraction[]> {
    const ids = interactions.map(() => randomUUID());
    const casts = ['', '', '', '', '::timestamptz', '', '', '', '::jsonb'];
    const rows = await this.sql.query(
      `INSERT INTO interaction (id, contact_id, type, description, occurred_at, who, source, relation_id, details)
       VALUES ${placeholders(interactions.length, casts.length, casts)}
       RETURNING ${INTERACTION_COLUMNS}`,
      interactions.flatMap((interaction, index) => [
        ids[index],
        interaction.contactId,
        interaction.type,
        interaction.description,
        interaction.occurredAt,
        interaction.who,
        interaction.source,
        interaction.relationId ?? null,
        interaction.details == null ? null : JSON.stringify(interaction.details),
      ]),
    );
    const stored = new Map(rows.map((row) => [String(row.id), toInteraction(row)]));
    return ids.map((id) => returnedRow(stored, id));
  }

  async listInteractions(contactId: string, options: { limit?: number } = {}): Promise<StoredInteraction[]> {
    const rows = await this.sql.query(
      `SELECT ${INTERACTION_COLUMNS} FROM interaction WHERE contact_id = $1
       ORDER BY occurred_at DESC, seq DESC
       LIMIT $2::integer`,
      [contactId, auditLimit(options.limit)],
    );
    return rows.map(toInteraction);
  }

  async claimOperation(key: string, kind: string, leaseMs: number, request?: string): Promise<OperationClaim> {
    // One statement decides who runs it: a new key is inserted; a failed one, or one started
    // longer ago than the lease (its process died), is taken over, but only for the request it
    // was first used for (or by a key stored before requests were). Anything else is left alone.
    const claimed = await this.sql.query(
      `INSERT INTO relation_operation (key, kind, state, request) VALUES ($1, $2, 'started', $4)
       ON CONFLICT (key) DO UPDATE SET state = 'started', error = NULL, started_at = now(),
           request = COALESCE(relation_operation.request, EXCLUDED.request)
         WHERE (relation_operation.state = 'failed'
                OR (relation_operation.state = 'started'
                    AND relation_operation.started_at < now() - ($3::integer * interval '1 millisecond')))
           AND (relation_operation.request IS NULL OR relation_operation.request IS NOT DISTINCT FROM $4)
       RETURNING ${OPERATION_COLUMNS}`,
      [key, kind, leaseMs, request ?? null],
    );
    if (claimed[0] !== undefined) return { claimed: true, operation: toOperation(claimed[0]) };
    const current = await this.getOperation(key);
    if (current === null) throw new Error(`operation ${key} vanished while being claimed`);
    return { claimed: false, operation: current };
  }

  async completeOperation(key: string, result: Record<string, unknown>): Promise<void> {
    await this.sql.query(
      `UPDATE relation_operation SET state = 'done', result = $2::jsonb, finished_at = now()
       WHERE key = $1`,
      [key, JSON.stringify(result)],
    );
  }

  async failOperation(key: string, error: string): Promise<void> {
    await this.sql.query(
      `UPDATE relation_operation SET state = 'failed', error = $2, finished_at = now()
       WHERE key = $1 AND state = 'started'`,
      [key, error],
    );
  }

  async forgetOperation(key: string): Promise<void> {
    await this.sql.query(`DELETE FROM relation_operation WHERE key = $1 AND state = 'started'`, [key]);
  }

  async getOperation(key: string): Promise<OperationState | null> {
    const rows = await this.sql.query(`SELECT ${OPERATION_COLUMNS} FROM relation_operation WHERE key = $1`, [key]);
    return rows[0] === undefined ? null : toOperation(rows[0]);
  }

  async getAuditEntry(id: string): Promise<AuditEntry | null> {
    // Audit ids are bigints: anything else cannot name an entry (and would fail the cast).
    if (!/^\d{1,18}$/.test(id)) return null;
    const rows = await this.sql.query(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE id = $1::bigint`, [id]);
    return rows[0] === undefined ? null : toAuditEntry(rows[0]);
  }

  async auditReferencing(key: 'overrides' | 'undoes', auditIds: string[]): Promise<AuditEntry[]> {
    if (auditIds.length === 0) return [];
    // The key is one of two literals, never caller text; the index of migration 3 serves it.
    const rows = await this.sql.query(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE details->>'${key === 'overrides' ? 'overrides' : 'undoes'}' = ANY($1::text[])
       ORDER BY audit_log.applied_at, audit_log.id`,
      [[...new Set(auditIds)]],
    );
    return rows.map(toAuditEntry);
  }

  async latestAuditAt(relationIds?: string[]): Promise<Map<string, string>> {
    const rows = await this.sql.query(
      `SELECT relation_id, max(applied_at) AS applied_at FROM audit_log
       WHERE relation_id IS NOT NULL AND ($1::text[] IS NULL OR relation_id = ANY($1::text[]))
       GROUP BY relation_id`,
      [relationIds === undefined ? null : [...new Set(relationIds)]],
    );
    const latest = new Map<string, string>();
    for (const row of rows) {
      const at = row['applied_at'];
      const date = at instanceof Date ? at : new Date(String(at));
      latest.set(String(row['relation_id']), date.toISOString());
    }
    return latest;
  }

  async rejectMatch(rejection: Omit<MatchRejection, 'rejectedAt'>): Promise<void> {
    await this.sql.query(
      `INSERT INTO match_rejection (contact_id, account_kind, account_id, rejected_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (contact_id, account_kind, account_id) DO NOTHING`,
      [rejection.contactId, rejection.accountKind, rejection.accountId, rejection.rejectedBy],
    );
  }

  async listMatchRejections(): Promise<MatchRejection[]> {
    const rows = await this.sql.query(
      `SELECT contact_id, account_kind, account_id, rejected_by, rejected_at FROM match_rejection
       ORDER BY rejected_at, contact_id, account_kind, account_id`,
    );
    return rows.map(toMatchRejection);
  }

  async startFirstSyncRun(
    run: { id: string; startedAt: string; plan: Record<string, unknown> },
    items: ReadonlyArray<Omit<FirstSyncItem, 'outcome' | 'reason'>>,
  ): Promise<void> {
    try {
      await this.insertFirstSyncRun(run, items);
    } catch (error) {
      // Two starts at once: the unique index on the open run turns the second away.
      if (sqlStateOf(error) !== UNIQUE_VIOLATION || constraintOf(error) !== 'first_sync_run_open_idx') throw error;
      const open = await this.openFirstSyncRun();
      throw new FirstSyncOpenError(open?.id ?? 'unknown');
    }
  }

  private async insertFirstSyncRun(
    run: { id: string; startedAt: string; plan: Record<string, unknown> },
    items: ReadonlyArray<Omit<FirstSyncItem, 'outcome' | 'reason'>>,
  ): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const open = await tx.query(`SELECT id FROM first_sync_run WHERE state = 'linking'`);
      if (open.length > 0) throw new FirstSyncOpenError(String(open[0]?.['id']));
      await tx.query(
        `INSERT INTO first_sync_run (id, state, started_at, plan) VALUES ($1, 'linking', $2::timestamptz, $3::jsonb)`,
        [run.id, run.startedAt, JSON.stringify(run.plan)],
      );
      const width = 8;
      for (const batch of chunks(items, ROWS_PER_INSERT)) {
        await tx.query(
          `INSERT INTO first_sync_item (run_id, seq, action, contact_id, account_kind, account_id, score, rule)
           VALUES ${placeholders(batch.length, width)}`,
          batch.flatMap((item) => [
            run.id,
            item.seq,
            item.action,
            item.contactId,
            item.accountKind,
            item.accountId,
            item.score,
            item.rule,
          ]),
        );
      }
    });
  }

  async openFirstSyncRun(): Promise<FirstSyncRun | null> {
    const rows = await this.sql.query(
      `SELECT ${FIRST_SYNC_RUN_COLUMNS} FROM first_sync_run WHERE state = 'linking' ORDER BY started_at LIMIT 1`,
    );
    return rows[0] ? toFirstSyncRun(rows[0]) : null;
  }

  async pendingFirstSyncItems(runId: string, limit: number): Promise<FirstSyncItem[]> {
    const rows = await this.sql.query(
      `SELECT ${FIRST_SYNC_ITEM_COLUMNS} FROM first_sync_item
       WHERE run_id = $1 AND outcome IS NULL ORDER BY seq LIMIT $2`,
      [runId, limit],
    );
    return rows.map(toFirstSyncItem);
  }

  async settleFirstSyncItems(
    runId: string,
    outcomes: ReadonlyArray<{ seq: number; outcome: FirstSyncItemOutcome; reason: string | null }>,
  ): Promise<void> {
    for (const batch of chunks(outcomes, ROWS_PER_INSERT)) {
      await this.sql.query(
        `UPDATE first_sync_item AS item SET outcome = settled.outcome, reason = settled.reason
         FROM (VALUES ${placeholders(batch.length, 3, ['::integer', '::text', '::text'], 1)})
           AS settled (seq, outcome, reason)
         WHERE item.run_id = $1 AND item.seq = settled.seq`,
        [runId, ...batch.flatMap((entry) => [entry.seq, entry.outcome, entry.reason])],
      );
    }
  }

  async tallyFirstSyncRun(
    runId: string,
    failures: number,
  ): Promise<{ counts: Record<FirstSyncItemOutcome | 'pending', number>; failed: FirstSyncItem[] }> {
    const counts: Record<FirstSyncItemOutcome | 'pending', number> = {
      linked: 0,
      created: 0,
      alreadyLinked: 0,
      failed: 0,
      pending: 0,
    };
    const rows = await this.sql.query(
      `SELECT coalesce(outcome, 'pending') AS outcome, count(*)::integer AS n FROM first_sync_item
       WHERE run_id = $1 GROUP BY 1`,
      [runId],
    );
    for (const row of rows) counts[row['outcome'] as keyof typeof counts] = Number(row['n']);
    const failed = await this.sql.query(
      `SELECT ${FIRST_SYNC_ITEM_COLUMNS} FROM first_sync_item
       WHERE run_id = $1 AND outcome = 'failed' ORDER BY seq LIMIT $2`,
      [runId, failures],
    );
    return { counts, failed: failed.map(toFirstSyncItem) };
  }

  async finishFirstSyncRun(runId: string, report: Record<string, unknown>): Promise<void> {
    await this.sql.query(
      `UPDATE first_sync_run SET state = 'done', finished_at = now(), report = $2::jsonb WHERE id = $1`,
      [runId, JSON.stringify(report)],
    );
  }

  async saveConfigVersion(input: {
    savedBy: string;
    comment: string | null;
    yaml: string;
  }): Promise<StoredConfigVersion> {
    const rows = await this.sql.query(
      `INSERT INTO config_version (saved_by, comment, yaml) VALUES ($1, $2, $3)
       RETURNING ${CONFIG_VERSION_COLUMNS}`,
      [input.savedBy, input.comment, input.yaml],
    );
    return toConfigVersion(single(rows, 'INSERT ... RETURNING'));
  }

  async getConfigVersion(version: number): Promise<StoredConfigVersion | null> {
    if (!Number.isSafeInteger(version)) return null;
    const rows = await this.sql.query(
      `SELECT ${CONFIG_VERSION_COLUMNS} FROM config_version WHERE version = $1::integer`,
      [version],
    );
    return rows[0] === undefined ? null : toConfigVersion(rows[0]);
  }

  async latestConfigVersion(): Promise<StoredConfigVersion | null> {
    const rows = await this.sql.query(
      `SELECT ${CONFIG_VERSION_COLUMNS} FROM config_version ORDER BY version DESC LIMIT 1`,
    );
    return rows[0] === undefined ? null : toConfigVersion(rows[0]);
  }

  async listConfigVersions(): Promise<StoredConfigVersion[]> {
    const rows = await this.sql.query(`SELECT ${CONFIG_VERSION_COLUMNS} FROM config_version ORDER BY version DESC`);
    return rows.map(toConfigVersion);
  }

  /** Turns a unique violation into a message that names the relation already in the way. */
  private async describeConflict(
    relation: NewRelation,
    constraint: string | undefined,
    cause: unknown,
  ): Promise<Error> {
    const kindWord = ACCOUNT_KIND_WORDS[relation.accountKind];
    if (constraint === 'business_relation_contact_kind_key') {
      return new RelationConflictError(`contact ${relation.contactId} already has a ${kindWord} relation`);
    }
    if (constraint === 'business_relation_account_key') {
      const existing = await this.findRelationByAccount(relation.accountKind, relation.accountId);
      const owner = existing === null ? 'another contact' : `contact ${existing.contactId}`;
      return new RelationConflictError(`${kindWord} ${relation.accountId} is already linked to ${owner}`);
    }
    // Only a random id colliding could get here; that is a bug, not a conflict.
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}

function single<T>(rows: T[], statement: string): T {
  const row = rows[0];
  if (row === undefined) throw new Error(`${statement} returned no row`);
  return row;
}

/** The row a multi-row INSERT ... RETURNING gave back for the id it was inserted with. */
function returnedRow<T>(rows: ReadonlyMap<string, T>, id: string): T {
  const row = rows.get(id);
  if (row === undefined) throw new Error(`INSERT ... RETURNING returned no row for ${id}`);
  return row;
}

function auditLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_AUDIT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidAuditQueryError(`limit must be a positive integer, got ${limit}`);
  }
  return Math.min(limit, MAX_AUDIT_LIMIT);
}

/** `($1, $2), ($3, $4)` for `rowCount` rows of `width` parameters. */
function placeholders(rowCount: number, width: number, casts: readonly string[] = [], offset = 0): string {
  const rows: string[] = [];
  for (let row = 0; row < rowCount; row += 1) {
    const cells: string[] = [];
    for (let column = 0; column < width; column += 1) {
      cells.push(`$${offset + row * width + column + 1}${casts[column] ?? ''}`);
    }
    rows.push(`(${cells.join(', ')})`);
  }
  return rows.join(', ');
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    result.push(items.slice(start, start + size));
  }
  return result;
}

async function upsertShadow(tx: SqlQueryable, entries: readonly ShadowEntry[]): Promise<void> {
  // One statement may not update the same row twice, so a later entry for the same field wins
  // before the rows reach Postgres.
  const latest = new Map<string, ShadowEntry>();
  for (const entry of entries) {
    latest.set(JSON.stringify([entry.relationId, entry.side, entry.field]), entry);
  }
  // In key order: concurrent transactions then lock the rows they share in the same order.
  const rows = [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry);
  for (const batch of chunks(rows, ROWS_PER_INSERT)) {
    // One array per column rather than a placeholder per value: Postgres parses and plans the
    // statement in a fraction of the time (about a third less per row on PGlite).
    await tx.query(
      `INSERT INTO relation_shadow (${SHADOW_COLUMNS})
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
       ON CONFLICT (relation_id, side, field) DO UPDATE SET
         value = EXCLUDED.value,
         source_modified_at = EXCLUDED.source_modified_at,
         synced_at = EXCLUDED.synced_at`,
      [
        batch.map((entry) => entry.relationId),
        batch.map((entry) => entry.side),
        batch.map((entry) => entry.field),
        batch.map((entry) => entry.value),
        batch.map((entry) => entry.sourceModifiedAt),
        batch.map((entry) => entry.syncedAt),
      ],
    );
  }
}

/** The rows a json_agg answered: parsed by the driver, or as text; SQL NULL for none. */
function jsonRows(value: unknown): SqlRow[] {
  const rows: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (rows === null || rows === undefined) return [];
  if (!Array.isArray(rows)) throw new Error(`expected a JSON array of rows, got ${typeof rows}`);
  return rows as SqlRow[];
}

/**
 * Whether an observation is the one stored, field for field. observeRecord keeps each field it
 * saw unchanged as the same object, so identity is enough; anything else counts as new.
 */
function sameObservation(stored: RecordObservation | undefined, next: RecordObservation): boolean {
  if (stored === undefined) return false;
  if (stored === next) return true;
  if (stored.modifiedAt !== next.modifiedAt) return false;
  const fields = Object.keys(next.fields);
  return (
    fields.length === Object.keys(stored.fields).length &&
    fields.every((field) => stored.fields[field] === next.fields[field])
  );
}

/** Removes plans' staged audit entries; answers the plans that had some. */
async function unstage(tx: SqlQueryable, planIds: readonly string[]): Promise<Set<string>> {
  if (planIds.length === 0) return new Set();
  const removed = await tx.query('DELETE FROM staged_audit WHERE plan_id = ANY($1::text[]) RETURNING plan_id', [
    [...planIds],
  ]);
  return new Set(removed.map((row) => String(row.plan_id)));
}

async function insertAudit(tx: SqlQueryable, entries: readonly NewAuditEntry[]): Promise<void> {
  for (const batch of chunks(entries, ROWS_PER_INSERT)) {
    // One array per column (see upsertShadow); unnest gives the rows in the order of the arrays,
    // so the log's ids follow the order of the entries.
    const column = (value: (entry: NewAuditEntry) => string | null | undefined) =>
      batch.map((entry) => value(entry) ?? null);
    await tx.query(
      `INSERT INTO audit_log (kind, relation_id, contact_id, account_kind, account_id, field,
         old_value, new_value, direction, source_system, source_modified_at, job_id, details)
       SELECT kind, relation_id, contact_id, account_kind, account_id, field, old_value, new_value,
         direction, source_system, source_modified_at, job_id, details::jsonb
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::text[], $13::text[])
         AS entry (kind, relation_id, contact_id, account_kind, account_id, field, old_value, new_value,
           direction, source_system, source_modified_at, job_id, details)`,
      [
        column((entry) => entry.kind),
        column((entry) => entry.relationId),
        column((entry) => entry.contactId),
        column((entry) => entry.accountKind),
        column((entry) => entry.accountId),
        column((entry) => entry.field),
        column((entry) => entry.oldValue),
        column((entry) => entry.newValue),
        column((entry) => entry.direction),
        column((entry) => entry.sourceSystem),
        column((entry) => entry.sourceModifiedAt),
        column((entry) => entry.jobId),
        column((entry) => (entry.details == null ? null : JSON.stringify(entry.details))),
      ],
    );
  }
}

/** Items grouped by a key, each group in the items' order. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group === undefined) groups.set(keyOf(item), [item]);
    else group.push(item);
  }
  return groups;
}
