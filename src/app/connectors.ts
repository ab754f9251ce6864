/**
 * Builds connectors from config: a lookup in the registry (connectors/index.ts), which is the only
 * place that knows which kinds exist; everything else sees the Connector contract.
 */
import { connectorKind } from '../../connectors';
import type { BudgetFactory, BudgetSizing } from '../../connectors/kit/budget';
import type { ResponseObserver } from '../../connectors/kit/http';
import type { Connector } from '../../connectors/kit/types';
import type { ConnectorConfig, TandemConfig } from '../config/schema';
import type { AccountKind, ConnectorSlot, Entity } from '../core/model';

/** Options shared by every connector built here. */
export interface BuildOptions {
  observe?: ResponseObserver;
  /** The public URL of the connector's webhook route. */
  webhookUrl?: (slot: ConnectorSlot) => string | undefined;
  retry?: { attempts?: number; baseDelayMs?: number; maxRetryAfterMs?: number };
  /** The account kinds the store links these accounting ids as (Xero tells customers from vendors by it). */
  relationKinds?: (accountIds: readonly string[]) => Promise<ReadonlyMap<string, readonly AccountKind[]>>;
  /** Secrets a connector rotated earlier (Xero's refresh token), loaded from the store before building. */
  storedSecrets?: Partial<Record<ConnectorSlot, Record<string, string>>>;
  /** Keeps a rotated secret so the next start uses it. */
  saveSecret?: (slot: ConnectorSlot, name: string, value: string) => Promise<void>;
  /**
   * The request budget every process shares for a connector, sized as its config says; without
   * it each connector keeps the provider's limits in its own process.
   */
  budget?: (slot: ConnectorSlot, sizing: BudgetSizing) => BudgetFactory;
  /** The provider fields mapped as `custom.<name>`, per slot and entity, as the config in force names them. */
  customFields?: (slot: ConnectorSlot, entity: Entity) => readonly string[];
}

/** A connector plugged into the wrong side of the config. */
export class ConnectorSlotError extends Error {
  readonly code = 'CONNECTOR_SLOT';
  constructor(message: string) {
    super(message);
    this.name = 'ConnectorSlotError';
  }
}

/** Builds one connector. */
export function buildConnector(slot: ConnectorSlot, config: ConnectorConfig, options: BuildOptions = {}): Connector {
  const kind = connectorKind(config.kind);
  // The config was parsed against the registry, so only a bug gets here.
  if (kind === undefined) throw new Error(`connectors.${slot}: no connector of kind ${config.kind}`);
  const expected = slot === 'crm' ? 'crm' : 'accounting';
  if (kind.side !== expected) {
    throw new ConnectorSlotError(
      `connectors.${slot}: a ${config.kind} connector serves the ${kind.side} side, not the ${expected} side`,
    );
  }
  const { saveSecret, budget } = options;
  return kind.create(config, {
    name: slot,
    observe: options.observe,
    retry: options.retry,
    webhookUrl: options.webhookUrl?.(slot),
    storedSecrets: options.storedSecrets?.[slot],
    saveSecret: saveSecret && ((name, value) => saveSecret(slot, name, value)),
    relationKinds: options.relationKinds,
    ...(options.customFields && { customFields: (entity: Entity) => options.customFields?.(slot, entity) ?? [] }),
    ...(budget && { budget: budget(slot, config.budget) }),
  });
}

/** Builds both connectors of a config. */
export function buildConnectors(config: TandemConfig, options: BuildOptions = {}): Record<ConnectorSlot, Connector> {
  return {
    crm: buildConnector('crm', config.connectors.crm, options),
    accounting: buildConnector('accounting', config.connectors.accounting, options),
  };
}
