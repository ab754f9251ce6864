/** The Business Central connector: its registry entry, its API layer (contacts included) and its webhook adapter. */
export { businessCentral, createBusinessCentralApi, type BusinessCentralSettings } from './connector';
export { BusinessCentralApi } from './client';
export { createBusinessCentralWebhook } from './webhook';
