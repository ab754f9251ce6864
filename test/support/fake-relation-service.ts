/**
 * An in-memory RelationService for tests of the admin API and the CLI: a few contacts and
 * accounts, relations with the contract's conflict rules, and every call recorded.
 */
import type { CreatedDocument } from '../../connectors/kit/types';
import type { Account, AccountKind, BusinessRelation, Contact } from '../../src/core/model';
import { ConflictProblem, NotFoundProblem, UpstreamProblem } from '../../src/app/ports/problems';
import type {
  Interaction,
  LinkResult,
  MatchPair,
  RelationService,
  RelationStatus,
  SearchHit,
} from '../../src/app/ports/relations';
import type { AuditEntry } from '../../src/app/ports/store';

const NOW = '2024-05-01T10:00:00.000Z';

/** A recorded call. */
export interface ServiceCall {
  method: keyof RelationService;
  args: unknown[];
}

/** The fake; `failWith` makes the next call of a method throw. */
export class FakeRelationService implements RelationService {
  readonly calls: ServiceCall[] = [];
  readonly contacts = new Map<string, Contact>();
  readonly accounts = new Map<string, Account>();
  readonly relations = new Map<string, BusinessRelation>();
  readonly interactions: Interaction[] = [];
  readonly auditLog: AuditEntry[] = [];
  /** Pairs proposeMatches answers with (kept unlinked until applied). */
  proposal: MatchPair[] = [];
  private readonly failures = new Map<keyof RelationService, Error>();
  private nextId = 1;

  constructor() {
    this.addContact('C1', 'Cronus Cardoxy');
    this.addContact('C2', 'Adatum');
    this.addContact('C3', 'Fabrikam');
    this.addAccount('customer', 'K1', 'Cronus Cardoxy');
    this.addAccount('customer', 'K2', 'Adatum');
    this.addAccount('vendor', 'V1', 'Fabrikam');
  }

  addContact(id: string, name: string): Contact {
    const contact: Contact = {
      entity: 'contact',
      id,
      type: 'company',
      companyId: null,
      fields: { name, phone: '+44 1 111' },
      modifiedAt: NOW,
    };
    this.contacts.set(id, contact);
    return contact;
  }

  addAccount(kind: AccountKind, id: string, name: string): Account {
    const account: Account = {
      entity: kind,
      id,
      number: `N-${id}`,
      fields: { name, phone: '+44 1 222' },
      modifiedAt: NOW,
    };
    this.accounts.set(`${kind}:${id}`, account);
    return account;
  }

  /** The next call of `method` throws `error`. */
  failWith(method: keyof RelationService, error: Error): void {
    this.failures.set(method, error);
  }

  private enter(method: keyof RelationService, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failures.get(method);
    if (failure) {
      this.failures.delete(method);
      throw failure;
    }
  }

  private requireRelation(id: string): BusinessRelation {
    const relation = this.relations.get(id);
    if (!relation) throw new NotFoundProblem(`no relation ${id}`);
    return relation;
  }

  private newRelation(
    contactId: string,
    accountKind: AccountKind,
    accountId: string,
    origin: BusinessRelation['origin'],
  ): BusinessRelation {
    if (!this.contacts.has(contactId)) throw new NotFoundProblem(`no contact ${contactId}`);
    if (!this.accounts.has(`${accountKind}:${accountId}`)) throw new NotFoundProblem(`no ${accountKind} ${accountId}`);
    for (const relation of this.relations.values()) {
      if (relation.contactId === contactId && relation.accountKind === accountKind) {
        throw new ConflictProblem(
          'RELATION_EXISTS',
          `contact ${contactId} already has a ${accountKind} relation (${relation.accountId})`,
        );
      }
      if (relation.accountKind === accountKind && relation.accountId === accountId) {
        throw new ConflictProblem(
          'ACCOUNT_LINKED',
          `${accountKind} ${accountId} is already linked to contact ${relation.contactId}`,
        );
      }
    }
    const relation: BusinessRelation = {
      id: `R${this.nextId++}`,
      contactId,
      accountKind,
      accountId,
      relationCode: accountKind.slice(0, 4).toUpperCase(),
      origin,
      createdAt: NOW,
    };
    this.relations.set(relation.id, relation);
    return relation;
  }

  async listRelations(filter: Parameters<RelationService['listRelations']>[0]) {
    this.enter('listRelations', filter);
    const all = [...this.relations.values()].filter(
      (relation) =>
        (!filter.kind || relation.accountKind === filter.kind) &&
        (!filter.contactId || relation.contactId === filter.contactId),
    );
    return all.slice(filter.offset ?? 0, (filter.offset ?? 0) + (filter.limit ?? 100));
  }

