/** The Business Central connector: its registry entry, and its API layer alone (contacts included). */
export { businessCentral, createBusinessCentralApi, type BusinessCentralSettings } from './connector';
