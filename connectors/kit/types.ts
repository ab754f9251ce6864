/**
 * The connector contract: the engine asks a connector what it can do (an optional method is there
 * exactly when it can) and never branches on the system. Records cross it only in the canonical model.
 */
import type { Account, Contact, Entity, FieldValue, SyncRecord, System } from '../../src/core/model';
import type { RequestLimits } from './limiter';

/** A provider's limits as data: requests per window and in flight, and the largest batches. */
export type ConnectorLimits = RequestLimits & { batchSize?: { read?: number; write?: number } };

/** One page of records changed since a cursor. */
export interface ChangedPage {
  records: SyncRecord[];
  /** Ids of records deleted since the cursor, where the system can tell. */
  deleted?: string[];
  /** The cursor to resume from after this page; opaque, saved once the page's changes are enqueued. */
  cursor: string;
}

/** A change reported by a webhook: which record, and when it changed if the provider says. */
export interface ChangeNotice {
  entity: Entity;
  id: string;
  /** The provider's own event id, for dropping duplicates. */
  eventId: string;
  /** The provider's modification time of the change, when the notification carries one. */
  occurredAt?: string;
  deleted?: boolean;
  /** The provider said the record was merged into this one (same entity): its relation follows the survivor. */
  mergedInto?: string;
}

