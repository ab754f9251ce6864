/**
 * Checks HTTP requests and responses against Xero's official OpenAPI documents (XeroAPI/Xero-OpenAPI,
 * MIT, vendored in ./spec): the operation is found by method and path template, then parameters,
 * the JSON request body and the JSON response body for the status are validated with Ajv.
 *
 * Requests are held to a stricter copy of the document in which every object schema refuses
 * properties it does not list, so a misspelt property fails the test instead of being ignored by
 * Xero. Responses are held to the document as published.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

/** Where the vendored documents live. */
export const SPEC_DIR = join(__dirname, 'spec');
const ACCOUNTING_FILE = join(SPEC_DIR, 'xero_accounting.yaml');
const WEBHOOKS_FILE = join(SPEC_DIR, 'xero-webhooks.yaml');

/** The Accounting API's server path, which the document's paths are relative to. */
export const ACCOUNTING_BASE_PATH = '/api.xro/2.0';

type Json = Record<string, unknown>;

/**
 * Parses a YAML document once per process, and once per machine: the parsed JSON is kept in the
 * temp directory under the file's hash (parsing the 900 KB YAML takes ~0.6 s, the JSON ~10 ms).
 */
function loadDocument(file: string): Json {
  const text = readFileSync(file, 'utf8');
  const cached = join(tmpdir(), `tandem-openapi-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  if (existsSync(cached)) {
    try {
      return JSON.parse(readFileSync(cached, 'utf8')) as Json;
    } catch {
      // A half-written cache from a parallel run: parse the YAML instead.
    }
  }
  const document = parseYaml(text) as Json;
  try {
    writeFileSync(`${cached}.${process.pid}`, JSON.stringify(document));
    // Renamed into place so a parallel reader never sees half a file.
    renameSync(`${cached}.${process.pid}`, cached);
  } catch {
    // No writable temp directory: every run parses the YAML.
  }
  return document;
}

/** Escapes one JSON pointer token. */
function token(value: string): string {
  return value.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Every object schema with `properties` and no `additionalProperties` refuses unlisted ones. */
function closeObjectSchemas(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjectSchemas);
  if (node === null || typeof node !== 'object') return node;
  const copy: Json = {};
  for (const [key, value] of Object.entries(node))
    copy[key] = key === 'example' || key === 'examples' ? value : closeObjectSchemas(value);
  if (
    copy.properties !== undefined &&
    typeof copy.properties === 'object' &&
    copy.additionalProperties === undefined &&
    copy.allOf === undefined &&
    copy.oneOf === undefined &&
    copy.anyOf === undefined
  ) {
    copy.additionalProperties = false;
  }
  return copy;
}

interface Operation {
  template: string;
  method: string;
  pointer: string;
  operation: Json;
  parameters: { definition: Json; pointer: string }[];
}

/** A request as the connector sent it. */
export interface SentRequest {
  method: string;
  /** Path below the API base, with or without the query string, e.g. `/Contacts?page=1`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, undefined when there is none. */
  body?: unknown;
}

/** A response as the test (or a sandbox) answered it. */
export interface ReceivedResponse {
  method: string;
  path: string;
  status: number;
  body?: unknown;
}

/** Validates against xero_accounting.yaml. One instance per process; see `accountingValidator()`. */
export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly document: Json;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly operations: Operation[] = [];

  constructor(document: Json) {
    this.document = document;
    this.ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, logger: false });
    addFormats(this.ajv);
    this.ajv.addSchema(document, 'published');
    this.ajv.addSchema(closeObjectSchemas(document) as Json, 'strict');
    for (const [template, item] of Object.entries((document.paths ?? {}) as Record<string, Json>)) {
      const shared = (item.parameters ?? []) as Json[];
      for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
        const operation = item[method] as Json | undefined;
        if (operation === undefined) continue;
        const pointer = `#/paths/${token(template)}/${method}`;
        const parameters = [
          ...shared.map((definition, index) =>
            this.resolve(definition, `#/paths/${token(template)}/parameters/${index}`),
          ),
          ...((operation.parameters ?? []) as Json[]).map((definition, index) =>
            this.resolve(definition, `${pointer}/parameters/${index}`),
          ),
        ];
        this.operations.push({ template, method: method.toUpperCase(), pointer, operation, parameters });
      }
    }
  }

  /** Follows a local `$ref` (parameters, request bodies, responses); returns the target and its pointer. */
  private resolve(node: Json, pointer: string): { definition: Json; pointer: string } {
    const ref = node.$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return { definition: node, pointer };
    let target: unknown = this.document;
    for (const part of ref.slice(2).split('/')) target = (target as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    return this.resolve(target as Json, ref);
  }

  private validator(document: 'published' | 'strict', pointer: string): ValidateFunction {
    const id = `${document}${pointer}`;
    let validate = this.compiled.get(id);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: id });
      this.compiled.set(id, validate);
    }
    return validate;
  }

  private check(document: 'published' | 'strict', pointer: string, value: unknown, what: string): string[] {
    const validate = this.validator(document, pointer);
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (error) =>
        `${what}${error.instancePath} ${error.message ?? 'is invalid'}${Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : ''}`,
    );
  }

  /** The operation for a method and a concrete path, choosing the template whose path parameters validate. */
  findOperation(method: string, path: string): { operation: Operation; pathParams: Record<string, string> } | null {
    const segments = path.split('?')[0]!.replace(/\/+$/, '').split('/');
    let best: { operation: Operation; pathParams: Record<string, string>; score: number } | null = null;
    for (const operation of this.operations) {
      if (operation.method !== method.toUpperCase()) continue;
      const parts = operation.template.split('/');
      if (parts.length !== segments.length) continue;
      const pathParams: Record<string, string> = {};
      let score = 0;
      let matches = true;
      for (const [index, part] of parts.entries()) {
        const segment = decodeURIComponent(segments[index]!);
        const param = /^\{(.+)\}$/.exec(part);
        if (param) pathParams[param[1]!] = segment;
        else if (part === segment) score += 100;
        else matches = false;
      }
      if (!matches) continue;
      // Among /Contacts/{ContactID} and /Contacts/{ContactNumber}, the one whose parameter schema
      // accepts the value and is the more specific (a format) wins.
      let valid = true;
      for (const [name, value] of Object.entries(pathParams)) {
        const parameter = operation.parameters.find(
          (candidate) => candidate.definition.in === 'path' && candidate.definition.name === name,
        );
        if (parameter === undefined) continue;
        if (this.check('published', `${parameter.pointer}/schema`, value, '').length > 0) valid = false;
        else if ((parameter.definition.schema as Json | undefined)?.format !== undefined) score += 1;
      }
      if (valid && (best === null || score > best.score)) best = { operation, pathParams, score };
    }
    return best === null ? null : { operation: best.operation, pathParams: best.pathParams };
  }

  /** Every way the request breaks the document; empty when it conforms. */
  validateRequest(request: SentRequest): string[] {
    const found = this.findOperation(request.method, request.path);
    const label = `${request.method.toUpperCase()} ${request.path}`;
    if (found === null) return [`${label}: no operation in xero_accounting.yaml matches`];
    const { operation } = found;
    const problems: string[] = [];
    const headers = new Map(
      Object.entries(request.headers).map(([name, value]) => [
        name.toLowerCase(),
        Array.isArray(value) ? value.join(', ') : value,
      ]),
    );
    const query = new URLSearchParams(
      request.path.includes('?') ? request.path.slice(request.path.indexOf('?') + 1) : '',
    );

    for (const name of new Set(query.keys())) {
      const parameter = operation.parameters.find(
        (candidate) => candidate.definition.in === 'query' && candidate.definition.name === name,
      );
      if (parameter === undefined) {
        problems.push(
          `${label}: query parameter '${name}' is not in the operation ${String(operation.operation.operationId)}`,
        );
        continue;
      }
      const value = coerce(query.get(name)!, parameter.definition.schema as Json | undefined);
      problems.push(...this.check('published', `${parameter.pointer}/schema`, value, `${label}: query ${name}`));
    }
    for (const { definition, pointer } of operation.parameters) {
      const name = String(definition.name);
      if (definition.in === 'header') {
        const value = headers.get(name.toLowerCase());
        if (value === undefined) {
          if (definition.required === true) problems.push(`${label}: required header '${name}' is missing`);
          continue;
        }
        problems.push(...this.check('published', `${pointer}/schema`, value, `${label}: header ${name}`));
      } else if (definition.in === 'query' && definition.required === true && !query.has(name)) {
        problems.push(`${label}: required query parameter '${name}' is missing`);
      }
    }

    const requestBody = operation.operation.requestBody as Json | undefined;
    if (requestBody === undefined) {
      if (request.body !== undefined && request.body !== '')
        problems.push(`${label}: the operation takes no request body`);
      return problems;
    }
    const resolved = this.resolve(requestBody, `${operation.pointer}/requestBody`);
    if (request.body === undefined || request.body === '') {
      if (resolved.definition.required === true) problems.push(`${label}: the request body is required`);
      return problems;
    }
    const content = resolved.definition.content as Record<string, unknown> | undefined;
    if (content?.['application/json'] === undefined) return [...problems, `${label}: the operation takes no JSON body`];
    problems.push(
      ...this.check('strict', `${resolved.pointer}/content/application~1json/schema`, request.body, `${label}: body`),
    );
    return problems;
  }

  /**
   * Every way the response breaks the document. A status the operation does not document passes
   * only without a JSON body (Xero's 401, 404 and 429 answers are not in the document).
   */
  validateResponse(response: ReceivedResponse): string[] {
    const found = this.findOperation(response.method, response.path);
    const label = `${response.method.toUpperCase()} ${response.path} -> ${response.status}`;
    if (found === null) return [`${label}: no operation in xero_accounting.yaml matches`];
    const { operation } = found;
    const responses = (operation.operation.responses ?? {}) as Record<string, Json>;
    const documented = responses[String(response.status)] ?? responses.default;
    const hasJsonBody = response.body !== undefined && response.body !== '' && typeof response.body !== 'string';
    if (documented === undefined)
      return hasJsonBody
        ? [`${label}: status ${response.status} is not documented, yet the answer has a JSON body`]
        : [];
    const key = responses[String(response.status)] === undefined ? 'default' : String(response.status);
    const resolved = this.resolve(documented, `${operation.pointer}/responses/${key}`);
    const content = resolved.definition.content as Record<string, unknown> | undefined;
    if (content?.['application/json'] === undefined) return [];
    if (!hasJsonBody) return [`${label}: the documented answer has a JSON body, this one has none`];
    return this.check(
      'published',
      `${resolved.pointer}/content/application~1json/schema`,
      response.body,
      `${label}: body`,
    );
  }

  /** Validates a value against a named component schema, e.g. `Contact`. */
  validateSchema(name: string, value: unknown, options: { strict?: boolean } = {}): string[] {
    return this.check(
      options.strict === true ? 'strict' : 'published',
      `#/components/schemas/${token(name)}`,
      value,
      name,
    );
  }
}

