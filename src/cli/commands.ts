/**
 * The commands that talk to a running daemon's admin API: each sends one or a few requests, parses
 * the answers with the admin API's response schemas, and prints either a table for people or the
 * API's JSON as sent for scripts (--json).
 */
import type { z } from 'zod';
import { DOCUMENT_TYPES } from '../../connectors/kit/types';
import { ACCOUNT_KINDS } from '../core/model';
import {
  auditListSchema,
  createdAccountSchema,
  createdContactSchema,
  createdDocumentSchema,
  daemonStatusSchema,
  driftStartSchema,
  driftStatusSchema,
  firstSyncStartSchema,
  firstSyncStatusSchema,
  interactionSchema,
  linkResultSchema,
  matchProposalSchema,
  relationSchema,
  relationStatusSchema,
  searchHitSchema,
} from '../http/api/schemas';
import { ApiError, type AdminClient } from './client';
import { EXIT, UsageError } from './exit';
import { duration, keyValues, progressLine, table } from './format';

/** An output stream (process.stdout or a test's buffer). */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** What a command gets. */
export interface CommandContext {
  client: AdminClient;
  args: string[];
  options: CommandOptions;
  stdout: OutputStream;
  stderr: OutputStream;
  /** Asks the person at the terminal and resolves with the line typed; absent when nobody is there to answer. */
  ask?: (question: string) => Promise<string>;
}

/** The parsed options a remote command may read. */
export interface CommandOptions {
  json: boolean;
  kind: string[];
  contact?: string;
  account?: string;
  relation?: string;
  field?: string;
  limit?: string;
  winner?: string;
  template?: string;
  value: string[];
  dryRun: boolean;
  apply: boolean;
  minScore?: string;
  type?: string;
  description?: string;
  date?: string;
  who?: string;
  from?: string;
  to?: string;
  idempotencyKey?: string;
  /** The record arguments are texts to search for, not ids. */
  search: boolean;
}

/** A command: its positional arguments, the options it accepts, and what it does. */
export interface RemoteCommand {
  /** e.g. `link <contactId> <kind> <accountId>`. */
  synopsis: string;
  positionals: number;
  options: readonly string[];
  run(context: CommandContext): Promise<number>;
}

const AUDIT_KINDS = ['fieldChange', 'conflict', 'link', 'unlink', 'create', 'delete', 'drift'];

function accountKind(value: string | undefined, what = 'kind'): string {
  if (!value || !(ACCOUNT_KINDS as readonly string[]).includes(value)) {
    throw new UsageError(`${what} must be customer, vendor or bankAccount, not '${value ?? ''}'`);
  }
  return value;
}

function single(values: string[], name: string): string | undefined {
  if (values.length > 1) throw new UsageError(`--${name} may be given once here`);
  return values[0];
}

function positiveInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`--${name} must be a positive whole number, not '${value}'`);
  return Number(value);
}

const print = (context: CommandContext, json: unknown, text: () => string) => {
  context.stdout.write(context.options.json ? `${JSON.stringify(json, null, 2)}\n` : text());
};

type Relation = z.output<typeof relationSchema>;
type SearchHit = z.output<typeof searchHitSchema>;
type LinkResult = z.output<typeof linkResultSchema>;
type MatchPair = z.output<typeof matchProposalSchema>['pairs'][number];
type RelationStatus = z.output<typeof relationStatusSchema>;
type DaemonStatus = z.output<typeof daemonStatusSchema>;
type DriftReport = NonNullable<z.output<typeof driftStatusSchema>['last']>;
type FirstSyncStatus = z.output<typeof firstSyncStatusSchema>;
type FirstSyncReport = NonNullable<FirstSyncStatus['last']>;

const relationRows = (relations: Relation[]) =>
  table(
    ['RELATION', 'CONTACT', 'KIND', 'ACCOUNT', 'CODE', 'ORIGIN', 'CREATED'],
    relations.map((relation) => [
      relation.id,
      relation.contactId,
      relation.accountKind,
      relation.accountId,
      relation.relationCode,
      relation.origin,
      relation.createdAt,
    ]),
  );

