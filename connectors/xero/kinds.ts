/**
 * Which account kinds a Xero contact counts as. Xero sets IsCustomer and IsSupplier itself once a
 * sales invoice or a bill exists, and no client can set them; a contact tandem created as a
 * customer, or linked to one, is a customer before its first invoice. So a contact is a customer
 * (vendor) when any of these says so:
 * 1. Xero's flag IsCustomer (IsSupplier);
 * 2. its ContactNumber starts with the kind's configured prefix (tandem writes the number on create);
 * 3. the engine's business relations (`tracked`), asked once per page;
 * 4. this connector instance created it as that kind.
 */
import { createHash } from 'node:crypto';
import type { AccountKind } from '../../src/core/model';
import { CONTACT_KINDS, type ContactKind } from './mappers';
import type { XeroContact } from './schemas';

/** How the connector tells customers from vendors; see connectors/xero/README.md. */
export interface ContactKindOptions {
  /**
   * ContactNumber prefix per kind (for example `{ customer: 'C-', vendor: 'V-' }`, the templates'
   * numberPrefix). A contact whose number starts with it counts as that kind; a create without an
   * `extra.number` gets `<prefix><8 hex of the idempotency key>`.
   */
  numberPrefix?: Partial<Record<ContactKind, string>>;
  /** The engine's relation store: the kinds tandem links these contacts as. */
  tracked?: (contactIds: readonly string[]) => Promise<ReadonlyMap<string, readonly AccountKind[]>>;
  /** Count Xero's IsCustomer / IsSupplier flags (default true). */
  xeroFlags?: boolean;
}

/** The number tandem gives a contact created without one: the same key always gives the same number. */
export function contactNumberFor(prefix: string, idempotencyKey: string): string {
  return `${prefix}${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 8).toUpperCase()}`;
}

/** Decides and remembers contact kinds for one connector instance. */
export class ContactKinds {
  /** Every contact seen, with the kinds it counted as; the webhook adapter reads it. */
  private readonly known = new Map<string, readonly AccountKind[]>();
  private readonly created = new Map<string, Set<AccountKind>>();

  constructor(private readonly options: ContactKindOptions = {}) {}

  /** The kinds of each contact, by id. */
  async resolve(contacts: readonly XeroContact[]): Promise<Map<string, readonly AccountKind[]>> {
    const tracked =
      contacts.length > 0 && this.options.tracked
        ? await this.options.tracked(contacts.map((contact) => contact.ContactID))
        : new Map<string, readonly AccountKind[]>();
    const result = new Map<string, readonly AccountKind[]>();
    for (const contact of contacts) {
      const kinds = CONTACT_KINDS.filter((kind) => this.isKind(kind, contact, tracked.get(contact.ContactID) ?? []));
      result.set(contact.ContactID, kinds);
      this.known.set(contact.ContactID, kinds);
    }
    return result;
  }

  /** Notes that this instance created the contact as `kind`. */
  rememberCreated(contactId: string, kind: AccountKind): void {
    const kinds = this.created.get(contactId) ?? new Set<AccountKind>();
    kinds.add(kind);
    this.created.set(contactId, kinds);
    this.known.set(contactId, [...new Set([...(this.known.get(contactId) ?? []), kind])]);
  }

  /** The kinds a contact was last seen with, or undefined when it has not been seen. */
  knownKinds(contactId: string): readonly AccountKind[] | undefined {
    return this.known.get(contactId);
  }

  /** The ContactNumber prefix of a kind, if configured. */
  prefix(kind: ContactKind): string | undefined {
    const prefix = this.options.numberPrefix?.[kind];
    return prefix === undefined || prefix === '' ? undefined : prefix;
  }

  private isKind(kind: ContactKind, contact: XeroContact, tracked: readonly AccountKind[]): boolean {
    if (this.options.xeroFlags !== false && (kind === 'customer' ? contact.IsCustomer : contact.IsSupplier) === true)
      return true;
    const prefix = this.prefix(kind);
    if (prefix !== undefined && (contact.ContactNumber ?? '').startsWith(prefix)) return true;
    return tracked.includes(kind) || (this.created.get(contact.ContactID)?.has(kind) ?? false);
  }
}
