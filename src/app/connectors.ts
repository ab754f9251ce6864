/**
 * Builds connectors from config. The only place that knows which kinds exist; everything else
 * sees the Connector contract.
 */
import { createBusinessCentralConnector } from '../../connectors/business-central';
import type { ResponseObserver } from '../../connectors/kit/http';
import { createHubSpotConnector } from '../../connectors/hubspot';
import { createTrytonConnector } from '../../connectors/tryton';
import { createXeroConnector } from '../../connectors/xero';
import type { Connector } from '../../connectors/kit/types';
import type { ConnectorConfig, TandemConfig } from '../config/schema';
import type { AccountKind, ConnectorSlot } from '../core/model';

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
  let connector: Connector;
  switch (config.kind) {
    case 'hubspot':
      connector = createHubSpotConnector({
        name: slot,
        baseUrl: config.baseUrl,
        token: config.credentials.token,
        webhookSecret: config.credentials.webhookSecret,
        webhookUrl: options.webhookUrl?.(slot),
        propertyMap: config.propertyMap,
        observe: options.observe,
        retry: options.retry,
      });
      break;
    case 'business-central':
      connector = createBusinessCentralConnector({
        name: slot,
        baseUrl: config.baseUrl,
        companyId: config.companyId,
        auth: {
          tokenUrl: config.credentials.tokenUrl,
          clientId: config.credentials.clientId,
          clientSecret: config.credentials.clientSecret,
          scope: config.credentials.scope,
        },
        webhook: config.credentials.webhookClientState
          ? { clientState: config.credentials.webhookClientState }
          : undefined,
        observe: options.observe,
        retry: options.retry,
      });
      break;
    case 'tryton':
      connector = createTrytonConnector({
        name: slot,
        url: config.baseUrl,
        database: config.database,
        username: config.credentials.username,
        password: config.credentials.password,
        customerCategory: config.customerCategory,
        supplierCategory: config.supplierCategory,
        vatIdentifierType: config.vatIdentifierType,
        observe: options.observe,
        retry: options.retry,
      });
      break;
    case 'xero':
      connector = createXeroConnector({
        name: slot,
        baseUrl: config.baseUrl,
        tenantId: config.tenantId,
        auth: {
          tokenUrl: config.credentials.tokenUrl,
          clientId: config.credentials.clientId,
          clientSecret: config.credentials.clientSecret,
          refreshToken: options.storedSecrets?.[slot]?.refreshToken ?? config.credentials.refreshToken,
          onRefreshToken: (token) => options.saveSecret?.(slot, 'refreshToken', token),
        },
        webhook: config.credentials.webhookKey ? { key: config.credentials.webhookKey } : undefined,
        contactKinds: { numberPrefix: config.contactNumberPrefix, tracked: options.relationKinds },
        observe: options.observe,
        retry: options.retry,
      });
      break;
  }
  const expected = slot === 'crm' ? 'crm' : 'accounting';
  if (connector.system !== expected) {
    throw new ConnectorSlotError(
      `connectors.${slot}: a ${config.kind} connector serves the ${connector.system} side, not the ${expected} side`,
    );
  }
  return connector;
}

/** Builds both connectors of a config. */
export function buildConnectors(config: TandemConfig, options: BuildOptions = {}): Record<ConnectorSlot, Connector> {
  return {
    crm: buildConnector('crm', config.connectors.crm, options),
    accounting: buildConnector('accounting', config.connectors.accounting, options),
  };
}
