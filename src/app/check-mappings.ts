/**
 * Checks the config's field mappings against what the configured connectors can read and write,
 * so a mapping onto a field a system does not have fails at start, not at the first write.
 */
import type { Connector, FieldDescription } from '../../connectors/kit/types';
import { mappingsFor, type TandemConfig } from '../config/schema';
import { ACCOUNT_KINDS, customFieldName, type AccountKind, type Entity } from '../core/model';

/** Lists every mapping a connector cannot serve, as `mappings.customer[3].account: ...` lines. */
export function unsupportedMappings(config: TandemConfig, crm: Connector, accounting: Connector): string[] {
  const problems: string[] = [];
  const contactFields = new Set(crm.fields.contact ?? []);
  const crmKind = config.connectors.crm.kind;
  const accountingKind = config.connectors.accounting.kind;
  for (const kind of ACCOUNT_KINDS) {
    if (config.relationCodes[kind] === null) continue;
    if (!accounting.entities.includes(kind)) {
      problems.push(
        `relationCodes.${kind}: the ${accountingKind} connector has no ${kind} records; set the code to null`,
      );
      continue;
    }
    const accountFields = new Set(accounting.fields[kind] ?? []);
    const contactProblem = (where: string, field: string) => {
      if (customFieldName(field) !== null)
        return crm.customFields?.includes('contact')
          ? null
          : `${where}: ${crmKind} does not read custom fields of contacts`;
      return contactFields.has(field) ? null : `${where}: ${crmKind} has no contact field '${field}'`;
    };
    const accountProblem = (where: string, field: string) => {
      if (customFieldName(field) !== null)
        return accounting.customFields?.includes(kind)
          ? null
          : `${where}: ${accountingKind} does not read custom fields of ${kind} records`;
      return accountFields.has(field)
        ? null
        : `${where}: ${accountingKind} ${kind} records have no field '${field}' (it has: ${[...accountFields].join(', ')})`;
    };
    mappingsFor(config, kind).forEach((mapping, index) => {
      const where = config.mappings[kind]
        ? `mappings.${kind}[${index}]`
        : `mappings.${kind} (default, every common field)`;
      for (const problem of [
        contactProblem(`${where}.contact`, mapping.contact),
        accountProblem(`${where}.account`, mapping.account),
      ])
        if (problem !== null) problems.push(problem);
    });
    for (const { where, side, field } of filterFieldsNamed(config, kind)) {
      const problem = side === 'contact' ? contactProblem(where, field) : accountProblem(where, field);
      if (problem !== null) problems.push(problem);
    }
  }
  return problems;
}

/** The fields a kind's sync filter names, each with its key path and side. */
function filterFieldsNamed(config: TandemConfig, kind: AccountKind) {
  return (['contact', 'account'] as const).flatMap((side) =>
    (config.filters[kind]?.[side] ?? []).map((condition, index) => ({
      where: `filters.${kind}.${side}[${index}].field`,
      side,
      field: condition.field,
    })),
  );
}

/** How long a start or an editor check waits for a provider's field schema. */
export const SCHEMA_TIMEOUT_MS = 10_000;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Checks the custom fields of the mappings against the providers' own schemas: each must exist,
 * and one the mapping writes must be writable there. Lines as unsupportedMappings gives them; a
 * provider whose schema cannot be read now is left out (its writes would name the field).
 */
export async function unsupportedCustomFields(
  config: TandemConfig,
  crm: Connector,
  accounting: Connector,
  timeoutMs = SCHEMA_TIMEOUT_MS,
): Promise<{ problems: string[]; unreadable: { slot: 'crm' | 'accounting'; error: unknown }[] }> {
  const problems: string[] = [];
  const unreadable: { slot: 'crm' | 'accounting'; error: unknown }[] = [];
  const schemas = new Map<string, Promise<Map<string, FieldDescription> | null>>();
  const schemaOf = (slot: 'crm' | 'accounting', connector: Connector, entity: Entity) => {
    const key = `${slot}|${entity}`;
    let schema = schemas.get(key);
    if (!schema) {
      schema = withTimeout(connector.describeFields?.(entity) ?? Promise.resolve([]), timeoutMs, `${slot} field schema`)
        .then((fields) => new Map(fields.map((field) => [field.name, field])))
        .catch((error: unknown) => {
          unreadable.push({ slot, error });
          return null;
        });
      schemas.set(key, schema);
    }
    return schema;
  };
  for (const kind of ACCOUNT_KINDS) {
    if (config.relationCodes[kind] === null) continue;
    // Every custom field named: by a mapping (written unless it only flows away), or by a filter (only read).
    const named: Array<{ where: string; slot: 'crm' | 'accounting'; field: string; written: boolean }> = [];
    for (const [index, mapping] of (config.mappings[kind] ?? []).entries()) {
      const where = `mappings.${kind}[${index}]`;
      named.push(
        {
          where: `${where}.contact`,
          slot: 'crm',
          field: mapping.contact,
          written: mapping.direction !== 'toAccounting',
        },
        {
          where: `${where}.account`,
          slot: 'accounting',
          field: mapping.account,
          written: mapping.direction !== 'toCrm',
        },
      );
    }
    for (const { where, side, field } of filterFieldsNamed(config, kind))
      named.push({ where, slot: side === 'contact' ? 'crm' : 'accounting', field, written: false });
    for (const side of named) {
      const connector = side.slot === 'crm' ? crm : accounting;
      const entity: Entity = side.slot === 'crm' ? 'contact' : kind;
      if (customFieldName(side.field) === null || !connector.customFields?.includes(entity)) continue;
      const schema = await schemaOf(side.slot, connector, entity);
      if (schema === null) continue;
      const kindName = config.connectors[side.slot].kind;
      const described = schema.get(side.field);
      if (!described) {
        const custom = [...schema.values()].filter((field) => field.custom).map((field) => field.name);
        problems.push(
          `${side.where}: ${kindName} has no ${entity} field '${side.field}'${custom.length > 0 ? ` (its custom fields: ${custom.join(', ')})` : ''}`,
        );
        continue;
      }
      if (side.written && !described.writable)
        problems.push(
          `${side.where}: '${side.field}' is read-only in ${kindName}; map it with direction ${side.slot === 'crm' ? 'toAccounting' : 'toCrm'}`,
        );
    }
  }
  return { problems, unreadable };
}