/** Turns a query string value into the JSON type its schema wants, so Ajv checks the right thing. */
function coerce(value: string, schema: Json | undefined): unknown {
  switch (schema?.type) {
    case 'integer':
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'array':
      return value.split(',').map((item) => coerce(item, schema.items as Json | undefined));
    default:
      return value;
  }
}

let accounting: OpenApiValidator | undefined;

/** The validator for xero_accounting.yaml, built once per test file. */
export function accountingValidator(): OpenApiValidator {
  accounting ??= new OpenApiValidator(loadDocument(ACCOUNTING_FILE));
  return accounting;
}

/**
 * Xero sends eventDateUtc without a zone (`2024-06-21T01:15:39.902`, as in the document's own
 * examples), which JSON Schema's `date-time` refuses; it means UTC, so a missing zone is allowed.
 */
const XERO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i;

let webhookEvent: ValidateFunction | undefined;

/** Every way a webhook body breaks xero-webhooks.yaml (OpenAPI 3.1, `WebhookEvent`). */
export function validateWebhookBody(body: unknown): string[] {
  if (webhookEvent === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: false, logger: false });
    addFormats(ajv);
    ajv.addFormat('date-time', XERO_DATE_TIME);
    ajv.addSchema(loadDocument(WEBHOOKS_FILE), 'webhooks');
    webhookEvent = ajv.compile({ $ref: 'webhooks#/components/schemas/WebhookEvent' });
  }
  if (webhookEvent(body)) return [];
  return (webhookEvent.errors ?? []).map(
    (error) => `webhook body${error.instancePath} ${error.message ?? 'is invalid'}`,
  );
}
