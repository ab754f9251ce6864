/** The Tryton accounting connector: customers, vendors (parties by category) and bank accounts. */
import { ACCOUNT_KINDS, type AccountKind, type Entity } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { ResponseObserver, RetryPolicy } from '../kit/http';
import type { Connector, DocumentType } from '../kit/types';
import { TrytonApi } from './client';
import { DOCUMENT_MODELS, startDocument } from './documents';
import { SUPPORTED_FIELDS } from './mappers';
import { TrytonRpc } from './rpc';

/** How to reach one trytond database, and how it marks customers and vendors. */
export interface TrytonConnectorOptions {
  /** The connector's name in config. */
  name: string;
  /** The trytond server, e.g. `http://127.0.0.1:8000` (JSON-RPC is POSTed to `<url>/<database>/`). */
  url: string;
  database: string;
  /** A Tryton user allowed to read and write parties, bank accounts, sales and purchases. */
  username: string;
  password: string;
  /** party.category name of customers (default `Customer`). */
  customerCategory?: string;
  /** party.category name of vendors (default `Supplier`). */
  supplierCategory?: string;
  /** party.identifier type for a new VAT registration no. (default `eu_vat`). */
  vatIdentifierType?: string;
  /** Records per listChanged page (default 100). */
  pageSize?: number;
  /** How far before its cursor each poll looks again for late commits (default 30 s). */
  overlapMs?: number;
  retry?: Partial<RetryPolicy>;
  observe?: ResponseObserver;
  timeoutMs?: number;
}

/** Creates the accounting connector for one trytond 6.0 database. */
export function createTrytonConnector(options: TrytonConnectorOptions): Connector {
  const rpc = new TrytonRpc({
    connector: options.name,
    url: options.url,
    database: options.database,
    username: options.username,
    password: options.password,
    retry: options.retry,
    observe: options.observe,
    timeoutMs: options.timeoutMs,
  });
  const api = new TrytonApi(rpc, {
    customerCategory: options.customerCategory ?? 'Customer',
    supplierCategory: options.supplierCategory ?? 'Supplier',
    vatIdentifierType: options.vatIdentifierType ?? 'eu_vat',
    pageSize: options.pageSize ?? 100,
    overlapMs: options.overlapMs ?? 30_000,
  });
  const served = (entity: Entity): AccountKind => {
    if (entity === 'contact') throw new InvalidRequestError(`${options.name}: entity '${entity}' is not served`);
    return entity;
  };
  const documents = Object.keys(DOCUMENT_MODELS) as DocumentType[];
  return {
    name: options.name,
    system: 'accounting',
    entities: ACCOUNT_KINDS,
    fields: {
      customer: SUPPORTED_FIELDS.customer,
      vendor: SUPPORTED_FIELDS.vendor,
      bankAccount: SUPPORTED_FIELDS.bankAccount,
    },
    async *listChanged(entity, cursor) {
      yield* api.listChanged(served(entity), cursor);
    },
    get: async (entity, id) => {
      const kind = served(entity);
      return kind === 'bankAccount' ? api.getBankAccount(id) : api.getParty(kind, id);
    },
    batchGet: async (entity, ids) => {
      const kind = served(entity);
      return kind === 'bankAccount' ? api.batchGetBankAccounts(ids) : api.batchGetParties(kind, ids);
    },
    create: async (entity, fields, createOptions) => {
      const kind = served(entity);
      return kind === 'bankAccount'
        ? api.createBankAccount(fields, createOptions.extra)
        : api.createParty(kind, fields, createOptions.extra);
    },
    update: async (entity, update) => {
      const kind = served(entity);
      return kind === 'bankAccount' ? api.updateBankAccount(update) : api.updateParty(kind, update);
    },
    documents,
    createDocument: async (type, input) => {
      if (!documents.includes(type)) throw new InvalidRequestError(`${options.name}: cannot start a ${type}`);
      return startDocument(api, type, input);
    },
    // The user's preferences: the smallest authenticated call, and it proves the database too.
    checkHealth: async () => {
      await rpc.call('model.res.user.get_preferences', [true, {}]);
    },
    close: async () => {
      await rpc.logout();
    },
  };
}
