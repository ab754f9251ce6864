/**
 * The business-relation operations of the seed, as one service the admin API, the CLI and the
 * engine call (implemented by createRelationService in src/app/relations). Inputs are plain data;
 * failures a caller can act on are the Problem errors of ./problems.
 */
import type { CreatedDocument, DocumentType } from '../../../connectors/kit/types';
import type { Account, AccountKind, BusinessRelation, Contact, FieldValue } from '../../core/model';
import type { AuditEntry } from './store';

/** Who asked for an operation (recorded in audit entries and interactions). */
export interface Actor {
  /** `admin`, `viewer`, `tandem` (the engine itself) or a named user. */
  name: string;
}

/** Which side wins when linking two records whose fields differ. NAV: the contact. */
export type LinkWinner = 'contact' | 'account';

/** The result of linking: the relation and the field changes the reconciliation made. */
export interface LinkResult {
  relation: BusinessRelation;
  changes: Array<{ side: 'contact' | 'account'; field: string; from: FieldValue; to: FieldValue }>;
}

/** One proposed pair of an unlinked contact and an unlinked account. */
export interface MatchPair {
  contactId: string;
  contactName: string | null;
  accountKind: AccountKind;
  accountId: string;
  accountName: string | null;
  score: number;
  /** The rule that matched: vatRegistrationNo, email, emailDomain or namePostCode. */
  rule: string;
}

/** Proposals: unambiguous pairs, and contacts or accounts with several candidates. */
export interface MatchProposal {
  pairs: MatchPair[];
  /** Every candidate of a contact or account that has more than one; never linked automatically. */
  review: Array<{ reason: string; candidates: MatchPair[] }>;
}

/** An entry of a contact's interaction log. */
export interface Interaction {
  id: string;
  contactId: string;
  /** For tandem's own: accountCreated, contactCreated, linked, unlinked, documentCreated; or any external type (emailSent, documentPrinted, ...). */
  type: string;
  description: string;
  occurredAt: string;
  who: string;
  source: 'tandem' | 'external';
  relationId: string | null;
  details: Record<string, unknown> | null;
}

/** One mapped field of a relation, both sides side by side. */
export interface FieldStatus {
  contactField: string;
  accountField: string;
  direction: 'both' | 'toAccounting' | 'toCrm';
  contactValue: FieldValue;
  accountValue: FieldValue;
  inSync: boolean;
  /** Which side changed it last, by the systems' own times, when known. */
  newer: 'contact' | 'account' | null;
}

/** Everything about one relation an operator wants to see. */
export interface RelationStatus {
  relation: BusinessRelation;
  contact: Contact | null;
  account: Account | null;
  fields: FieldStatus[];
  inSync: boolean;
  /** The side a sync filter leaves out (the relation is then left alone), or null. */
  filtered: 'contact' | 'account' | null;
  pendingJobs: Array<{ queue: string; id: string; state: string }>;
  lastError: { at: string; reason: string; jobId: string } | null;
  lastConflicts: AuditEntry[];
}

/** A record a picker's search found, with what people recognise it by and the relations it is in. */
export interface SearchHit {
  entity: 'contact' | AccountKind;
  id: string;
  name: FieldValue;
  /** A contact's type; null for an account. */
  type: 'company' | 'person' | null;
  /** An account's number; null for a contact. */
  number: string | null;
  email: FieldValue;
  vatRegistrationNo: FieldValue;
  city: FieldValue;
  /** A contact's relations (one per account kind at most), or the one an account is in. */
  relations: BusinessRelation[];
}

/** A job of the queues, as an operator sees it. */
export interface PendingJob {
  queue: string;
  id: string;
  state: string;
}

/** A record a queued job may concern: the contact or the account of a relation. */
export interface JobTarget {
  entity: 'contact' | AccountKind;
  id: string;
}

/** Looks into the queues for the jobs of given records (implemented over BullMQ in src/queue/inspect.ts). */
export interface JobInspector {
  /** Jobs waiting, running or delayed for any of the records. */
  pendingFor(targets: JobTarget[]): Promise<PendingJob[]>;
  /** The latest failed job for any of the records, with its reason. */
  lastFailureFor(targets: JobTarget[]): Promise<RelationStatus['lastError']>;
}

/** The operations. */
export interface RelationService {
  listRelations(filter: {
    kind?: AccountKind;
    contactId?: string;
    limit?: number;
    offset?: number;
  }): Promise<BusinessRelation[]>;
  getRelation(id: string): Promise<BusinessRelation>;
  /** Links an existing contact with an existing account and reconciles them once. */
  link(
    input: { contactId: string; accountKind: AccountKind; accountId: string; winner?: LinkWinner },
    actor: Actor,
  ): Promise<LinkResult>;
  /** Removes a relation; both records stay. */
  unlink(relationId: string, actor: Actor): Promise<BusinessRelation>;
  /**
   * Creates a customer, vendor or bank account from a contact, filled from the contact's common
   * fields plus the kind's template (and `values` given here), then links it. Idempotent.
   */
  createAccountFromContact(
    input: {
      contactId: string;
      accountKind: AccountKind;
      template?: string;
      values?: Record<string, string>;
      idempotencyKey?: string;
    },
    actor: Actor,
  ): Promise<{ relation: BusinessRelation; account: Account; created: boolean }>;
  /** Creates a company contact (and a person for the account's named contact person) and links it. Idempotent. */
  createContactFromAccount(
    input: {
      accountKind: AccountKind;
      accountId: string;
      idempotencyKey?: string;
      origin?: 'createdFromAccount' | 'automatic';
    },
    actor: Actor,
  ): Promise<{ relation: BusinessRelation; contact: Contact; person: Contact | null; created: boolean }>;
  /** Proposes pairs of unlinked contacts and accounts by the configured rules. */
  proposeMatches(input: { kinds?: AccountKind[] }): Promise<MatchProposal>;
  /** Links the unambiguous pairs (of a fresh proposal); `onProgress` reports each pair done. */
  applyMatches(
    input: { kinds?: AccountKind[]; minScore?: number },
    actor: Actor,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{
    linked: LinkResult[];
    failed: Array<{ pair: MatchPair; reason: string }>;
    review: MatchProposal['review'];
  }>;
  listInteractions(contactId: string): Promise<Interaction[]>;
  recordInteraction(
    contactId: string,
    input: { type: string; description: string; occurredAt?: string; who?: string; relationId?: string },
    actor: Actor,
  ): Promise<Interaction>;
  /** Starts a quote or order for the contact's linked customer or vendor. */
  createDocument(
    contactId: string,
    input: { type: DocumentType; idempotencyKey?: string },
    actor: Actor,
  ): Promise<{ document: CreatedDocument; interaction: Interaction; relation: BusinessRelation }>;
  relationStatus(relationId: string): Promise<RelationStatus>;
  /** Records of one side found by name, e-mail, number or VAT no. (or their id), for pickers. */
  searchRecords(input: { entity: 'contact' | AccountKind; text: string; limit?: number }): Promise<SearchHit[]>;
  /** The audit log, filtered. */
  audit(filter: {
    contactId?: string;
    accountKind?: AccountKind;
    accountId?: string;
    relationId?: string;
    kind?: AuditEntry['kind'];
    field?: string;
    from?: string;
    to?: string;
    limit?: number;
  }): Promise<AuditEntry[]>;
}
