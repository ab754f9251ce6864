/**
 * Pipedrive's own models as the judge of what tandem sends: the official `pipedrive` package is
 * generated from Pipedrive's OpenAPI document (https://developers.pipedrive.com/docs/api/v1), and
 * its v2 models are TypeScript interfaces. They carry no runtime description, so the checker reads
 * the package's declaration files with the TypeScript compiler and holds a value to an interface:
 * a property the model does not have, a wrong type, a value outside an enum or a missing required
 * property is a violation.
 */
import { dirname, join } from 'node:path';
import ts from 'typescript';

/** Where the generated v2 models are declared. */
// The package's exports name `pipedrive/v2`, whose entry is dist/versions/v2/index.js.
const MODELS = join(dirname(require.resolve('pipedrive/v2')), 'models');

/** The v2 models tandem's request bodies and fixtures use, by interface name and declaration file. */
export const PIPEDRIVE_MODELS = {
  AddOrganizationRequest: 'add-organization-request',
  UpdateOrganizationRequest: 'update-organization-request',
  AddPersonRequest: 'add-person-request',
  UpdatePersonRequest: 'update-person-request',
  OrganizationItem: 'organization-item',
  Person: 'person',
  GetOrganizationSearchResponseAllOfDataItemsInnerItem: 'get-organization-search-response-all-of-data-items-inner-item',
  GetPersonSearchResponseAllOfDataItemsInnerItem: 'get-person-search-response-all-of-data-items-inner-item',
} as const;
/** A model name the checker knows. */
export type PipedriveModel = keyof typeof PIPEDRIVE_MODELS;

let loaded: { checker: ts.TypeChecker; types: Map<string, ts.Type> } | null = null;

/** Compiles the declaration files once and keeps each model's type. */
function load(): { checker: ts.TypeChecker; types: Map<string, ts.Type> } {
  if (loaded) return loaded;
  const files = Object.values(PIPEDRIVE_MODELS).map((file) => join(MODELS, `${file}.d.ts`));
  const program = ts.createProgram(files, { strict: true, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const types = new Map<string, ts.Type>();
  for (const [name, file] of Object.entries(PIPEDRIVE_MODELS)) {
    const source = program.getSourceFile(join(MODELS, `${file}.d.ts`));
    const declaration = source?.statements.find(
      (statement): statement is ts.InterfaceDeclaration =>
        ts.isInterfaceDeclaration(statement) && statement.name.text === name,
    );
    if (!declaration) throw new Error(`no interface ${name} in ${file}.d.ts of the pipedrive package`);
    types.set(name, checker.getTypeAtLocation(declaration));
  }
  loaded = { checker, types };
  return loaded;
}

/** Violations of `value` against the generated model `name`. */
export function modelViolations(name: PipedriveModel, value: unknown, path: string = name): string[] {
  const { checker, types } = load();
  const type = types.get(name);
  if (!type) throw new Error(`no model ${name}`);
  return typeViolations(checker, type, value, path);
}

function typeViolations(checker: ts.TypeChecker, type: ts.Type, value: unknown, path: string): string[] {
  const flags = type.getFlags();
  if (flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return [];
  if (type.isUnion()) {
    const each = type.types.map((member) => typeViolations(checker, member, value, path));
    if (each.some((found) => found.length === 0)) return [];
    // Told against the member that carries a value (not the `undefined` of an optional property).
    const told = type.types.findIndex((member) => !(member.getFlags() & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
    return each[told === -1 ? 0 : told] ?? [];
  }
  const shown = checker.typeToString(type);
  if (flags & ts.TypeFlags.Null) return value === null ? [] : [`${path}: expected null`];
  if (flags & ts.TypeFlags.Undefined) return value === undefined ? [] : [`${path}: expected nothing`];
  if (value === null) return [`${path}: null is not ${shown}`];
  if (type.isStringLiteral() || type.isNumberLiteral())
    return value === type.value ? [] : [`${path}: ${JSON.stringify(value)} is not ${shown}`];
  if (flags & ts.TypeFlags.String) return typeof value === 'string' ? [] : [`${path}: expected a string`];
  if (flags & ts.TypeFlags.Number) return typeof value === 'number' ? [] : [`${path}: expected a number`];
  if (flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral))
    return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
  if (checker.isArrayType(type)) {
    if (!Array.isArray(value)) return [`${path}: expected an array`];
    const [item] = checker.getTypeArguments(type as ts.TypeReference);
    return item ? value.flatMap((entry, index) => typeViolations(checker, item, entry, `${path}[${index}]`)) : [];
  }
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected a ${shown} object`];
  const record = value as Record<string, unknown>;
  const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
  const properties = new Map(checker.getPropertiesOfType(type).map((property) => [property.getName(), property]));
  const violations: string[] = [];
  for (const [key, entry] of Object.entries(record)) {
    const property = properties.get(key);
    if (property)
      violations.push(...typeViolations(checker, checker.getTypeOfSymbol(property), entry, `${path}.${key}`));
    else if (index) violations.push(...typeViolations(checker, index.type, entry, `${path}.${key}`));
    else violations.push(`${path}.${key}: not a property of ${shown}`);
  }
  for (const [key, property] of properties)
    if (!(property.getFlags() & ts.SymbolFlags.Optional) && !(key in record))
      violations.push(`${path}.${key}: required by ${shown}, missing`);
  return violations;
}