  async getRelation(id: string) {
    this.enter('getRelation', id);
    return this.requireRelation(id);
  }

  async link(
    input: Parameters<RelationService['link']>[0],
    actor: Parameters<RelationService['link']>[1],
  ): Promise<LinkResult> {
    this.enter('link', input, actor);
    const relation = this.newRelation(input.contactId, input.accountKind, input.accountId, 'linked');
    const contact = this.contacts.get(input.contactId) as Contact;
    const account = this.accounts.get(`${input.accountKind}:${input.accountId}`) as Account;
    const changes: LinkResult['changes'] = [];
    if (contact.fields.phone !== account.fields.phone) {
      const winner = input.winner ?? 'contact';
      const from = winner === 'contact' ? account.fields.phone : contact.fields.phone;
      const to = winner === 'contact' ? contact.fields.phone : account.fields.phone;
      changes.push({
        side: winner === 'contact' ? 'account' : 'contact',
        field: 'phone',
        from: from ?? null,
        to: to ?? null,
      });
    }
    return { relation, changes };
  }

  async unlink(relationId: string, actor: Parameters<RelationService['unlink']>[1]) {
    this.enter('unlink', relationId, actor);
    const relation = this.requireRelation(relationId);
    this.relations.delete(relationId);
    return relation;
  }

  async createAccountFromContact(
    input: Parameters<RelationService['createAccountFromContact']>[0],
    actor: Parameters<RelationService['createAccountFromContact']>[1],
  ) {
    this.enter('createAccountFromContact', input, actor);
    const contact = this.contacts.get(input.contactId);
    if (!contact) throw new NotFoundProblem(`no contact ${input.contactId}`);
    const existing = [...this.relations.values()].find(
      (relation) => relation.contactId === input.contactId && relation.accountKind === input.accountKind,
    );
    if (existing) {
      return {
        relation: existing,
        account: this.accounts.get(`${existing.accountKind}:${existing.accountId}`) as Account,
        created: false,
      };
    }
    const account = this.addAccount(input.accountKind, `A${this.nextId++}`, contact.fields.name ?? '');
    const relation = this.newRelation(input.contactId, input.accountKind, account.id, 'createdFromContact');
    return { relation, account, created: true };
  }

  async createContactFromAccount(
    input: Parameters<RelationService['createContactFromAccount']>[0],
    actor: Parameters<RelationService['createContactFromAccount']>[1],
  ) {
    this.enter('createContactFromAccount', input, actor);
    const account = this.accounts.get(`${input.accountKind}:${input.accountId}`);
    if (!account) throw new NotFoundProblem(`no ${input.accountKind} ${input.accountId}`);
    const existing = [...this.relations.values()].find(
      (relation) => relation.accountKind === input.accountKind && relation.accountId === input.accountId,
    );
    if (existing)
      return {
        relation: existing,
        contact: this.contacts.get(existing.contactId) as Contact,
        person: null,
        created: false,
      };
    const contact = this.addContact(`C${this.nextId++}`, account.fields.name ?? '');
    const relation = this.newRelation(contact.id, input.accountKind, input.accountId, 'createdFromAccount');
    return { relation, contact, person: null, created: true };
  }

  async proposeMatches(input: Parameters<RelationService['proposeMatches']>[0]) {
    this.enter('proposeMatches', input);
    const pairs = this.proposal.filter((pair) => !input.kinds || input.kinds.includes(pair.accountKind));
    return { pairs, review: [{ reason: 'two customers share the e-mail domain of contact C3', candidates: [] }] };
  }

  async applyMatches(
    input: Parameters<RelationService['applyMatches']>[0],
    actor: Parameters<RelationService['applyMatches']>[1],
    onProgress?: (done: number, total: number) => void,
  ) {
    this.enter('applyMatches', input, actor);
    const pairs = this.proposal.filter(
      (pair) => (!input.kinds || input.kinds.includes(pair.accountKind)) && pair.score >= (input.minScore ?? 0),
    );
    const linked: LinkResult[] = [];
    const failed: Array<{ pair: MatchPair; reason: string }> = [];
    for (const [index, pair] of pairs.entries()) {
      try {
        linked.push({
          relation: this.newRelation(pair.contactId, pair.accountKind, pair.accountId, 'automatic'),
          changes: [],
        });
      } catch (error) {
        failed.push({ pair, reason: (error as Error).message });
      }
      onProgress?.(index + 1, pairs.length);
    }
    return { linked, failed, review: [] };
  }