/** The parts of an inbound HTTP request a webhook check needs. `rawBody` is the exact bytes. */
export interface InboundRequest {
  method: string;
  /** The full URL the provider called, including scheme, host and query. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

/** What a webhook adapter tells the HTTP layer to do with a request. */
export type WebhookOutcome =
  /** Changes to enqueue; `pollEntities` were only summarised (a Business Central `collection`): polled at once. */
  | {
      kind: 'notices';
      notices: ChangeNotice[];
      pollEntities?: Entity[];
      /** How the provider wants a delivery acknowledged (Xero: 200 with an empty body); default 202 with a summary. */
      ack?: { status: 200 | 202 | 204; emptyBody: true };
    }
  /** A provider handshake (for example Business Central's validationToken) to answer as given. */
  | { kind: 'respond'; status: number; contentType: string; body: string }
  | { kind: 'rejected'; status: 400 | 401 | 413; reason: string };

/** Verifies and parses a provider's webhook calls. */
export interface WebhookAdapter {
  handle(request: InboundRequest, now: Date): WebhookOutcome;
}

/** Documents an accounting system can start for a customer or vendor. */
export const DOCUMENT_TYPES = ['salesQuote', 'salesOrder', 'purchaseQuote', 'purchaseOrder'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** Which account kind a document type is started for. */
export const DOCUMENT_ACCOUNT_KIND: Record<DocumentType, 'customer' | 'vendor'> = {
  salesQuote: 'customer',
  salesOrder: 'customer',
  purchaseQuote: 'vendor',
  purchaseOrder: 'vendor',
};

/** What starting a document needs: the account, an optional reference, and the key a retry reuses. */
export interface DocumentInput {
  accountId: string;
  externalReference?: string;
  idempotencyKey: string;
}

/** A document as created in the accounting system. */
export interface CreatedDocument {
  type: DocumentType;
  id: string;
  number: string | null;
  /** The customer or vendor it was started for. */
  accountId: string;
  date: string | null;
  status: string | null;
}

/** The options of a create: the key a retry reuses, and provider-specific extras (a template's). */
export interface CreateOptions {
  idempotencyKey: string;
  extra?: Record<string, unknown>;
}

/** One record's update within a batch. */
export interface RecordUpdate {
  id: string;
  fields: Record<string, FieldValue>;
  /** The version the write was planned against; a system with etags refuses a stale one. */
  ifMatch?: string;
}

/** The result of one item of a batch update: the record as written, or why it failed. */
export type BatchItemResult = { id: string; ok: true; record: SyncRecord } | { id: string; ok: false; error: Error };

/** One field of an entity as the provider describes it. */
export interface FieldDescription {
  /** The name a mapping uses: a canonical field, or `custom.<the provider's name>`. */
  name: string;
  /** What people see it called. */
  label: string;
  type: 'text' | 'number' | 'date' | 'boolean' | 'enumeration';
  /** False where the provider computes or protects the value: a mapping may only read it. */
  writable: boolean;
  /** A picklist's values and labels. */
  options?: { value: string; label: string }[];
  /** True for a provider field the canonical model does not name. */
  custom: boolean;
}

/** A connected system, one instance per configured connector; an optional method is there exactly when it can. */
export interface Connector {
  /** The connector's name in config (for example `crm` or `accounting`). */
  readonly name: string;
  readonly system: System;
  /** The entities this connector serves: `contact` for a CRM, account kinds for accounting. */
  readonly entities: readonly Entity[];
  /** The canonical fields it reads and writes, per entity; the config may map onto no other. */
  readonly fields: Partial<Record<Entity, readonly string[]>>;
  /** The entities whose provider fields a mapping may name as `custom.<name>` (none when absent). */
  readonly customFields?: readonly Entity[];
  /**
   * The fields of an entity as the provider describes them (its own schema, custom fields
   * included, cached), or the canonical field list where the connector has no schema to read.
   */
  describeFields?(entity: Entity): Promise<FieldDescription[]>;
  /** The provider's published limits its client keeps; the drift sweep takes a share of them as its budget. */
  readonly limits?: ConnectorLimits;

  /** Pages of records changed since `cursor` (null: from the beginning). */
  listChanged?(entity: Entity, cursor: string | null): AsyncIterable<ChangedPage>;
  /** One record, or null when it does not exist (deleted). */
  get(entity: Entity, id: string): Promise<SyncRecord | null>;
  /** Several records at once; missing ones are left out. */
  batchGet?(entity: Entity, ids: string[]): Promise<SyncRecord[]>;
  /**
   * Records whose name, e-mail, number or VAT registration no. hold every word of `text` (or
   * whose id it is), best first, at most `limit` (see ./search.ts); for the pickers.
   */
  search?(entity: Entity, text: string, limit: number): Promise<SyncRecord[]>;
  /** Creates a record. `idempotencyKey` lets a retry find the record a lost response created. */
  create?(entity: Entity, fields: Record<string, FieldValue>, options: CreateOptions): Promise<SyncRecord>;
  /** Writes fields of one record and returns it as stored. */
  update?(entity: Entity, update: RecordUpdate): Promise<SyncRecord>;
  /** Writes several records of one entity, in as few calls as the system allows. */
  batchUpdate?(entity: Entity, updates: RecordUpdate[]): Promise<BatchItemResult[]>;
  /** The webhook adapter, when webhooks are configured. */
  readonly webhook?: WebhookAdapter;
  /**
   * Called once at start when webhooks are enabled: register or renew subscriptions pointing at
   * `notificationUrl`. Returns when the next renewal is due (ISO 8601), if the system expires them.
   */
  ensureSubscriptions?(notificationUrl: string): Promise<{ renewAt?: string }>;
  /** The document types `createDocument` can start (empty or absent: none). */
  readonly documents?: readonly DocumentType[];
  /** Starts a document for a customer or vendor without lines; the user completes it in the accounting system. */
  createDocument?(type: DocumentType, input: DocumentInput): Promise<CreatedDocument>;
  /** Resolves when the system answers one cheap authenticated read (readiness); rejects with the reason otherwise. */
  checkHealth?(): Promise<void>;
  /** Releases timers and sockets. */
  close?(): Promise<void>;
}

/** Narrowing helpers, so the engine reads a record's side without casts. */
export function isContact(record: SyncRecord): record is Contact {
  return record.entity === 'contact';
}
export function isAccount(record: SyncRecord): record is Account {
  return record.entity !== 'contact';
}
