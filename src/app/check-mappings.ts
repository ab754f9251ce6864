/**
 * Checks the config's field mappings against what the configured connectors can read and write,
 * so a mapping onto a field a system does not have fails at start, not at the first write.
 */
import type { Connector, FieldDescription } from '../../connectors/kit/types';
import { mappingsFor, type TandemConfig } from '../config/schema';
import { ACCOUNT_KINDS, customFieldName, type Entity } from '../core/model';

/** Lists every mapping a connector cannot serve, as `mappings.customer[3].account: ...` lines. */
export function unsupportedMappings(config: TandemConfig, crm: Connector, accounting: Connector): string[] {
  const problems: string[] = [];
  const contactFields = new Set(crm.fields.contact ?? []);
  for (const kind of ACCOUNT_KINDS) {
    if (config.relationCodes[kind] === null) continue;
    if (!accounting.entities.includes(kind)) {
      problems.push(
        `relationCodes.${kind}: the ${config.connectors.accounting.kind} connector has no ${kind} records; set the code to null`,
      );
      continue;
    }
    const accountFields = new Set(accounting.fields[kind] ?? []);
    mappingsFor(config, kind).forEach((mapping, index) => {
      const where = config.mappings[kind]
        ? `mappings.${kind}[${index}]`
        : `mappings.${kind} (default, every common field)`;
      const customContact = customFieldName(mapping.contact) !== null;
      const customAccount = customFieldName(mapping.account) !== null;
      if (customContact && !crm.customFields?.includes('contact')) {
        problems.push(`${where}.contact: ${config.connectors.crm.kind} does not read custom fields of contacts`);
      } else if (!customContact && !contactFields.has(mapping.contact)) {
        problems.push(`${where}.contact: ${config.connectors.crm.kind} has no contact field '${mapping.contact}'`);
      }
      if (customAccount && !accounting.customFields?.includes(kind)) {
        problems.push(
          `${where}.account: ${config.connectors.accounting.kind} does not read custom fields of ${kind} records`,
        );
      } else if (!customAccount && !accountFields.has(mapping.account)) {
        problems.push(
          `${where}.account: ${config.connectors.accounting.kind} ${kind} records have no field '${mapping.account}' (it has: ${[...accountFields].join(', ')})`,
        );
      }
    });
  }
  return problems;
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
    if (config.relationCodes[kind] === null || !config.mappings[kind]) continue;
    for (const [index, mapping] of (config.mappings[kind] ?? []).entries()) {
      const where = `mappings.${kind}[${index}]`;
      const sides = [
        { slot: 'crm' as const, connector: crm, entity: 'contact' as Entity, field: mapping.contact, key: 'contact' },
        { slot: 'accounting' as const, connector: accounting, entity: kind, field: mapping.account, key: 'account' },
      ];
      for (const side of sides) {
        if (customFieldName(side.field) === null || !side.connector.customFields?.includes(side.entity)) continue;
        const schema = await schemaOf(side.slot, side.connector, side.entity);
        if (schema === null) continue;
        const kindName = config.connectors[side.slot].kind;
        const described = schema.get(side.field);
        if (!described) {
          const custom = [...schema.values()].filter((field) => field.custom).map((field) => field.name);
          problems.push(
            `${where}.${side.key}: ${kindName} has no ${side.entity} field '${side.field}'${custom.length > 0 ? ` (its custom fields: ${custom.join(', ')})` : ''}`,
          );
          continue;
        }
        const written = side.slot === 'crm' ? mapping.direction !== 'toAccounting' : mapping.direction !== 'toCrm';
        if (written && !described.writable)
          problems.push(
            `${where}.${side.key}: '${side.field}' is read-only in ${kindName}; map it with direction ${side.slot === 'crm' ? 'toAccounting' : 'toCrm'}`,
          );
      }
    }
  }
  return { problems, unreadable };
}
