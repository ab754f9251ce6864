/** The Xero accounting connector: its registry entry, and a factory for use without a config file. */
export { xero, createXeroConnector, type XeroConnectorOptions } from './connector';
