/**
 * The mapping editor: validate editable YAML, preview what it would write, save it as a version
 * and put it in force in every process, list and restore versions.
 */
import { isAccount, isContact } from '../../../connectors/kit/types';
import { changedEditableKeys, editableYaml, mergeEditable, sameEditable } from '../../config/editable';
import { mappingsFor, type TandemConfig } from '../../config/schema';
import type { Account, AccountKind, BusinessRelation, Contact } from '../../core/model';
import { planSync, type LinkedAccount, type RecordWrite, type ShadowValue } from '../../core/plan';
import { planReconcile } from '../../core/reconcile';
import type { StoredConfigVersion } from '../ports/store';
import { unsupportedCustomFields, unsupportedMappings } from '../check-mappings';
import type { ConfigVersionChannel } from '../ports/config-channel';
import type { Engine } from '../ports/index';
import { InvalidInputProblem, NotFoundProblem } from '../ports/problems';
import type { Actor } from '../ports/relations';
import { applyConfig } from './config-sync';
import type { ConfigPreview, ConfigProblem, ConfigState, ConfigVersion, PreviewWrite } from '../ports/console';

/** What the config operations run with. */
export interface ConfigContext {
  engine: Engine;
  /** The config as read from the file at start. */
  fileConfig: TandemConfig;
  /** Announces saved versions to the other processes. */
  channel?: ConfigVersionChannel;
  /** Records read at once while previewing. */
  readConcurrency: number;
  /** Starts a drift sweep (in any process) unless one is running; absent where none can run. */
  resync?: () => Promise<{ started: boolean }>;
}

/** Whether a new config changes what is synced: the mappings (with their value maps) or the filters. */
const changesSync = (before: TandemConfig, after: TandemConfig) =>
  JSON.stringify([before.mappings, before.filters]) !== JSON.stringify([after.mappings, after.filters]);

/** Problems of editable YAML, or the merged config: its own, and custom fields checked against the providers' schemas. */
export async function checkEditable(
  context: ConfigContext,
  yaml: string,
): Promise<{ problems: ConfigProblem[]; config: TandemConfig | null }> {
  const { engine } = context;
  const merged = mergeEditable(engine.config, yaml);
  if (!merged.ok) return { problems: merged.problems, config: null };
  const lines = unsupportedMappings(merged.config, engine.crm, engine.accounting);
  if (lines.length === 0)
    lines.push(...(await unsupportedCustomFields(merged.config, engine.crm, engine.accounting)).problems);
  const problems = lines.map((line): ConfigProblem => {
    const split = line.indexOf(': ');
    const path = line.slice(0, split).replace(/\[(\d+)\]/g, '.$1');
    return { path, message: line.slice(split + 2) };
  });
  return { problems, config: problems.length > 0 ? null : merged.config };
}

async function requireValid(context: ConfigContext, yaml: string): Promise<TandemConfig> {
  const { problems, config } = await checkEditable(context, yaml);
  const first = problems[0];
  if (first || config === null)
    throw new InvalidInputProblem(
      first?.path ?? 'yaml',
      first ? `${first.message}${first.line ? ` (line ${first.line})` : ''}` : 'is not valid',
    );
  return config;
}

const toVersion = (stored: StoredConfigVersion): ConfigVersion => ({ ...stored });

/** Which config is in force and whether the file agrees. */
export async function configState(context: ConfigContext): Promise<ConfigState> {
  const fileYaml = editableYaml(context.fileConfig);
  const latest = await context.engine.store.latestConfigVersion();
  if (latest === null) return { source: 'file', version: null, yaml: fileYaml, fileDiffers: false, fileYaml };
  const merged = mergeEditable(context.fileConfig, latest.yaml);
  const fileDiffers = merged.ok ? !sameEditable(context.fileConfig, merged.config) : true;
  return { source: 'stored', version: latest.version, yaml: latest.yaml, fileDiffers, fileYaml };
}

/** Saves a new version and puts it in force here and, through the config channel, everywhere. */
export async function saveConfig(
  context: ConfigContext,
  yaml: string,
  input: { comment?: string },
  actor: Actor,
): Promise<ConfigVersion> {
  const config = await requireValid(context, yaml);
  const before = context.engine.config;
  const stored = await context.engine.store.saveConfigVersion({
    savedBy: actor.name,
    comment: input.comment ?? null,
    yaml,
  });
  applyConfig(context.engine, config, stored.version);
  context.engine.logger.info({ version: stored.version, savedBy: actor.name }, 'config version saved');
  await context.channel?.announce(stored.version);
  if (!changesSync(before, config)) return toVersion(stored);
  // The drift sweep compares every relation under the config now in force and writes what differs.
  let resync: ConfigVersion['resync'] = 'none';
  if (context.resync) {
    try {
      resync = (await context.resync()).started ? 'started' : 'running';
    } catch (error) {
      context.engine.logger.warn({ err: error }, 'could not start a drift sweep after saving the config');
    }
  }
  return { ...toVersion(stored), resync };
}

/** Makes an earlier version current again, as a new version. */
export async function restoreConfigVersion(
  context: ConfigContext,
  version: number,
  actor: Actor,
): Promise<ConfigVersion> {
  const old = await context.engine.store.getConfigVersion(version);
  if (old === null) throw new NotFoundProblem(`config version ${version} does not exist`);
  return saveConfig(context, old.yaml, { comment: `restores version ${version}` }, actor);
}

