/** The Tryton accounting connector: its registry entry. */
export { tryton } from './connector';
