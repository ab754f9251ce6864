/** The Tryton connector's public surface. */
export { createTrytonConnector, type TrytonConnectorOptions } from './connector';
export { TrytonApi, type TrytonRules } from './client';
export { TrytonRpc, errorFromRpc, type TrytonRpcOptions } from './rpc';
export { DOCUMENT_MODELS, documentReferenceFor } from './documents';
export { SUPPORTED_FIELDS, toPartyAccount, toBankAccount, planPartyWrite, planBankAccountWrite } from './mappers';