const changeRows = (changes: LinkResult['changes']) =>
  changes.length === 0
    ? 'no fields differed\n'
    : table(
        ['SIDE', 'FIELD', 'FROM', 'TO'],
        changes.map((change) => [change.side, change.field, change.from, change.to]),
      );

const pairRows = (pairs: MatchPair[]) =>
  table(
    ['CONTACT', 'CONTACT NAME', 'KIND', 'ACCOUNT', 'ACCOUNT NAME', 'SCORE', 'RULE'],
    pairs.map((pair) => [
      pair.contactId,
      pair.contactName,
      pair.accountKind,
      pair.accountId,
      pair.accountName,
      pair.score,
      pair.rule,
    ]),
  );

const KIND_WORDS: Record<string, string> = {
  contact: 'contact',
  customer: 'customer',
  vendor: 'vendor',
  bankAccount: 'bank account',
};

const hitRows = (hits: SearchHit[]) =>
  table(
    ['#', 'ID', 'NAME', 'NO.', 'E-MAIL', 'VAT NO.', 'CITY', 'LINKED'],
    hits.map((hit, at) => [
      at + 1,
      hit.id,
      hit.name,
      hit.number,
      hit.email,
      hit.vatRegistrationNo,
      hit.city,
      hit.relations
        .map((relation) => (hit.entity === 'contact' ? relation.accountKind : `contact ${relation.contactId}`))
        .join(', '),
    ]),
  );

async function searchRecords(context: CommandContext, entity: string, text: string, limit?: number) {
  return context.client.request('GET', 'api/search', searchHitSchema.array(), { query: { entity, text, limit } });
}

/** How many candidates `--search` offers to choose from. */
const PICK_LIMIT = 10;

/**
 * The record `text` names with --search: the only match, or the one picked at a terminal from
 * those found. Without a terminal, several matches are listed and the command stops (exit 2).
 */
async function pickRecord(context: CommandContext, entity: string, text: string): Promise<string> {
  if (!context.options.search) return text;
  const words = KIND_WORDS[entity] ?? entity;
  const { body: hits } = await searchRecords(context, entity, text, PICK_LIMIT);
  if (hits.length === 0) throw new NoMatchError(`no ${words} matches '${text}'`);
  if (hits.length === 1) {
    const [hit] = hits as [SearchHit];
    context.stderr.write(`${words} '${text}': ${hit.name ?? hit.id} (${hit.id})\n`);
    return hit.id;
  }
  context.stderr.write(`${hits.length} ${words}s match '${text}':\n${hitRows(hits)}`);
  if (!context.ask)
    throw new UsageError(
      `several ${words}s match '${text}': search for more of the name, or give the id without --search`,
    );
  for (;;) {
    const answer = (await context.ask(`pick a ${words} (1-${hits.length}, or q to stop): `)).trim();
    if (answer === 'q' || answer === '') throw new UsageError('nothing picked');
    const hit = /^\d+$/.test(answer) ? hits[Number(answer) - 1] : undefined;
    if (hit) return hit.id;
    context.stderr.write(`'${answer}' is not one of 1-${hits.length}\n`);
  }
}

/** `--search` found nothing: like an unknown record (exit 4). */
export class NoMatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoMatchError';
  }
}

const idempotencyHeaders = (options: CommandOptions): Record<string, string> =>
  options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {};

