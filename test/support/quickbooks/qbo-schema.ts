/**
 * Checks QuickBooks Online JSON against Intuit's own schema: the entity manifest in ./spec
 * (derived from the XSDs of intuit/QuickBooks-V3-Java-SDK, Apache-2.0; see spec/README.md). A
 * property the schema does not have, an object where it has a value (or the other way round), a
 * list where it has one value, a wrong primitive type or an enum spelling it does not know is a
 * violation. Request bodies, canned answers and the sandbox's answers are all held to it.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Where the vendored manifest lives: Intuit's manifest byte for byte, gzipped (so that no formatter
 * ever rewrites it; sha256 of the JSON in ./spec/SOURCE.md).
 */
export const QBO_MANIFEST_FILE = join(__dirname, 'spec', 'qbo-entities.json.gz');

const fieldSchema = z.object({
  name: z.string(),
  type: z.string(),
  typeKind: z.string().optional(),
  maxOccurs: z.union([z.number(), z.string()]).optional(),
});
type Field = z.infer<typeof fieldSchema>;
const attributeSchema = z.object({ name: z.string(), type: z.string(), typeKind: z.string().optional() });
const manifestSchema = z.object({
  entities: z.record(
    z.string(),
    z.object({ fields: z.array(fieldSchema), attributes: z.array(attributeSchema).default([]) }),
  ),
  types: z.record(
    z.string(),
    z.object({
      kind: z.string(),
      content: z.string().optional(),
      baseChain: z.array(z.string()).optional(),
      fields: z.array(fieldSchema).optional(),
      attributes: z.array(attributeSchema).optional(),
      values: z.array(z.string()).optional(),
    }),
  ),
  facts: z.array(z.object({ id: z.string() }).loose()),
});
type Manifest = z.infer<typeof manifestSchema>;

let loaded: Manifest | undefined;
/** The manifest, read once per process. */
export function qboManifest(): Manifest {
  loaded ??= manifestSchema.parse(JSON.parse(gunzipSync(readFileSync(QBO_MANIFEST_FILE)).toString('utf8')));
  return loaded;
}

/** The entities the manifest describes (Customer, Vendor, Account, Estimate, Invoice, PurchaseOrder). */
export const QBO_ENTITIES = ['Customer', 'Vendor', 'Account', 'Estimate', 'Invoice', 'PurchaseOrder'] as const;
export type QboEntityName = (typeof QBO_ENTITIES)[number];

/** A fact of the manifest by id (the webhook test vector, the batch limit, ...). */
export function qboFact(id: string): Record<string, unknown> {
  const fact = qboManifest().facts.find((candidate) => candidate.id === id);
  if (fact === undefined) throw new Error(`qbo-entities.json has no fact ${id}`);
  return fact;
}

interface Shape {
  fields: readonly Field[];
  attributes: readonly { name: string; type: string; typeKind?: string }[];
}

/** The fields of a complex type: its base chain's first, then its own. */
function typeShape(name: string): Shape | undefined {
  const { types } = qboManifest();
  const type = types[name];
  if (type === undefined || type.kind !== 'complex') return undefined;
  const chain = [...(type.baseChain ?? [])].reverse().map((base) => types[base]);
  return {
    fields: [...chain.flatMap((base) => base?.fields ?? []), ...(type.fields ?? [])],
    attributes: [...chain.flatMap((base) => base?.attributes ?? []), ...(type.attributes ?? [])],
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Violations of one primitive (xs:*, simple, enum) value. */
function checkPrimitive(path: string, type: string, typeKind: string | undefined, value: unknown): string[] {
  if (typeKind === 'enum') {
    const values = qboManifest().types[type]?.values ?? [];
    return typeof value === 'string' && values.includes(value)
      ? []
      : [`${path}: ${JSON.stringify(value)} is not one of ${type} (${values.slice(0, 8).join(', ')}...)`];
  }
  const wanted = /^xs:(boolean)$/.test(type)
    ? 'boolean'
    : /^xs:(decimal|int|integer|positiveInteger|long|double|float|short)$/.test(type)
      ? 'number'
      : 'string';
  // The JSON API sends decimals as numbers; a numeric string is what a JSON serializer may also send.
  const ok =
    typeof value === wanted ||
    (wanted === 'number' && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)));
  return ok ? [] : [`${path}: expected a ${wanted} (${type}), got ${JSON.stringify(value)}`];
}

