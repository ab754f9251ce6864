/** The QuickBooks Online accounting connector: its registry entry, and a factory for use without a config file. */
export { quickbooks, createQuickBooksConnector, type QuickBooksConnectorOptions } from './connector';
