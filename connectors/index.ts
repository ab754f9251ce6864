/**
 * The registry: every connector tandem knows. The config union (src/config/schema.ts) and the
 * factory (src/app/connectors.ts) are built from this list; adding a connector is its folder and
 * one line here.
 */
import { businessCentral } from './business-central';
import { hubspot } from './hubspot';
import type { ConnectorKind } from './kit/define';
import { trytonConfig } from './tryton/config';
import { createTrytonConnector } from './tryton';
import { xero } from './xero';

// Until they move onto the kit (defineConnector, as HubSpot did), the connectors below keep their
// own factories: each thin adapter maps the config and the build context onto its options.

const tryton: ConnectorKind<'tryton', typeof trytonConfig> = {
  name: 'tryton',
  side: 'accounting',
  config: trytonConfig,
  secrets: ['password'],
  create: (settings, context) =>
    createTrytonConnector({
      name: context.name,
      url: settings.baseUrl,
      database: settings.database,
      username: settings.credentials.username,
      password: settings.credentials.password,
      customerCategory: settings.customerCategory,
      supplierCategory: settings.supplierCategory,
      vatIdentifierType: settings.vatIdentifierType,
      observe: context.observe,
      retry: context.retry,
    }),
};

/** Every connector, by its `kind` in config. */
export const CONNECTORS = [hubspot, businessCentral, tryton, xero] as const;

/** The connector of a config `kind`, or undefined when there is none. */
export function connectorKind(kind: string): ConnectorKind | undefined {
  const kinds: readonly ConnectorKind[] = CONNECTORS;
  return kinds.find((candidate) => candidate.name === kind);
}
