/**
 * Creating a company contact in the CRM from a customer, vendor or bank account, plus a person
 * contact under it when the account names a contact person, then the link. Idempotent like
 * creating an account: once per key, and the CRM create itself is keyed, so a retry finds the
 * contact a lost response created.
 */
import { meets } from '../../core/filter';
import { crmSpelling } from '../../core/transform';
import { mappingsFor } from '../../config/schema';
import type { AccountKind, BusinessRelation, Contact, FieldValue } from '../../core/model';
import {
  createRelation,
  findContact,
  KIND_WORDS,
  readAccount,
  relationAudit,
  requireCode,
  resultText,
  runOnce,
  shadowOf,
  tandemInteraction,
  upstream,
  type RelationContext,
} from './context';
import { ConflictProblem, NotFoundProblem } from '../ports/problems';
import type { Actor } from '../ports/relations';

/** Creates a company contact (and a person) from an account and links it. */
export async function createContactFromAccount(
  context: RelationContext,
  input: {
    accountKind: AccountKind;
    accountId: string;
    idempotencyKey?: string;
    origin?: 'createdFromAccount' | 'automatic';
  },
  actor: Actor,
): Promise<{ relation: BusinessRelation; contact: Contact; person: Contact | null; created: boolean }> {
  const { engine } = context;
  const kind = input.accountKind;
  const origin = input.origin ?? 'createdFromAccount';
  const relationCode = requireCode(engine, kind);
  const key = input.idempotencyKey ?? `create-contact-${kind}-${input.accountId}`;
  if (!engine.crm.create)
    throw new ConflictProblem('NOT_SUPPORTED', `the CRM connector '${engine.crm.name}' cannot create records`);
  const create = engine.crm.create.bind(engine.crm);

  const request = input.idempotencyKey === undefined ? undefined : { accountKind: kind, accountId: input.accountId };
  const { result, fresh } = await runOnce(context, key, 'createContact', request, async () => {
    const account = await readAccount(engine, kind, input.accountId);
    // An automatic contact is made only for an account that takes part; an admin may still ask for one.
    if (origin === 'automatic' && !meets(account, engine.config.filters[kind]?.account))
      throw new ConflictProblem('FILTERED', `${kind} ${account.id} is left out by the sync filter of ${kind}`);
    const owner = await engine.store.findRelationByAccount(kind, account.id);
    if (owner)
      throw new ConflictProblem(
        'ACCOUNT_LINKED',
        `${KIND_WORDS[kind]} ${account.id} is already linked to contact ${owner.contactId} (relation ${owner.id})`,
      );

    const mappings = mappingsFor(engine.config, kind);
    const fields: Record<string, FieldValue> = {};
    for (const mapping of mappings) {
      const value = account.fields[mapping.account as keyof typeof account.fields] ?? null;
      const spelled = crmSpelling(mapping, value);
      if (spelled !== null) fields[mapping.contact] = spelled;
    }
    const record = await upstream('creating a company contact', () =>
      create('contact', fields, { idempotencyKey: key, extra: { type: 'company' } }),
    );
    const company = await findContact(engine, record.id);
    if (company === null) throw new NotFoundProblem(`the contact just created (${record.id}) cannot be read back`);

    let person: Contact | null = null;
    if (account.contactPerson) {
      const named = account.contactPerson;
      const personFields: Record<string, FieldValue> = {
        name: named.name,
        email: named.email ?? null,
        phone: named.phone ?? null,
      };
      const created = await upstream('creating a person contact', () =>
        create('contact', personFields, {
          idempotencyKey: `${key}-person`,
          extra: { type: 'person', companyId: company.id },
        }),
      );
      person = created.entity === 'contact' ? created : null;
    }

    const relation = await createRelation(engine, {
      contactId: company.id,
      accountKind: kind,
      accountId: account.id,
      relationCode,
      origin,
    });
    await engine.store.recordSync(shadowOf(relation, mappings, company, account), [
      relationAudit('create', relation, actor, {
        created: 'contact',
        contactId: company.id,
        personId: person?.id ?? null,
        idempotencyKey: key,
      }),
      relationAudit('link', relation, actor, { origin }),
    ]);
    await tandemInteraction(
      engine,
      {
        contactId: company.id,
        type: 'contactCreated',
        description: `contact created from ${KIND_WORDS[kind]} ${account.number ?? account.id}${person ? `, with person ${person.fields.name ?? person.id}` : ''}${origin === 'automatic' ? ' (automatic)' : ''}`,
        relationId: relation.id,
        details: { accountKind: kind, accountId: account.id, personId: person?.id ?? null, origin },
      },
      actor,
    );
    return { relationId: relation.id, contactId: company.id, personId: person?.id ?? null, created: true };
  });

  const relation = await engine.store.getRelation(resultText(result, 'relationId'));
  if (relation === null) throw new NotFoundProblem(`the relation created by operation ${key} no longer exists`);
  const contact = await findContact(engine, resultText(result, 'contactId'));
  if (contact === null)
    throw new NotFoundProblem(
      `contact ${resultText(result, 'contactId')} created by operation ${key} no longer exists`,
    );
  const personId = result['personId'];
  const person = typeof personId === 'string' ? await findContact(engine, personId) : null;
  return { relation, contact, person, created: fresh };
}
