/**
 * The OpenAPI 3.1 document of the admin API, generated from the route table and its zod schemas
 * (OpenAPI 3.1 uses JSON Schema 2020-12, which is what z.toJSONSchema produces).
 */
import { z } from 'zod';
import type { AdminRoute } from './routes';
import { problemSchema } from './schemas';

/** The path of the document itself. */
export const OPENAPI_PATH = '/api/openapi.json';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

const problem = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** `/api/relations/:id` -> `/api/relations/{id}`. */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(route: AdminRoute): unknown[] {
  const list: unknown[] = [];
  for (const [location, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    const json = toSchema(schema, 'input');
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      list.push({
        name,
        in: location,
        required: location === 'path' || required.has(name),
        schema: property,
        ...(location === 'query' && 'anyOf' in property ? { style: 'form', explode: true } : {}),
      });
    }
  }
  if (route.idempotent) {
    list.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Repeating a request with the same key returns the first result instead of creating a second record.',
      schema: { type: 'string', minLength: 1, maxLength: 200 },
    });
  }
  return list;
}

function operation(route: AdminRoute): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    responses[status] = spec.schema
      ? { description: spec.description, content: { 'application/json': { schema: toSchema(spec.schema, 'output') } } }
      : { description: spec.description };
  }
  responses['400'] = problem('Invalid input: `field` names the parameter or body field, `reason` says what is wrong');
  responses['401'] = problem('No token, or not a configured one');
  if (route.access === 'change') responses['403'] = problem('A viewer token: changes need an admin token');
  if (route.url.includes(':')) responses['404'] = problem('Unknown contact, account, relation or document');
  if (route.access === 'change') {
    responses['409'] = problem(
      'Conflicts with the current state (a relation of that kind exists, the account is linked elsewhere, no relation code, ...)',
    );
    responses['422'] = problem('An Idempotency-Key sent again with another request than the one it was first used for');
    responses['502'] = problem('The CRM or the accounting system refused or failed the operation');
  }
  responses['500'] = problem('An unexpected failure; the server log has the details under `requestId`');
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.access === 'read' ? 'read (viewer or admin token)' : 'change (admin token)'],
    parameters: parameters(route),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input') } } } }
      : {}),
    responses,
  };
}

/** Builds the document of the routes given; `serverUrl` is where the daemon is reached. */
export function buildOpenApiDocument(options: {
  version: string;
  serverUrl?: string;
  routes: readonly AdminRoute[];
}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  paths[OPENAPI_PATH] = {
    get: {
      operationId: 'openApiDocument',
      summary: 'This document (needs a viewer or admin token, like every admin route)',
      responses: {
        200: {
          description: 'The OpenAPI 3.1 document',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
        401: problem('No token, or not a configured one'),
      },
    },
  };
  for (const route of options.routes) {
    (paths[openApiPath(route.url)] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tandem admin API',
      version: options.version,
      description:
        'Business relations between CRM contacts and accounting customers, vendors and bank accounts. ' +
        'Every route needs `Authorization: Bearer <token>`: a viewer token (TANDEM_VIEWER_TOKENS) reads, an admin token (TANDEM_ADMIN_TOKENS) also changes.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An admin or viewer token' } },
      schemas: { Problem: toSchema(problemSchema, 'output') },
    },
  };
}