/** Every version, newest first. */
export async function listConfigVersions(context: ConfigContext): Promise<ConfigVersion[]> {
  return (await context.engine.store.listConfigVersions()).map(toVersion);
}

/** Runs `work` over the items, at most `limit` at once. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

async function readContacts(context: ConfigContext, ids: string[]): Promise<Map<string, Contact>> {
  const { crm } = context.engine;
  const records = crm.batchGet
    ? (
        await mapLimit(chunk(ids, 100), context.readConcurrency, (part) =>
          (crm.batchGet as NonNullable<typeof crm.batchGet>)('contact', part),
        )
      ).flat()
    : await mapLimit(ids, context.readConcurrency, (id) => crm.get('contact', id));
  return new Map(
    records
      .filter((record) => record !== null)
      .filter(isContact)
      .map((contact) => [contact.id, contact]),
  );
}

async function readAccounts(context: ConfigContext, relations: BusinessRelation[]): Promise<Map<string, Account>> {
  const { accounting } = context.engine;
  const found = new Map<string, Account>();
  const kinds = [...new Set(relations.map((relation) => relation.accountKind))];
  for (const kind of kinds) {
    const ids = relations.filter((relation) => relation.accountKind === kind).map((relation) => relation.accountId);
    const records = accounting.batchGet
      ? (
          await mapLimit(chunk(ids, 100), context.readConcurrency, (part) =>
            (accounting.batchGet as NonNullable<typeof accounting.batchGet>)(kind, part),
          )
        ).flat()
      : await mapLimit(ids, context.readConcurrency, (id) => accounting.get(kind, id));
    for (const record of records)
      if (record !== null && isAccount(record)) found.set(`${record.entity}|${record.id}`, record);
  }
  return found;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let start = 0; start < items.length; start += size) parts.push(items.slice(start, start + size));
  return parts;
}

function previewWrites(write: RecordWrite): PreviewWrite[] {
  return write.changes.map((change) => ({
    relationId: write.system === 'crm' ? change.relationId : (write.relationIds[0] ?? change.relationId),
    system: write.system,
    entity: write.entity,
    recordId: write.id,
    field: change.field,
    from: change.from,
    to: change.to,
  }));
}

/**
 * A dry run of the YAML over every synchronized relation: with the new mappings and codes and
 * the current shadow, the writes the planner would make; a newly mapped field (no shadow on
 * either side) gets the reconciliation a link would do, the contact winning. Nothing is written.
 */
export async function previewConfig(context: ConfigContext, yaml: string): Promise<ConfigPreview> {
  const next = await requireValid(context, yaml);
  const { previewing } = context.engine;
  previewing?.add(next);
  try {
    return await previewWith(context, next);
  } finally {
    previewing?.delete(next);
  }
}

async function previewWith(context: ConfigContext, next: TandemConfig): Promise<ConfigPreview> {
  const { store } = context.engine;
  const relations = (await store.listRelations()).filter(
    (relation) => next.relationCodes[relation.accountKind] !== null,
  );
  const [shadows, contacts, accounts] = await Promise.all([
    store.getShadows(relations.map((relation) => relation.id)),
    readContacts(context, [...new Set(relations.map((relation) => relation.contactId))]),
    readAccounts(context, relations),
  ]);
  const writes: PreviewWrite[] = [];
  const byContact = new Map<string, BusinessRelation[]>();
  for (const relation of relations)
    byContact.set(relation.contactId, [...(byContact.get(relation.contactId) ?? []), relation]);
  for (const [contactId, ofContact] of byContact) {
    const contact = contacts.get(contactId);
    if (!contact) continue;
    const linked: LinkedAccount[] = [];
    for (const relation of ofContact) {
      const account = accounts.get(`${relation.accountKind}|${relation.accountId}`);
      if (!account) continue;
      const shadow = new Map<string, ShadowValue>(
        (shadows.get(relation.id) ?? []).map((entry) => [
          `${entry.side}.${entry.field}`,
          { value: entry.value, sourceModifiedAt: entry.sourceModifiedAt },
        ]),
      );
      const mappings = mappingsFor(next, relation.accountKind as AccountKind);
      const known = mappings.filter(
        (mapping) => shadow.has(`contact.${mapping.contact}`) || shadow.has(`account.${mapping.account}`),
      );
      const fresh = mappings.filter((mapping) => !known.includes(mapping));
      linked.push({ relation, account, mappings: known, shadow });
      if (fresh.length > 0)
        writes.push(
          ...planReconcile({
            relationId: relation.id,
            contact,
            account,
            mappings: fresh,
            winner: 'contact',
          }).writes.flatMap(previewWrites),
        );
    }
    if (linked.length > 0)
      writes.push(...planSync({ contact, linked, tieBreak: next.conflicts.tieBreak }).writes.flatMap(previewWrites));
  }
  const records = new Map<string, { system: 'crm' | 'accounting'; field: string; ids: Set<string> }>();
  for (const write of writes) {
    const key = `${write.system}|${write.field}`;
    const entry = records.get(key) ?? { system: write.system, field: write.field, ids: new Set<string>() };
    entry.ids.add(`${write.entity}|${write.recordId}`);
    records.set(key, entry);
  }
  return {
    valid: true,
    changedKeys: changedEditableKeys(context.engine.config, next),
    writes,
    summary: [...records.values()].map((entry) => ({
      system: entry.system,
      field: entry.field,
      records: entry.ids.size,
    })),
    relationsChecked: relations.length,
  };
}
