/**
 * Dataverse's account and contact tables as the judge of what tandem sends to Dynamics 365 Sales
 * and of what its fixtures and sandbox answer: the manifest in ./spec, transcribed from Microsoft's
 * table reference pages (MicrosoftDocs/powerapps-docs, CC BY 4.0; see spec/README.md). A POST may
 * set only columns valid for create, a PATCH only columns valid for update; a lookup is set through
 * its navigation property (`parentcustomerid_account@odata.bind`), never by its column name. A
 * record as the Web API answers it names columns by logical name and lookups as `_<column>_value`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';

/** The vendored manifest: the delivered JSON byte for byte, gzipped (sha256 in ./spec/SOURCE.md). */
export const DATAVERSE_MANIFEST_FILE = join(__dirname, 'spec', 'dataverse-entities.json.gz');

const attributeSchema = z.object({
  logicalName: z.string(),
  type: z.string(),
  requiredLevel: z.string(),
  isValidForCreate: z.boolean(),
  isValidForUpdate: z.boolean(),
  isValidForRead: z.boolean(),
  maxLength: z.number().optional(),
  targets: z.array(z.string()).optional(),
});
const entitySchema = z.object({
  logicalName: z.string(),
  entitySetName: z.string(),
  primaryIdAttribute: z.string(),
  attributes: z.array(attributeSchema),
  manyToOne: z.array(
    z.object({
      referencedEntity: z.string(),
      referencingAttribute: z.string(),
      referencingEntityNavigationPropertyName: z.string(),
    }),
  ),
});
const manifestSchema = z.object({ entities: z.record(z.string(), entitySchema) });

/** One column of a table, as the manifest has it. */
export type DataverseAttribute = z.infer<typeof attributeSchema>;
/** One table, as the manifest has it. */
export type DataverseEntity = z.infer<typeof entitySchema>;

let loaded: z.infer<typeof manifestSchema> | undefined;
/** The manifest, read once per process. */
export function dataverseManifest(): z.infer<typeof manifestSchema> {
  loaded ??= manifestSchema.parse(JSON.parse(gunzipSync(readFileSync(DATAVERSE_MANIFEST_FILE)).toString('utf8')));
  return loaded;
}

/** A table by logical name (`account`) or entity set (`accounts`); throws for one the manifest lacks. */
export function dataverseEntity(name: string): DataverseEntity {
  const entities = Object.values(dataverseManifest().entities);
  const entity = entities.find((candidate) => candidate.logicalName === name || candidate.entitySetName === name);
  if (entity === undefined) throw new Error(`dataverse manifest: no table '${name}'`);
  return entity;
}

/** A column of a table by logical name, or undefined. */
export function dataverseAttribute(table: string, column: string): DataverseAttribute | undefined {
  return dataverseEntity(table).attributes.find((attribute) => attribute.logicalName === column);
}

/** Instance annotations (`@odata.etag`, `@odata.type`, ...) are not columns. */
const isAnnotation = (key: string) => key.startsWith('@');

/**
 * Why a POST (create) or PATCH (update) of `body` to `table` would set a column the manifest does
 * not allow for that operation: an unknown column, one not valid for create or update, a lookup
 * set by its column name instead of its navigation property, or a bind to a navigation property
 * the table does not have. Empty when every key is allowed.
 */
export function bodyViolations(table: string, method: 'POST' | 'PATCH', body: unknown): string[] {
  const entity = dataverseEntity(table);
  const where = `${method} ${entity.entitySetName}`;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [`${where}: the body is not an object`];
  const valid = (attribute: DataverseAttribute) =>
    method === 'POST' ? attribute.isValidForCreate : attribute.isValidForUpdate;
  const operation = method === 'POST' ? 'create' : 'update';
  return Object.keys(body).flatMap((key) => {
    if (isAnnotation(key)) return [];
    if (key.endsWith('@odata.bind')) {
      const navigation = key.slice(0, -'@odata.bind'.length);
      const relation = entity.manyToOne.find((many) => many.referencingEntityNavigationPropertyName === navigation);
      if (relation === undefined)
        return [`${where}: '${navigation}' is not a navigation property of ${entity.logicalName}`];
      const column = dataverseAttribute(entity.logicalName, relation.referencingAttribute);
      return column === undefined || valid(column)
        ? []
        : [`${where}: '${relation.referencingAttribute}' (bound as '${navigation}') is not valid for ${operation}`];
    }
    const attribute = dataverseAttribute(entity.logicalName, key);
    if (attribute === undefined) return [`${where}: '${key}' is not a column of ${entity.logicalName}`];
    if (!valid(attribute)) return [`${where}: '${key}' is not valid for ${operation}`];
    if (entity.manyToOne.some((many) => many.referencingAttribute === key))
      return [`${where}: '${key}' is a lookup: set it with its navigation property and @odata.bind`];
    return [];
  });
}

/**
 * Why `record`, as a fixture or an answer of the Web API for `table`, carries something that is no
 * real column: every key must be a readable column (a lookup as `_<column>_value`), or an
 * annotation (`@odata.etag`, `_<column>_value@OData.Community.Display.V1.FormattedValue`).
 */
export function recordViolations(table: string, record: unknown): string[] {
  const entity = dataverseEntity(table);
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return [`${entity.logicalName}: the record is not an object`];
  const lookups = new Set(entity.manyToOne.map((many) => many.referencingAttribute));
  return Object.keys(record).flatMap((key) => {
    if (isAnnotation(key)) return [];
    const property = key.split('@')[0] ?? key;
    const lookup = /^_(.+)_value$/.exec(property)?.[1];
    if (lookup !== undefined)
      return lookups.has(lookup) ? [] : [`${entity.logicalName}: '${key}' names no lookup column`];
    const attribute = dataverseAttribute(entity.logicalName, property);
    if (attribute === undefined) return [`${entity.logicalName}: '${key}' is not a column`];
    if (lookups.has(property))
      return [`${entity.logicalName}: '${key}' is a lookup: the Web API answers '_${property}_value'`];
    return attribute.isValidForRead ? [] : [`${entity.logicalName}: '${key}' is not readable`];
  });
}
