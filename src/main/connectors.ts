/**
 * The daemon's two connectors: the ones given (tests), or built from the config with the store's
 * rotated secrets, the metrics' response observer and the public webhook URLs; either way checked
 * against the mappings before anything starts.
 */
import type { Connector } from '../../connectors/kit/types';
import type { Logger } from 'pino';
import type { ResponseObserver } from '../../connectors/kit/http';
import { unsupportedCustomFields, unsupportedMappings } from '../app/check-mappings';
import { buildConnector, type BuildOptions } from '../app/connectors';
import type { Store } from '../app/ports/store';
import { ConfigError } from '../config/load';
import { customFieldsOf, type TandemConfig } from '../config/schema';
import { ACCOUNT_KINDS, CONNECTOR_SLOTS, type AccountKind, type ConnectorSlot } from '../core/model';
import { webhookPath } from '../http/webhooks';
import { loadRotatedSecrets } from './secrets';

/** What the connectors are built with. */
export interface ConnectorSetup {
  config: TandemConfig;
  /** The file the config came from, for messages. */
  configFile?: string;
  store: Store;
  publicUrl: string;
  observe: ResponseObserver;
  logger?: Logger;
  /** The config in force and any being previewed (the console may save a new one); default `config`. */
  configsInUse?: () => TandemConfig[];
  /** Use these instead of building them (tests). */
  connectors?: Record<ConnectorSlot, Connector>;
  connectorOptions?: BuildOptions;
}

/** The connectors, or a ConfigError naming what the config asks of them that they cannot do. */
export async function setUpConnectors(setup: ConnectorSetup): Promise<Record<ConnectorSlot, Connector>> {
  const { config, store } = setup;
  const connectors =
    setup.connectors ??
    buildConfiguredConnectors(config, setup.configFile, {
      ...setup.connectorOptions,
      observe: setup.observe,
      webhookUrl: (slot) => new URL(webhookPath(slot), setup.publicUrl).toString(),
      storedSecrets: await loadRotatedSecrets(store),
      saveSecret: (slot, name, value) => store.saveRotatedSecret(slot, name, value),
      relationKinds: (accountIds) => relationKindsOf(store, accountIds),
      customFields: (slot, entity) => [
        ...new Set((setup.configsInUse?.() ?? [config]).flatMap((used) => customFieldsOf(used, slot, entity))),
      ],
    });
  const unsupported = unsupportedMappings(config, connectors.crm, connectors.accounting);
  if (unsupported.length > 0) throw new ConfigError(setup.configFile ?? 'the config', unsupported);
  // Custom fields are checked against the providers' own schemas where they answer now.
  const custom = await unsupportedCustomFields(config, connectors.crm, connectors.accounting);
  if (custom.problems.length > 0) throw new ConfigError(setup.configFile ?? 'the config', custom.problems);
  for (const { slot, error } of custom.unreadable)
    setup.logger?.warn(
      { err: error, connector: slot },
      'could not read the field schema; custom fields are checked when it answers',
    );
  return connectors;
}

/** Builds the connectors; a setting a connector refuses (a company id that is not a GUID) is a ConfigError naming its section. */
function buildConfiguredConnectors(
  config: TandemConfig,
  configFile: string | undefined,
  options: BuildOptions,
): Record<ConnectorSlot, Connector> {
  const problems: string[] = [];
  const built: Partial<Record<ConnectorSlot, Connector>> = {};
  for (const slot of CONNECTOR_SLOTS) {
    try {
      built[slot] = buildConnector(slot, config.connectors[slot], options);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      problems.push(message.startsWith(`connectors.${slot}`) ? message : `connectors.${slot}: ${message}`);
    }
  }
  const { crm, accounting } = built;
  if (problems.length > 0 || !crm || !accounting) throw new ConfigError(configFile ?? 'the config', problems);
  return { crm, accounting };
}

/** The account kinds the store links these accounting ids as. */
async function relationKindsOf(store: Store, accountIds: readonly string[]): Promise<Map<string, AccountKind[]>> {
  const kinds = new Map<string, AccountKind[]>();
  await Promise.all(
    accountIds.flatMap((id) =>
      ACCOUNT_KINDS.map(async (kind) => {
        if (await store.findRelationByAccount(kind, id)) kinds.set(id, [...(kinds.get(id) ?? []), kind]);
      }),
    ),
  );
  return kinds;
}
