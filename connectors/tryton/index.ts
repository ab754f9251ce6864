/** The Tryton accounting connector: its registry entry, its JSON-RPC session and its mappers. */
export { tryton } from './connector';
export { TrytonRpc, errorFromRpc, type TrytonLogin } from './rpc';
export { documentReferenceFor } from './documents';
export { SUPPORTED_FIELDS, toPartyAccount, toBankAccount, planPartyWrite, planBankAccountWrite } from './mappers';
