/**
 * Checks the config's field mappings against what the configured connectors can read and write,
 * so a mapping onto a field a system does not have fails at start, not at the first write.
 */
import type { Connector } from '../../connectors/kit/types';
import { mappingsFor, type TandemConfig } from '../config/schema';
import { ACCOUNT_KINDS } from '../core/model';

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
      if (!contactFields.has(mapping.contact)) {
        problems.push(`${where}.contact: ${config.connectors.crm.kind} has no contact field '${mapping.contact}'`);
      }
      if (!accountFields.has(mapping.account)) {
        problems.push(
          `${where}.account: ${config.connectors.accounting.kind} ${kind} records have no field '${mapping.account}' (it has: ${[...accountFields].join(', ')})`,
        );
      }
    });
  }
  return problems;
}