/** The remote commands by name. */
export const REMOTE_COMMANDS: Record<string, RemoteCommand> = {
  relations: {
    synopsis: 'relations [--kind K] [--contact ID] [--limit N]',
    positionals: 0,
    options: ['kind', 'contact', 'limit'],
    async run(context) {
      const kind = single(context.options.kind, 'kind');
      const query = {
        kind: kind === undefined ? undefined : accountKind(kind, '--kind'),
        contactId: context.options.contact,
        limit: positiveInteger(context.options.limit, 'limit'),
      };
      const { body, raw } = await context.client.request('GET', 'api/relations', relationSchema.array(), { query });
      print(context, raw, () => (body.length === 0 ? 'no relations\n' : relationRows(body)));
      return EXIT.ok;
    },
  },
  relation: {
    synopsis: 'relation <relationId>',
    positionals: 1,
    options: [],
    async run(context) {
      const id = context.args[0] as string;
      const { body, raw } = await context.client.request(
        'GET',
        `api/relations/${encodeURIComponent(id)}/status`,
        relationStatusSchema,
      );
      print(context, raw, () => relationStatusText(body));
      return EXIT.ok;
    },
  },
  search: {
    synopsis: 'search <contact|customer|vendor|bankAccount> <text> [--limit N]',
    positionals: 2,
    options: ['limit'],
    async run(context) {
      const [entity, text] = context.args as [string, string];
      if (!(entity in KIND_WORDS))
        throw new UsageError(`search looks for a contact, customer, vendor or bankAccount, not '${entity}'`);
      const { body, raw } = await searchRecords(context, entity, text, positiveInteger(context.options.limit, 'limit'));
      print(context, raw, () => (body.length === 0 ? `no ${KIND_WORDS[entity]} matches '${text}'\n` : hitRows(body)));
      return EXIT.ok;
    },
  },
  link: {
    synopsis: 'link <contactId> <customer|vendor|bankAccount> <accountId> [--winner contact|account] [--search]',
    positionals: 3,
    options: ['winner', 'search'],
    async run(context) {
      const [contactText, kind, accountText] = context.args as [string, string, string];
      const winner = context.options.winner;
      if (winner !== undefined && winner !== 'contact' && winner !== 'account')
        throw new UsageError(`--winner must be contact or account, not '${winner}'`);
      accountKind(kind);
      const contactId = await pickRecord(context, 'contact', contactText);
      const accountId = await pickRecord(context, kind, accountText);
      const { body, raw } = await context.client.request('POST', 'api/relations', linkResultSchema, {
        body: { contactId, accountKind: accountKind(kind), accountId, ...(winner ? { winner } : {}) },
      });
      print(
        context,
        raw,
        () =>
          `linked contact ${contactId} with ${kind} ${accountId}: relation ${body.relation.id} (${body.relation.relationCode})\n${changeRows(body.changes)}`,
      );
      return EXIT.ok;
    },
  },
  unlink: {
    synopsis: 'unlink <relationId>',
    positionals: 1,
    options: [],
    async run(context) {
      const { body, raw } = await context.client.request(
        'DELETE',
        `api/relations/${encodeURIComponent(context.args[0] as string)}`,
        relationSchema,
      );
      print(
        context,
        raw,
        () =>
          `removed relation ${body.id}: contact ${body.contactId} and ${body.accountKind} ${body.accountId} are no longer linked\n`,
      );
      return EXIT.ok;
    },
  },
  'create-account': {
    synopsis: 'create-account <contactId> <kind> [--template NAME] [--value key=value ...] [--search]',
    positionals: 2,
    options: ['template', 'value', 'idempotency-key', 'search'],
    async run(context) {
      const [contactText, kind] = context.args as [string, string];
      accountKind(kind);
      const values: Record<string, string> = {};
      for (const pair of context.options.value) {
        const at = pair.indexOf('=');
        if (at < 1) throw new UsageError(`--value must be key=value, not '${pair}'`);
        values[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const contactId = await pickRecord(context, 'contact', contactText);
      const { status, body, raw } = await context.client.request(
        'POST',
        `api/contacts/${encodeURIComponent(contactId)}/accounts`,
        createdAccountSchema,
        {
          body: {
            accountKind: accountKind(kind),
            ...(context.options.template ? { template: context.options.template } : {}),
            ...(context.options.value.length ? { values } : {}),
          },
          headers: idempotencyHeaders(context.options),
        },
      );
      const number = body.account.number ? `${body.account.number} (${body.account.id})` : body.account.id;
      print(context, raw, () =>
        status === 201
          ? `created ${kind} ${number} from contact ${contactId}; relation ${body.relation.id}\n`
          : `contact ${contactId} already has ${kind} ${number}; relation ${body.relation.id}\n`,
      );
      return EXIT.ok;
    },
  },
  'create-contact': {
    synopsis: 'create-contact <kind> <accountId> [--search]',
    positionals: 2,
    options: ['idempotency-key', 'search'],
    async run(context) {
      const [kind, accountText] = context.args as [string, string];
      const accountId = await pickRecord(context, accountKind(kind), accountText);
      const { status, body, raw } = await context.client.request(
        'POST',
        `api/accounts/${encodeURIComponent(accountKind(kind))}/${encodeURIComponent(accountId)}/contact`,
        createdContactSchema,
        { headers: idempotencyHeaders(context.options) },
      );
      const person = body.person ? ` and person ${body.person.id}` : '';
      print(context, raw, () =>
        status === 201
          ? `created contact ${body.contact.id}${person} from ${kind} ${accountId}; relation ${body.relation.id}\n`
          : `${kind} ${accountId} already has contact ${body.contact.id}; relation ${body.relation.id}\n`,
      );
      return EXIT.ok;
    },
  },
  match: {
    synopsis: 'match [--kind K ...] [--min-score N] --dry-run | --apply',
    positionals: 0,
    options: ['kind', 'min-score', 'dry-run', 'apply'],
    run: match,
  },
  interactions: {
    synopsis: 'interactions <contactId>',
    positionals: 1,
    options: [],
    async run(context) {
      const { body, raw } = await context.client.request(
        'GET',
        `api/contacts/${encodeURIComponent(context.args[0] as string)}/interactions`,
        interactionSchema.array(),
      );
      print(context, raw, () =>
        body.length === 0
          ? 'no interactions\n'
          : table(
              ['OCCURRED', 'TYPE', 'WHO', 'SOURCE', 'DESCRIPTION'],
              body.map((entry) => [entry.occurredAt, entry.type, entry.who, entry.source, entry.description]),
            ),
      );
      return EXIT.ok;
    },
  },
  'interaction add': {
    synopsis: 'interaction add <contactId> --type T --description D [--date ISO] [--who W]',
    positionals: 1,
    options: ['type', 'description', 'date', 'who'],
    async run(context) {
      const { type, description, date, who } = context.options;
      if (!type) throw new UsageError('interaction add needs --type');
      if (!description) throw new UsageError('interaction add needs --description');
      const { body, raw } = await context.client.request(
        'POST',
        `api/contacts/${encodeURIComponent(context.args[0] as string)}/interactions`,
        interactionSchema,
        {
          body: { type, description, ...(date ? { occurredAt: date } : {}), ...(who ? { who } : {}) },
        },
      );
      print(
        context,
        raw,
        () => `recorded ${body.type} ${body.id} for contact ${body.contactId} at ${body.occurredAt}\n`,
      );
      return EXIT.ok;
    },
  },
  document: {
    synopsis: 'document <contactId> <salesQuote|salesOrder|purchaseQuote|purchaseOrder>',
    positionals: 2,
    options: ['idempotency-key'],
    async run(context) {
      const [contactId, type] = context.args as [string, string];
      if (!(DOCUMENT_TYPES as readonly string[]).includes(type))
        throw new UsageError(`the document type must be one of ${DOCUMENT_TYPES.join(', ')}, not '${type}'`);
      const { body, raw } = await context.client.request(
        'POST',
        `api/contacts/${encodeURIComponent(contactId)}/documents`,
        createdDocumentSchema,
        { body: { type }, headers: idempotencyHeaders(context.options) },
      );
      print(
        context,
        raw,
        () =>
          `started ${type} ${body.document.number ?? body.document.id} for ${body.relation.accountKind} ${body.document.accountId}; interaction ${body.interaction.id}\n`,
      );
      return EXIT.ok;
    },
  },
  audit: {
    synopsis: 'audit [--contact ID] [--kind K] [--from ISO] [--to ISO]',
    positionals: 0,
    options: ['contact', 'kind', 'account', 'relation', 'field', 'from', 'to', 'limit'],
    async run(context) {
      const { options } = context;
      const kind = single(options.kind, 'kind');
      if (kind !== undefined && !(ACCOUNT_KINDS as readonly string[]).includes(kind) && !AUDIT_KINDS.includes(kind)) {
        throw new UsageError(
          `--kind must be an account kind (${ACCOUNT_KINDS.join(', ')}) or an entry kind (${AUDIT_KINDS.join(', ')}), not '${kind}'`,
        );
      }
      const isAccountKind = kind !== undefined && (ACCOUNT_KINDS as readonly string[]).includes(kind);
      const query = {
        contactId: options.contact,
        accountKind: isAccountKind ? kind : undefined,
        kind: isAccountKind ? undefined : kind,
        accountId: options.account,
        relationId: options.relation,
        field: options.field,
        from: options.from,
        to: options.to,
        limit: positiveInteger(options.limit, 'limit'),
      };
      const { body, raw } = await context.client.request('GET', 'api/audit', auditListSchema, { query });
      print(context, raw, () =>
        body.length === 0
          ? 'no audit entries\n'
          : table(
              ['APPLIED', 'KIND', 'CONTACT', 'ACCOUNT', 'FIELD', 'CHANGE', 'DIRECTION', 'SOURCE'],
              body.map((entry) => [
                entry.appliedAt,
                entry.kind,
                entry.contactId,
                entry.accountKind ? `${entry.accountKind} ${entry.accountId ?? ''}` : entry.accountId,
                entry.field,
                entry.field ? `${entry.oldValue ?? '(empty)'} -> ${entry.newValue ?? '(empty)'}` : '',
                entry.direction,
                entry.sourceSystem,
              ]),
            ),
      );
      return EXIT.ok;
    },
  },
  drift: {
    synopsis: 'drift',
    positionals: 0,
    options: [],
    async run(context) {
      const report = await runDrift(context);
      print(context, report, () => driftText(report));
      return EXIT.ok;
    },
  },
  'first-sync': {
    synopsis: 'first-sync [--dry-run] [--kind K ...] [--min-score N]',
    positionals: 0,
    options: ['dry-run', 'kind', 'min-score'],
    async run(context) {
      const report = await runFirstSyncCommand(context);
      if (context.options.json) context.stdout.write(`${JSON.stringify({ report })}\n`);
      else context.stdout.write(firstSyncText(report));
      return report.outcome.failed > 0 ? EXIT.conflict : EXIT.ok;
    },
  },
  status: {
    synopsis: 'status',
    positionals: 0,
    options: [],
    async run(context) {
      const { body, raw } = await context.client.request('GET', 'api/status', daemonStatusSchema);
      print(context, raw, () => statusText(body));
      return EXIT.ok;
    },
  },
};

function relationStatusText(status: RelationStatus): string {
  const { relation } = status;
  const header = keyValues([
    ['relation', `${relation.id} (${relation.relationCode}, ${relation.origin}, ${relation.createdAt})`],
    ['contact', `${relation.contactId}${status.contact ? '' : ' (not found in the CRM)'}`],
    [
      relation.accountKind,
      `${relation.accountId}${status.account?.number ? ` no. ${status.account.number}` : ''}${status.account ? '' : ' (not found in accounting)'}`,
    ],
    ['in sync', status.inSync ? 'yes' : 'no'],
  ]);
  const fields = table(
    ['CONTACT FIELD', 'CONTACT VALUE', 'ACCOUNT FIELD', 'ACCOUNT VALUE', 'DIRECTION', 'IN SYNC', 'NEWER'],
    status.fields.map((field) => [
      field.contactField,
      field.contactValue,
      field.accountField,
      field.accountValue,
      field.direction,
      field.inSync ? 'yes' : 'NO',
      field.newer,
    ]),
  );
  const jobs =
    status.pendingJobs.length === 0
      ? 'pending jobs: none\n'
      : `pending jobs:\n${table(
          ['QUEUE', 'JOB', 'STATE'],
          status.pendingJobs.map((job) => [job.queue, job.id, job.state]),
        )}`;
  const error = status.lastError
    ? `last error: ${status.lastError.at} ${status.lastError.reason} (job ${status.lastError.jobId})\n`
    : 'last error: none\n';
  const conflicts =
    status.lastConflicts.length === 0
      ? ''
      : `last conflicts:\n${table(
          ['APPLIED', 'FIELD', 'CHANGE'],
          status.lastConflicts.map((entry) => [
            entry.appliedAt,
            entry.field,
            `${entry.oldValue ?? '(empty)'} -> ${entry.newValue ?? '(empty)'}`,
          ]),
        )}`;
  return `${header}\n${fields}\n${jobs}${error}${conflicts}`;
}

function statusText(status: DaemonStatus): string {
  const header = keyValues([
    ['role', status.role],
    ['started', status.startedAt],
    ['uptime', duration(status.uptimeSeconds)],
  ]);
  const connectors = table(
    ['CONNECTOR', 'NAME', 'KIND', 'SYSTEM'],
    status.connectors.map((connector) => [connector.slot, connector.name, connector.kind, connector.system]),
  );
  const queues = table(
    ['QUEUE', 'WAITING', 'ACTIVE', 'DELAYED', 'FAILED', 'COMPLETED'],
    Object.entries(status.queues).map(([name, counts]) => [
      name,
      counts.waiting,
      counts.active,
      counts.delayed,
      counts.failed,
      counts.completed,
    ]),
  );
  const relations = table(
    ['KIND', 'RELATIONS', 'RELATION CODE'],
    ACCOUNT_KINDS.map((kind) => [
      kind,
      status.relations[kind],
      status.relationCodes[kind] ?? '(not set: not synchronized)',
    ]),
  );
  return `${header}\n${connectors}\n${queues}\n${relations}`;
}

/**
 * `match`: the proposal (dry run), or linking its pairs one by one through POST /api/relations, so
 * a long run shows progress and one failed pair does not stop the others.
 */
async function match(context: CommandContext): Promise<number> {
  const { options } = context;
  if (options.dryRun && options.apply) throw new UsageError('give either --dry-run or --apply, not both');
  const kinds = options.kind.map((kind) => accountKind(kind, '--kind'));
  let minScore: number | undefined;
  if (options.minScore !== undefined) {
    minScore = Number(options.minScore);
    if (options.minScore.trim() === '' || !Number.isFinite(minScore) || minScore < 0)
      throw new UsageError(`--min-score must be a number of 0 or more, not '${options.minScore}'`);
  }
  const { body: proposal } = await context.client.request('GET', 'api/matches', matchProposalSchema, {
    query: { kind: kinds },
  });
  const pairs = proposal.pairs.filter((pair) => minScore === undefined || pair.score >= minScore);
  if (!options.apply) {
    print(context, { ...proposal, pairs }, () => {
      const review =
        proposal.review.length === 0
          ? ''
          : `\nneeds review (never linked automatically):\n${proposal.review.map((item) => `  ${item.reason}\n${indent(pairRows(item.candidates))}`).join('')}`;
      return `${pairs.length === 0 ? 'no pairs proposed\n' : pairRows(pairs)}${review}\ndry run: nothing was linked; run with --apply to link these pairs\n`;
    });
    return EXIT.ok;
  }

  const linked: LinkResult[] = [];
  const failed: Array<{ pair: MatchPair; status: number; error: string; reason: string }> = [];
  const showProgress = context.stderr.isTTY === true && pairs.length > 0;
  for (const [index, pair] of pairs.entries()) {
    if (showProgress)
      context.stderr.write(
        progressLine(index, pairs.length, `linking ${pair.contactId} with ${pair.accountKind} ${pair.accountId}`),
      );
    try {
      const { body } = await context.client.request('POST', 'api/relations', linkResultSchema, {
        body: { contactId: pair.contactId, accountKind: pair.accountKind, accountId: pair.accountId },
      });
      linked.push(body);
    } catch (error) {
      // A pair taken meanwhile, or refused by a system, is reported; the others still get linked.
      if (!(error instanceof ApiError) || error.status === 401 || error.status === 403) throw error;
      failed.push({
        pair,
        status: error.status,
        error: error.problem.error,
        reason: error.problem.message ?? error.problem.error,
      });
    }
  }
  if (showProgress) context.stderr.write(`${progressLine(pairs.length, pairs.length, 'done')}\n`);
  const result = { linked, failed, review: proposal.review };
  print(context, result, () => {
    const summary = `linked ${linked.length} of ${pairs.length} pairs; ${failed.length} failed; ${proposal.review.length} need review\n`;
    const failures =
      failed.length === 0
        ? ''
        : `\nfailed:\n${table(
            ['CONTACT', 'KIND', 'ACCOUNT', 'ERROR', 'REASON'],
            failed.map((item) => [
              item.pair.contactId,
              item.pair.accountKind,
              item.pair.accountId,
              item.error,
              item.reason,
            ]),
          )}`;
    return summary + failures;
  });
  return failed.length === 0 ? EXIT.ok : EXIT.conflict;
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => (line ? `    ${line}` : line))
    .join('\n');

/** How often `tandem drift` asks how far the sweep is. */
const DRIFT_POLL_MS = 500;

/**
 * Starts a sweep (or follows the one running) and waits for its report, drawing its progress on
 * a terminal. The report is the one whose start is not older than this command's.
 */
async function runDrift(context: CommandContext): Promise<DriftReport> {
  let startedAt: string | undefined;
  try {
    const { body } = await context.client.request('POST', 'api/drift', driftStartSchema);
    startedAt = body.status.running?.startedAt;
  } catch (error) {
    // One is running already: follow it.
    if (!(error instanceof ApiError) || error.status !== 409) throw error;
  }
  const showProgress = context.stderr.isTTY === true;
  for (;;) {
    const { body } = await context.client.request('GET', 'api/drift', driftStatusSchema);
    startedAt ??= body.running?.startedAt;
    const { running, last } = body;
    if (running && showProgress) context.stderr.write(progressLine(running.done, running.total, 'relations compared'));
    if (!running && last && (startedAt === undefined || last.startedAt >= startedAt)) {
      if (showProgress) context.stderr.write(`${progressLine(last.relations, last.relations, 'done')}\n`);
      return last;
    }
    await new Promise((resolve) => setTimeout(resolve, DRIFT_POLL_MS));
  }
}

function driftText(report: DriftReport): string {
  const summary = keyValues([
    [
      'compared',
      `${report.relations} relations in ${duration((Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000)}`,
    ],
    [
      'drifted',
      `${report.drifted} (fields: ${report.fields.missed} missed, ${report.fields.inconsistent} inconsistent, ${report.fields.shadow} shadow only)`,
    ],
    ['repaired', `${report.repaired} contacts synchronized again`],
    ['reads', `${report.requests.crm} CRM, ${report.requests.accounting} accounting`],
    ...(report.stopped ? [['stopped', 'before every relation was compared'] as [string, string]] : []),
  ]);
  if (report.findings.length === 0) return summary;
  return `${summary}\n${table(
    ['CONTACT', 'KIND', 'ACCOUNT', 'FIELD', 'CONTACT VALUE', 'ACCOUNT VALUE', 'CAUSE'],
    report.findings.flatMap((finding) =>
      finding.missing
        ? [[finding.contactId, finding.accountKind, finding.accountId, '', '', '', `${finding.missing} missing`]]
        : finding.fields.map((field) => [
            finding.contactId,
            finding.accountKind,
            finding.accountId,
            field.contactField,
            field.contactValue ?? '',
            field.accountValue ?? '',
            field.cause,
          ]),
    ),
  )}`;
}

/** How often `tandem first-sync` asks how far the run is. */
const FIRST_SYNC_POLL_MS = 500;

/**
 * Starts a first sync or a dry run (or follows the one running) and waits for its report. On a
 * terminal its progress is a bar on stderr; with --json each change of progress is one JSON line
 * on stdout (`{"progress": ...}`), and the report the last (`{"report": ...}`).
 */
async function runFirstSyncCommand(context: CommandContext): Promise<FirstSyncReport> {
  const { options } = context;
  const kinds = options.kind.map((kind) => accountKind(kind, '--kind'));
  let minScore: number | undefined;
  if (options.minScore !== undefined) {
    minScore = Number(options.minScore);
    if (!/^\d+$/.test(options.minScore) || minScore < 1 || minScore > 100)
      throw new UsageError(`--min-score must be a whole number from 1 to 100, not '${options.minScore}'`);
  }
  let startedAt: string | undefined;
  try {
    const { body } = await context.client.request('POST', 'api/first-sync', firstSyncStartSchema, {
      body: { dryRun: options.dryRun, ...(kinds.length > 0 ? { kinds } : {}), ...(minScore ? { minScore } : {}) },
    });
    startedAt = body.status.running?.startedAt;
  } catch (error) {
    // One is running already: follow it.
    if (!(error instanceof ApiError) || error.status !== 409) throw error;
    context.stderr.write('a first sync is running already: following it\n');
  }
  const bar = context.stderr.isTTY === true && !options.json;
  let lastLine = '';
  for (;;) {
    const { body } = await context.client.request('GET', 'api/first-sync', firstSyncStatusSchema);
    startedAt ??= body.running?.startedAt;
    const { running, last } = body;
    if (running && bar) context.stderr.write(firstSyncProgressLine(running));
    if (running && options.json) {
      const line = JSON.stringify({ progress: running });
      if (line !== lastLine) context.stdout.write(`${line}\n`);
      lastLine = line;
    }
    if (!running && last && (startedAt === undefined || last.startedAt >= startedAt)) {
      if (bar) context.stderr.write(`${progressLine(1, 1, 'done')}\n`);
      return last;
    }
    await new Promise((resolve) => setTimeout(resolve, FIRST_SYNC_POLL_MS));
  }
}

function firstSyncProgressLine(running: NonNullable<FirstSyncStatus['running']>): string {
  // The totals are not known while both systems are read: counts, not a bar.
  if (running.phase === 'reading')
    return `\r\x1b[Kreading: ${running.read.crm} contacts, ${running.read.accounting} accounts${running.dryRun ? ' (dry run)' : ''}`;
  return progressLine(running.done, running.total, 'pairs and creations settled');
}

function firstSyncText(report: FirstSyncReport): string {
  const { counts, outcome } = report;
  const seconds = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
  const lines: Array<[string, string]> = [
    [
      report.dryRun ? 'dry run' : 'run',
      `${report.runId ?? 'nothing was written'}${report.resumed ? ' (resumed)' : ''}, ${report.kinds.join(', ') || 'no kinds'}, ${duration(seconds)}`,
    ],
    report.dryRun
      ? ['would link', `${counts.link} pairs`]
      : [
          'linked',
          `${outcome.linked} of ${counts.link} pairs (${outcome.alreadyLinked} linked already, ${outcome.failed} failed)`,
        ],
    [
      report.dryRun ? 'would create' : 'created',
      `${report.dryRun ? counts.create : outcome.created} contacts${report.createReason ? ` (${report.createReason})` : ''}`,
    ],
    ['ambiguous', `${counts.ambiguous} (left for the matching review: tandem match --dry-run)`],
    ['unmatched', `${counts.unmatched.contacts} contacts, ${counts.unmatched.accounts} accounts`],
    [
      'skipped',
      `${counts.skipped.alreadyLinked} linked already, ${counts.skipped.rejected} rejected pairs, ${counts.skipped.missingFields} without match fields, ${counts.skipped.persons} persons`,
    ],
    ['reads', `${report.requests.crm} CRM, ${report.requests.accounting} accounting`],
  ];
  if (report.stopped) lines.push(['stopped', 'before the end: the next start resumes it']);
  const summary = keyValues(lines);
  if (report.failures.length === 0) return summary;
  return `${summary}\nfailed:\n${table(
    ['CONTACT', 'KIND', 'ACCOUNT', 'REASON'],
    report.failures.map((failure) => [failure.contactId, failure.accountKind, failure.accountId, failure.reason]),
  )}`;
}
