/**
 * The registry: every connector tandem knows. The config union (src/config/schema.ts) and the
 * factory (src/app/connectors.ts) are built from this list; adding a connector is its folder and
 * one line here.
 */
import { businessCentral } from './business-central';
import { carddav } from './carddav';
import { dynamicsSales } from './dynamics-sales';
import { hubspot } from './hubspot';
import type { ConnectorKind } from './kit/define';
import { pipedrive } from './pipedrive';
import { salesforce } from './salesforce';
import { quickbooks } from './quickbooks';
import { tryton } from './tryton';
import { xero } from './xero';

/** Every connector, by its `kind` in config. */
export const CONNECTORS = [
  hubspot,
  businessCentral,
  tryton,
  xero,
  salesforce,
  quickbooks,
  dynamicsSales,
  carddav,
  pipedrive,
] as const;

/** The connector of a config `kind`, or undefined when there is none. */
export function connectorKind(kind: string): ConnectorKind | undefined {
  const kinds: readonly ConnectorKind[] = CONNECTORS;
  return kinds.find((candidate) => candidate.name === kind);
}
