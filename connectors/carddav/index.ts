/** The CardDAV CRM connector: its registry entry. */
export { carddav } from './connector';