/** Violations of a value of a field, by its declared type and occurrence. */
function checkField(path: string, field: Field, value: unknown): string[] {
  if (field.maxOccurs === 'unbounded') {
    if (!Array.isArray(value)) return [`${path}: expected a list (${field.type} is repeated), got ${describe(value)}`];
    return value.flatMap((item, index) => checkValue(`${path}[${index}]`, field.type, field.typeKind, item));
  }
  if (Array.isArray(value)) return [`${path}: expected one ${field.type}, got a list`];
  return checkValue(path, field.type, field.typeKind, value);
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'a list' : isObject(value) ? 'an object' : JSON.stringify(value);
}

/** Violations of one value of a type. */
function checkValue(path: string, type: string, typeKind: string | undefined, value: unknown): string[] {
  if (typeKind !== 'complex') {
    if (isObject(value) || Array.isArray(value)) return [`${path}: expected a value (${type}), got ${describe(value)}`];
    return checkPrimitive(path, type, typeKind, value);
  }
  // Any-typed extension blocks (CustomerEx, ...) hold what the server puts there.
  if (type === 'IntuitAnyType') return [];
  if (!isObject(value)) return [`${path}: expected an object (${type}), got ${describe(value)}`];
  const shape = typeShape(type);
  if (shape === undefined) return [`${path}: the manifest does not describe ${type}`];
  // ReferenceType and the like: simple content is `value`, attributes are properties beside it.
  const simpleContent = qboManifest().types[type]?.content === 'simpleContent';
  return checkObject(path, shape, value, simpleContent);
}

function checkObject(path: string, shape: Shape, value: Record<string, unknown>, simpleContent = false): string[] {
  const violations: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    const where = `${path}.${key}`;
    if (simpleContent && key === 'value') {
      if (typeof item !== 'string') violations.push(`${where}: expected a string, got ${describe(item)}`);
      continue;
    }
    const field = shape.fields.find((candidate) => candidate.name === key);
    if (field !== undefined) {
      violations.push(...checkField(where, field, item));
      continue;
    }
    const attribute = shape.attributes.find((candidate) => candidate.name === key);
    if (attribute !== undefined) {
      violations.push(...checkValue(where, attribute.type, attribute.typeKind, item));
      continue;
    }
    violations.push(`${where}: not in the schema`);
  }
  return violations;
}

/** Violations of an entity object (the value under `Customer`, `Vendor`, ...). */
export function checkQboEntity(entity: string, value: unknown, path: string = entity): string[] {
  const described = qboManifest().entities[entity];
  if (described === undefined) return [`${path}: ${entity} is not an entity of the manifest`];
  if (!isObject(value)) return [`${path}: expected an object (${entity}), got ${describe(value)}`];
  return checkObject(path, { fields: described.fields, attributes: described.attributes }, value);
}

const FAULT_KEYS = new Set(['Error', 'type']);
const ERROR_KEYS = new Set(['Message', 'Detail', 'code', 'element']);

/** Violations of a Fault envelope ({Error: [{Message, Detail, code, element}], type}). */
function checkFault(path: string, value: unknown): string[] {
  if (!isObject(value)) return [`${path}: expected an object (Fault), got ${describe(value)}`];
  const violations = Object.keys(value)
    .filter((key) => !FAULT_KEYS.has(key))
    .map((key) => `${path}.${key}: not in the schema`);
  const errors = value.Error;
  if (!Array.isArray(errors)) return [...violations, `${path}.Error: expected a list`];
  errors.forEach((error, index) => {
    if (!isObject(error)) violations.push(`${path}.Error[${index}]: expected an object`);
    else
      for (const key of Object.keys(error))
        if (!ERROR_KEYS.has(key)) violations.push(`${path}.Error[${index}].${key}: not in the schema`);
  });
  return violations;
}

