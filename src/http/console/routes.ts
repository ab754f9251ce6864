/**
 * The console API under /api/console, as a route table like the admin API's: the same parsing,
 * errors and OpenAPI document (src/http/api), with the console's operations behind it.
 */
import type { z } from 'zod';
import type { ConsoleService } from '../../app/ports/console';
import type { AdminRoute, RouteDeps, RouteInput, RouteResult, RouteSpec } from '../api/routes';
import { noParams, noQuery } from '../api/schemas';
import * as s from './schemas';

/** What the console's handlers may use: the admin API's deps and the console service. */
export interface ConsoleRouteDeps extends RouteDeps {
  console: ConsoleService;
}

type ConsoleRouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> = Omit<
  RouteSpec<P, Q, B>,
  'handle'
> & {
  handle(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>, deps: ConsoleRouteDeps): Promise<RouteResult>;
};

// Handlers are called with ConsoleRouteDeps only (see ./index.ts); the table shares the admin type
// so the OpenAPI document and the Fastify adapter take both tables alike.
function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType = z.ZodUndefined>(
  spec: ConsoleRouteSpec<P, Q, B>,
): AdminRoute {
  return spec as unknown as AdminRoute;
}

const ok = (body: unknown): RouteResult => ({ status: 200, body });

/** Every console route. */
export const CONSOLE_ROUTES: readonly AdminRoute[] = [
  route({
    method: 'GET',
    url: '/api/console/session',
    operationId: 'consoleSession',
    summary: 'The access level of the caller (the console shows or hides its actions by it)',
    access: 'read',
    params: noParams,
    query: noQuery,
    responses: { 200: { description: 'The access level', schema: s.sessionSchema } },
    handle: ({ actor }) => Promise.resolve(ok({ level: actor.name === 'admin' ? 'admin' : 'viewer' })),
  }),
  route({
    method: 'GET',
    url: '/api/console/fields',
    operationId: 'consoleFields',
    summary:
      "The fields a mapping or filter of an account kind may name, as each provider describes them: custom ones included, with type, writability and a picklist's options",
    access: 'read',
    params: noParams,
    query: s.fieldsQuery,
    responses: {
      200: { description: "The CRM's contact fields and the kind's account fields", schema: s.mappableFieldsSchema },
    },
    handle: async ({ query }, { console }) => ok(await console.describeFields(query.kind)),
  }),
  route({
    method: 'GET',
    url: '/api/console/overview',
    operationId: 'consoleOverview',
    summary: 'Connectors (health, last poll, webhooks, rate limit), queues, relation states and the latest errors',
    access: 'read',
    params: noParams,
    query: noQuery,
    responses: { 200: { description: 'The overview', schema: s.overviewSchema } },
    handle: async (_input, { console }) => ok(await console.overview()),
  }),
  route({
    method: 'GET',
    url: '/api/console/relations',
    operationId: 'consoleRelations',
    summary: 'Business relations with names and state, filtered by kind, state and text',
    access: 'read',
    params: noParams,
    query: s.relationRowsQuery,
    responses: { 200: { description: 'One page of relations and the total', schema: s.relationRowsSchema } },
    handle: async ({ query }, { console }) => ok(await console.listRelationRows(query)),
  }),
  route({
    method: 'POST',
    url: '/api/console/relations/:id/resync',
    operationId: 'consoleResync',
    summary: "Enqueues a sync of the relation's contact now",
    access: 'change',
    params: s.relationIdParams,
    query: noQuery,
    responses: { 202: { description: 'Enqueued', schema: s.jobSchema } },
    handle: async ({ params, actor }, { console }) => ({ status: 202, body: await console.resync(params.id, actor) }),
  }),
  route({
    method: 'GET',
    url: '/api/console/relations/:id/history',
    operationId: 'consoleRelationHistory',
    summary: "A relation's audit entries, newest first",
    access: 'read',
    params: s.relationIdParams,
    query: s.historyQuery,
    responses: { 200: { description: 'Audit entries', schema: s.historySchema } },
    handle: async ({ params, query }, { console }) => ok(await console.history(params.id, query.limit)),
  }),
  route({
    method: 'GET',
    url: '/api/console/conflicts',
    operationId: 'consoleConflicts',
    summary: 'Fields both sides changed: both values and times, and the winner',
    access: 'read',
    params: noParams,
    query: s.conflictsQuery,
    responses: { 200: { description: 'Conflicts, newest first', schema: s.conflictsSchema } },
    handle: async ({ query }, { console }) => ok(await console.listConflicts(query)),
  }),
  route({
    method: 'POST',
    url: '/api/console/conflicts/:auditId/apply-loser',
    operationId: 'consoleApplyLoser',
    summary: "Writes a conflict's losing value to both sides through the write pipeline (audited)",
    access: 'change',
    params: s.auditIdParams,
    query: noQuery,
    body: s.applyLoserBody,
    responses: { 200: { description: 'How many writes were enqueued', schema: s.writesSchema } },
    handle: async ({ params, body, actor }, { console }) =>
      ok(await console.applyLosingValue(params.auditId, body, actor)),
  }),
  route({
    method: 'POST',
    url: '/api/console/audit/:auditId/undo',
    operationId: 'consoleUndo',
    summary: "Writes an audited change's old value back through the write pipeline (audited)",
    access: 'change',
    params: s.auditIdParams,
    query: noQuery,
    responses: { 200: { description: 'How many writes were enqueued', schema: s.writesSchema } },
    handle: async ({ params, actor }, { console }) => ok(await console.undo(params.auditId, actor)),
  }),
  route({
    method: 'GET',
    url: '/api/console/audit.csv',
    operationId: 'consoleAuditCsv',
    summary: 'The audit log as CSV (text/csv, header row first), with the filters of GET /api/audit',
    access: 'read',
    params: noParams,
    query: s.auditCsvQuery,
    responses: { 200: { description: 'text/csv; one row per audit entry' } },
    handle: async ({ query }, { console }) => ({
      status: 200,
      body: await console.auditCsv(query),
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="tandem-audit.csv"',
      },
    }),
  }),
  route({
    method: 'POST',
    url: '/api/console/matches/reject',
    operationId: 'consoleRejectMatch',
    summary: 'Rejects a proposed pair so it is not proposed again',
    access: 'change',
    params: noParams,
    query: noQuery,
    body: s.rejectMatchBody,
    responses: { 204: { description: 'Rejected' } },
    handle: async ({ body, actor }, { console }) => {
      await console.rejectMatch(body, actor);
      return { status: 204, body: undefined };
    },
  }),
  route({
    method: 'GET',
    url: '/api/console/config',
    operationId: 'consoleConfig',
    summary: 'The editable config in force, where it comes from (file or stored version), and whether the file differs',
    access: 'read',
    params: noParams,
    query: noQuery,
    responses: { 200: { description: 'The config state', schema: s.configStateSchema } },
    handle: async (_input, { console }) => ok(await console.configState()),
  }),
  route({
    method: 'POST',
    url: '/api/console/config/validate',
    operationId: 'consoleValidateConfig',
    summary: 'Checks editable YAML against the schema of the config file; problems per key path',
    access: 'change',
    params: noParams,
    query: noQuery,
    body: s.yamlBody,
    responses: { 200: { description: 'The problems (none when valid)', schema: s.problemsSchema } },
    handle: async ({ body }, { console }) => {
      const problems = await console.validateConfig(body.yaml);
      const editable = problems.length === 0 ? await console.editableConfig(body.yaml) : null;
      return ok({ problems, ...(editable && { editable }) });
    },
  }),
  route({
    method: 'POST',
    url: '/api/console/config/preview',
    operationId: 'consolePreviewConfig',
    summary: 'What saving this YAML would write, where and for how many records (a dry run)',
    access: 'change',
    params: noParams,
    query: noQuery,
    body: s.yamlBody,
    responses: { 200: { description: 'The preview', schema: s.previewSchema } },
    handle: async ({ body }, { console }) => ok(await console.previewConfig(body.yaml)),
  }),
  route({
    method: 'POST',
    url: '/api/console/config',
    operationId: 'consoleSaveConfig',
    summary: 'Saves a new version of the editable config and applies it without a restart',
    access: 'change',
    params: noParams,
    query: noQuery,
    body: s.saveConfigBody,
    responses: { 201: { description: 'The saved version', schema: s.configVersionSchema } },
    handle: async ({ body, actor }, { console }) => ({
      status: 201,
      body: await console.saveConfig(body.yaml, { comment: body.comment }, actor),
    }),
  }),
  route({
    method: 'GET',
    url: '/api/console/config/versions',
    operationId: 'consoleConfigVersions',
    summary: 'Stored versions of the editable config, newest first',
    access: 'read',
    params: noParams,
    query: noQuery,
    responses: { 200: { description: 'The versions', schema: s.configVersionSchema.array() } },
    handle: async (_input, { console }) => ok(await console.listConfigVersions()),
  }),
  route({
    method: 'POST',
    url: '/api/console/config/versions/:version/restore',
    operationId: 'consoleRestoreConfigVersion',
    summary: 'Makes an earlier version current again (saved as a new version)',
    access: 'change',
    params: s.versionParams,
    query: noQuery,
    responses: { 201: { description: 'The new version', schema: s.configVersionSchema } },
    handle: async ({ params, actor }, { console }) => ({
      status: 201,
      body: await console.restoreConfigVersion(params.version, actor),
    }),
  }),
];