  async listInteractions(contactId: string) {
    this.enter('listInteractions', contactId);
    if (!this.contacts.has(contactId)) throw new NotFoundProblem(`no contact ${contactId}`);
    return this.interactions.filter((interaction) => interaction.contactId === contactId);
  }

  async recordInteraction(
    contactId: string,
    input: Parameters<RelationService['recordInteraction']>[1],
    actor: Parameters<RelationService['recordInteraction']>[2],
  ) {
    this.enter('recordInteraction', contactId, input, actor);
    if (!this.contacts.has(contactId)) throw new NotFoundProblem(`no contact ${contactId}`);
    const interaction: Interaction = {
      id: `I${this.nextId++}`,
      contactId,
      type: input.type,
      description: input.description,
      occurredAt: input.occurredAt ?? NOW,
      who: input.who ?? actor.name,
      source: 'external',
      relationId: input.relationId ?? null,
      details: null,
    };
    this.interactions.push(interaction);
    return interaction;
  }

  async createDocument(
    contactId: string,
    input: Parameters<RelationService['createDocument']>[1],
    actor: Parameters<RelationService['createDocument']>[2],
  ) {
    this.enter('createDocument', contactId, input, actor);
    const kind = input.type.startsWith('sales') ? 'customer' : 'vendor';
    const relation = [...this.relations.values()].find(
      (candidate) => candidate.contactId === contactId && candidate.accountKind === kind,
    );
    if (!relation) throw new ConflictProblem('NO_RELATION', `contact ${contactId} has no ${kind} relation`);
    const document: CreatedDocument = {
      type: input.type,
      id: `D${this.nextId++}`,
      number: 'SQ-1001',
      accountId: relation.accountId,
      date: '2024-05-01',
      status: 'Draft',
    };
    const interaction = await this.recordInteraction(
      contactId,
      { type: 'documentCreated', description: `${input.type} SQ-1001`, relationId: relation.id },
      actor,
    );
    return { document, interaction: { ...interaction, source: 'tandem' as const }, relation };
  }

  async relationStatus(relationId: string): Promise<RelationStatus> {
    this.enter('relationStatus', relationId);
    const relation = this.requireRelation(relationId);
    const contact = this.contacts.get(relation.contactId) ?? null;
    const account = this.accounts.get(`${relation.accountKind}:${relation.accountId}`) ?? null;
    const fields = (['name', 'phone'] as const).map((field) => {
      const contactValue = contact?.fields[field] ?? null;
      const accountValue = account?.fields[field] ?? null;
      return {
        contactField: field,
        accountField: field,
        direction: 'both' as const,
        contactValue,
        accountValue,
        inSync: contactValue === accountValue,
        newer: contactValue === accountValue ? null : ('contact' as const),
      };
    });
    return {
      relation,
      contact,
      account,
      fields,
      inSync: fields.every((field) => field.inSync),
      filtered: null,
      pendingJobs: [],
      lastError: null,
      lastConflicts: [],
    };
  }

  /** Records whose name or id contains the text, without case. */
  async searchRecords(input: Parameters<RelationService['searchRecords']>[0]): Promise<SearchHit[]> {
    this.enter('searchRecords', input);
    const text = input.text.toLowerCase();
    const records: (Contact | Account)[] =
      input.entity === 'contact'
        ? [...this.contacts.values()]
        : [...this.accounts.values()].filter((account) => account.entity === input.entity);
    return records
      .filter((record) => `${record.id} ${record.fields.name ?? ''}`.toLowerCase().includes(text))
      .slice(0, input.limit ?? 10)
      .map((record) => ({
        entity: record.entity,
        id: record.id,
        name: record.fields.name ?? null,
        type: record.entity === 'contact' ? record.type : null,
        number: record.entity === 'contact' ? null : record.number,
        email: null,
        vatRegistrationNo: null,
        city: null,
        relations: [...this.relations.values()].filter((relation) =>
          record.entity === 'contact'
            ? relation.contactId === record.id
            : relation.accountKind === record.entity && relation.accountId === record.id,
        ),
      }));
  }

  async audit(filter: Parameters<RelationService['audit']>[0]) {
    this.enter('audit', filter);
    return this.auditLog.filter(
      (entry) =>
        (!filter.contactId || entry.contactId === filter.contactId) && (!filter.kind || entry.kind === filter.kind),
    );
  }
}

/** An upstream failure as the service reports it. */
export const upstreamFailure = () => new UpstreamProblem('Business Central answered 503 Service Unavailable');
