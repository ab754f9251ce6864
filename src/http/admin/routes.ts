/**
 * The admin API as a table of routes (see ../api/routes.ts for a route's shape): the Fastify
 * adapter (./index.ts) and the OpenAPI document (../api/openapi.ts) are both built from it.
 */
import type { z } from 'zod';
import { ConflictProblem, NotFoundProblem } from '../../app/ports/problems';
import type { AdminRoute, RouteDeps, RouteSpec } from '../api/routes';
import * as s from '../api/schemas';

function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType = z.ZodUndefined>(
  spec: RouteSpec<P, Q, B>,
): AdminRoute {
  return spec as unknown as AdminRoute;
}

const ok = (body: unknown) => ({ status: 200, body });
const created = (body: unknown) => ({ status: 201, body });
const asList = <T>(value: T | T[] | undefined): T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

/** Every admin route. */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  route({
    method: 'GET',
    url: '/api/relations',
    operationId: 'listRelations',
    summary: 'Business relations, optionally of one account kind or one contact',
    access: 'read',
    params: s.noParams,
    query: s.relationsQuery,
    responses: { 200: { description: 'The relations', schema: s.relationSchema.array() } },
    handle: async ({ query }, { service }) => ok(await service.listRelations(query)),
  }),
  route({
    method: 'GET',
    url: '/api/relations/:id',
    operationId: 'getRelation',
    summary: 'One business relation',
    access: 'read',
    params: s.idParams,
    query: s.noQuery,
    responses: { 200: { description: 'The relation', schema: s.relationSchema } },
    handle: async ({ params }, { service }) => ok(await service.getRelation(params.id)),
  }),
  route({
    method: 'GET',
    url: '/api/relations/:id/status',
    operationId: 'relationStatus',
    summary: 'Both records of a relation side by side, pending jobs, the last error and conflicts',
    access: 'read',
    params: s.idParams,
    query: s.noQuery,
    responses: { 200: { description: 'The status', schema: s.relationStatusSchema } },
    handle: async ({ params }, { service }) => ok(await service.relationStatus(params.id)),
  }),
  route({
    method: 'POST',
    url: '/api/relations',
    operationId: 'link',
    summary: 'Links an existing contact with an existing account and reconciles them once',
    access: 'change',
    params: s.noParams,
    query: s.noQuery,
    body: s.linkBody,
    responses: {
      201: { description: 'Linked; the field changes the reconciliation made', schema: s.linkResultSchema },
    },
    handle: async ({ body, actor }, { service }) => created(await service.link(body, actor)),
  }),
  route({
    method: 'DELETE',
    url: '/api/relations/:id',
    operationId: 'unlink',
    summary: 'Removes a business relation; both records stay',
    access: 'change',
    params: s.idParams,
    query: s.noQuery,
    responses: { 200: { description: 'The removed relation', schema: s.relationSchema } },
    handle: async ({ params, actor }, { service }) => ok(await service.unlink(params.id, actor)),
  }),
  route({
    method: 'POST',
    url: '/api/contacts/:contactId/accounts',
    operationId: 'createAccountFromContact',
    summary: "Creates a customer, vendor or bank account from a contact and links it (NAV's Create as Customer)",
    access: 'change',
    params: s.contactParams,
    query: s.noQuery,
    body: s.createAccountBody,
    idempotent: true,
    responses: {
      201: { description: 'Created and linked', schema: s.createdAccountSchema },
      200: {
        description: 'It already existed (same contact and kind, or same Idempotency-Key)',
        schema: s.createdAccountSchema,
      },
    },
    handle: async ({ params, body, actor, idempotencyKey }, { service }) => {
      const result = await service.createAccountFromContact(
        { contactId: params.contactId, ...body, idempotencyKey },
        actor,
      );
      return { status: result.created ? 201 : 200, body: result };
    },
  }),
  route({
    method: 'POST',
    url: '/api/accounts/:kind/:accountId/contact',
    operationId: 'createContactFromAccount',
    summary: "Creates a company contact (and its contact person) from an account and links it (NAV's Create Contact)",
    access: 'change',
    params: s.accountParams,
    query: s.noQuery,
    idempotent: true,
    responses: {
      201: { description: 'Created and linked', schema: s.createdContactSchema },
      200: { description: 'It already existed', schema: s.createdContactSchema },
    },
    handle: async ({ params, actor, idempotencyKey }, { service }) => {
      const result = await service.createContactFromAccount(
        { accountKind: params.kind, accountId: params.accountId, idempotencyKey },
        actor,
      );
      return { status: result.created ? 201 : 200, body: result };
    },
  }),
  route({
    method: 'GET',
    url: '/api/search',
    operationId: 'searchRecords',
    summary:
      'Contacts, customers, vendors or bank accounts found on their system by name, e-mail, number or VAT no. (or id), each with its relations',
    access: 'read',
    params: s.noParams,
    query: s.searchQuery,
    responses: { 200: { description: 'The records found, best first', schema: s.searchHitSchema.array() } },
    handle: async ({ query }, { service }) => ok(await service.searchRecords(query)),
  }),
  route({
    method: 'GET',
    url: '/api/matches',
    operationId: 'proposeMatches',
    priority: 'bulk',
    summary: 'Proposes pairs of unlinked contacts and accounts (dry run: nothing is linked)',
    access: 'read',
    params: s.noParams,
    query: s.matchesQuery,
    responses: { 200: { description: 'The proposal', schema: s.matchProposalSchema } },
    handle: async ({ query }, { service }) => ok(await service.proposeMatches({ kinds: asList(query.kind) })),
  }),
  route({
    method: 'POST',
    url: '/api/matches/apply',
    operationId: 'applyMatches',
    priority: 'bulk',
    summary: 'Links the unambiguous pairs of a fresh proposal',
    access: 'change',
    params: s.noParams,
    query: s.noQuery,
    body: s.applyMatchesBody,
    responses: {
      200: { description: 'What was linked, what failed and what needs review', schema: s.applyResultSchema },
    },
    handle: async ({ body, actor }, { service }) => ok(await service.applyMatches(body, actor)),
  }),
  route({
    method: 'GET',
    url: '/api/contacts/:contactId/interactions',
    operationId: 'listInteractions',
    summary: "A contact's interaction log",
    access: 'read',
    params: s.contactParams,
    query: s.noQuery,
    responses: { 200: { description: 'The interactions', schema: s.interactionSchema.array() } },
    handle: async ({ params }, { service }) => ok(await service.listInteractions(params.contactId)),
  }),
  route({
    method: 'POST',
    url: '/api/contacts/:contactId/interactions',
    operationId: 'recordInteraction',
    summary: "Records an interaction in a contact's log",
    access: 'change',
    params: s.contactParams,
    query: s.noQuery,
    body: s.interactionBody,
    responses: { 201: { description: 'The recorded interaction', schema: s.interactionSchema } },
    handle: async ({ params, body, actor }, { service }) =>
      created(await service.recordInteraction(params.contactId, body, actor)),
  }),
  route({
    method: 'POST',
    url: '/api/contacts/:contactId/documents',
    operationId: 'createDocument',
    summary: "Starts a quote or order for the contact's linked customer or vendor",
    access: 'change',
    params: s.contactParams,
    query: s.noQuery,
    body: s.documentBody,
    idempotent: true,
    responses: {
      201: { description: 'The started document and the interaction recording it', schema: s.createdDocumentSchema },
    },
    handle: async ({ params, body, actor, idempotencyKey }, { service }) =>
      created(await service.createDocument(params.contactId, { type: body.type, idempotencyKey }, actor)),
  }),
  route({
    method: 'GET',
    url: '/api/audit',
    operationId: 'audit',
    summary: 'The audit log, filtered (filters combine with AND)',
    access: 'read',
    params: s.noParams,
    query: s.auditQuery,
    responses: { 200: { description: 'Audit entries', schema: s.auditListSchema } },
    handle: async ({ query }, { service }) => ok(await service.audit(query)),
  }),
  route({
    method: 'GET',
    url: '/api/status',
    operationId: 'status',
    summary: 'The daemon: role, uptime, connectors, queue job counts, relations per kind, relation codes',
    access: 'read',
    params: s.noParams,
    query: s.noQuery,
    responses: { 200: { description: 'The status', schema: s.daemonStatusSchema } },
    handle: async (_input, { status }) => ok(await status()),
  }),
  route({
    method: 'GET',
    url: '/api/drift',
    operationId: 'driftStatus',
    summary: 'The drift sweep: how far the running one is, and what the last one found and repaired',
    access: 'read',
    params: s.noParams,
    query: s.noQuery,
    responses: { 200: { description: 'The sweep’s state', schema: s.driftStatusSchema } },
    handle: async (_input, { drift }) => ok(await requireDrift(drift).status()),
  }),
  route({
    method: 'POST',
    url: '/api/drift',
    operationId: 'startDrift',
    summary: 'Starts a drift sweep now (202), unless one is running in any process (409)',
    access: 'change',
    params: s.noParams,
    query: s.noQuery,
    responses: {
      202: { description: 'Started; poll GET /api/drift for its progress', schema: s.driftStartSchema },
      409: { description: 'A sweep is running already', schema: s.problemSchema },
    },
    handle: async (_input, { drift }) => {
      const result = await requireDrift(drift).start();
      if (!result.started) throw new ConflictProblem('IN_PROGRESS', 'a drift sweep is running already');
      return { status: 202, body: result };
    },
  }),
  route({
    method: 'GET',
    url: '/api/first-sync',
    operationId: 'firstSyncStatus',
    summary: 'The first sync: how far the running one is, and what the last one (or dry run) found and did',
    access: 'read',
    params: s.noParams,
    query: s.noQuery,
    responses: { 200: { description: 'The first sync’s state', schema: s.firstSyncStatusSchema } },
    handle: async (_input, { firstSync }) => ok(await requireFirstSync(firstSync).status()),
  }),
  route({
    method: 'POST',
    url: '/api/first-sync',
    operationId: 'startFirstSync',
    summary:
      'Starts the first sync (or a dry run that only counts) in the background (202), resuming an unfinished one; 409 while one runs in any process',
    access: 'change',
    params: s.noParams,
    query: s.noQuery,
    body: s.firstSyncBody,
    responses: {
      202: { description: 'Started; poll GET /api/first-sync for its progress', schema: s.firstSyncStartSchema },
      409: { description: 'A first sync is running already', schema: s.problemSchema },
    },
    handle: async ({ body }, { firstSync }) => {
      const result = await requireFirstSync(firstSync).start(body);
      if (!result.started) throw new ConflictProblem('IN_PROGRESS', 'a first sync is running already');
      return { status: 202, body: result };
    },
  }),
];

function requireFirstSync(firstSync: RouteDeps['firstSync']): NonNullable<RouteDeps['firstSync']> {
  if (!firstSync) throw new NotFoundProblem('this daemon runs no first sync');
  return firstSync;
}

function requireDrift(drift: RouteDeps['drift']): NonNullable<RouteDeps['drift']> {
  if (!drift) throw new NotFoundProblem('this daemon runs no drift sweep');
  return drift;
}
