/** Which account kinds a Xero contact counts as (README.md, "Customers and vendors are contacts"). */
import { createHash } from 'node:crypto';
import type { AccountKind } from '../../src/core/model';
import type { ConnectorContext } from '../kit/define';
import { CONTACT_KINDS, contactToAccount, type ContactKind, type XeroAccountRecord } from './mappers';
import type { XeroContact } from './schemas';

/** The number tandem gives a contact created without one: the same key always gives the same number. */
export function contactNumberFor(prefix: string, idempotencyKey: string): string {
  return `${prefix}${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 8).toUpperCase()}`;
}

/** Decides and remembers contact kinds for one connector instance. */
export class ContactKinds {
  /** Every contact seen, with the kinds it counted as; the webhook adapter reads it. */
  private readonly known = new Map<string, readonly AccountKind[]>();
  private readonly created = new Map<string, Set<AccountKind>>();

  constructor(
    /** ContactNumber prefix per kind ('' for none): a contact numbered with it counts as that kind. */
    private readonly numberPrefix: Readonly<Record<ContactKind, string>>,
    /** The engine's relation store: the kinds tandem links these contacts as. */
    private readonly tracked?: ConnectorContext['relationKinds'],
  ) {}

  /** The contacts as canonical records of `kind`, each with its kinds; one question to the engine. */
  async records(kind: ContactKind, contacts: readonly XeroContact[]): Promise<XeroAccountRecord[]> {
    const kindsOf = await this.resolver(contacts);
    return contacts.map((contact) => contactToAccount(kind, contact, kindsOf(contact)));
  }

  /** One contact as a canonical record of `kind`. */
  async record(kind: ContactKind, contact: XeroContact): Promise<XeroAccountRecord> {
    return contactToAccount(kind, contact, (await this.resolver([contact]))(contact));
  }

  /** Notes that this instance created the contact as `kind`. */
  rememberCreated(contactId: string, kind: ContactKind): void {
    this.created.set(contactId, new Set(this.created.get(contactId)).add(kind));
    this.known.set(contactId, [...new Set([...(this.known.get(contactId) ?? []), kind])]);
  }

  /** The kinds a contact was last seen with, or undefined when it has not been seen. */
  knownKinds(contactId: string): readonly AccountKind[] | undefined {
    return this.known.get(contactId);
  }

  /** The ContactNumber prefix of a kind, if configured. */
  prefix(kind: ContactKind): string | undefined {
    return this.numberPrefix[kind] === '' ? undefined : this.numberPrefix[kind];
  }

  /** Asks the engine about these contacts once; the answer tells (and remembers) each one's kinds. */
  private async resolver(contacts: readonly XeroContact[]): Promise<(contact: XeroContact) => readonly AccountKind[]> {
    const ids = contacts.map((contact) => contact.ContactID);
    const tracked = ids.length > 0 && this.tracked ? await this.tracked(ids) : undefined;
    return (contact) => {
      const linked = tracked?.get(contact.ContactID) ?? [];
      const kinds = CONTACT_KINDS.filter((kind) => this.isKind(kind, contact, linked));
      this.known.set(contact.ContactID, kinds);
      return kinds;
    };
  }

  private isKind(kind: ContactKind, contact: XeroContact, tracked: readonly AccountKind[]): boolean {
    if ((kind === 'customer' ? contact.IsCustomer : contact.IsSupplier) === true) return true;
    const prefix = this.prefix(kind);
    if (prefix !== undefined && (contact.ContactNumber ?? '').startsWith(prefix)) return true;
    return tracked.includes(kind) || (this.created.get(contact.ContactID)?.has(kind) ?? false);
  }
}