/** Violations of a QueryResponse: startPosition, maxResults, totalCount and lists of entities. */
function checkQueryResponse(path: string, value: unknown): string[] {
  if (!isObject(value)) return [`${path}: expected an object (QueryResponse), got ${describe(value)}`];
  return Object.entries(value).flatMap(([key, item]): string[] => {
    const where = `${path}.${key}`;
    if (['startPosition', 'maxResults', 'totalCount'].includes(key))
      return typeof item === 'number' ? [] : [`${where}: expected a number`];
    if (key === 'Fault') return checkFault(where, item);
    if (!(key in qboManifest().entities)) return [`${where}: not in the schema (no such entity)`];
    if (!Array.isArray(item)) return [`${where}: expected a list of ${key}`];
    return item.flatMap((entity, index) => checkQboEntity(key, entity, `${where}[${index}]`));
  });
}

/** Violations of one BatchItemRequest: bId, operation, optionsData and exactly one payload. */
function checkBatchItem(path: string, value: unknown, response: boolean): string[] {
  if (!isObject(value)) return [`${path}: expected an object, got ${describe(value)}`];
  const violations: string[] = [];
  const payloads = Object.keys(value).filter((key) => !['bId', 'operation', 'optionsData'].includes(key));
  if (payloads.length !== 1)
    violations.push(`${path}: expected exactly one payload, got ${payloads.join(', ') || 'none'}`);
  if (response && 'operation' in value) violations.push(`${path}.operation: not in a BatchItemResponse`);
  const operations = qboManifest().types.OperationEnum?.values ?? [];
  if (
    !response &&
    value.operation !== undefined &&
    (typeof value.operation !== 'string' || !operations.includes(value.operation))
  )
    violations.push(`${path}.operation: ${JSON.stringify(value.operation)} is not one of OperationEnum`);
  for (const key of payloads) {
    const item = value[key];
    const where = `${path}.${key}`;
    if (key === 'Query' || key === 'ReportQuery') {
      if (typeof item !== 'string') violations.push(`${where}: expected a string`);
    } else if (key === 'Fault' && response) violations.push(...checkFault(where, item));
    else if (key === 'QueryResponse' && response) violations.push(...checkQueryResponse(where, item));
    else if (key === 'CDCQuery' && !response) {
      if (!isObject(item) || Object.keys(item).some((name) => !['Entities', 'ChangedSince'].includes(name)))
        violations.push(`${where}: expected {Entities, ChangedSince}`);
    } else violations.push(...checkQboEntity(key, item, where));
  }
  return violations;
}

/**
 * Violations of a whole JSON body the API takes or gives: an entity envelope (`{"Customer": {...},
 * "time": ...}`), a query answer, a CDC answer, a batch request or answer, or a Fault.
 */
export function checkQboBody(body: unknown, path = 'body'): string[] {
  if (!isObject(body)) return [`${path}: expected a JSON object, got ${describe(body)}`];
  return Object.entries(body).flatMap(([key, value]): string[] => {
    const where = `${path}.${key}`;
    if (key === 'time') return typeof value === 'string' ? [] : [`${where}: expected a string`];
    if (key === 'Fault') return checkFault(where, value);
    if (key === 'QueryResponse') return checkQueryResponse(where, value);
    if (key === 'CDCResponse') {
      if (!Array.isArray(value)) return [`${where}: expected a list`];
      return value.flatMap((response, index) => {
        const at = `${where}[${index}]`;
        if (!isObject(response)) return [`${at}: expected an object`];
        return Object.entries(response).flatMap(([name, item]): string[] => {
          if (name === 'size') return typeof item === 'number' ? [] : [`${at}.size: expected a number`];
          if (name === 'Fault') return checkFault(`${at}.Fault`, item);
          if (name !== 'QueryResponse') return [`${at}.${name}: not in the schema`];
          if (!Array.isArray(item)) return [`${at}.QueryResponse: expected a list`];
          return item.flatMap((query, position) => checkQueryResponse(`${at}.QueryResponse[${position}]`, query));
        });
      });
    }
    if (key === 'BatchItemRequest' || key === 'BatchItemResponse') {
      if (!Array.isArray(value)) return [`${where}: expected a list`];
      return value.flatMap((item, index) => checkBatchItem(`${where}[${index}]`, item, key === 'BatchItemResponse'));
    }
    if (key in qboManifest().entities) return checkQboEntity(key, value, where);
    return [`${where}: not in the schema`];
  });
}

/** Violations of an entity written as the bare body of POST /<entity> (create, sparse update). */
export function checkQboWrite(entity: string, body: unknown): string[] {
  return checkQboEntity(entity, body);
}
