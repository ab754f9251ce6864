/**
 * Creating a customer, vendor or bank account from a contact: the contact's mapped fields, the
 * template's defaults and extra values, and the request's values, then the link. Idempotent: the
 * operation runs once per key, and the account number is derived from the key, so a retry after a
 * crash finds the account the first attempt created instead of creating a second.
 */
import { accountSpelling } from '../../core/transform';
import { createHash } from 'node:crypto';
import { mappingsFor, templatesFor, type AccountTemplate } from '../../config/schema';
import {
  ACCOUNT_FIELDS,
  type Account,
  type AccountKind,
  type BusinessRelation,
  type FieldValue,
} from '../../core/model';
import {
  createRelation,
  findAccount,
  KIND_WORDS,
  readContact,
  relationAudit,
  requireCode,
  requireCompany,
  resultText,
  runOnce,
  shadowOf,
  tandemInteraction,
  upstream,
  type RelationContext,
} from './context';
import { ConflictProblem, InvalidInputProblem, NotFoundProblem } from '../ports/problems';
import type { Actor } from '../ports/relations';

/** What the create needs to send, after the template and values are applied. */
export interface AccountDraft {
  fields: Record<string, FieldValue>;
  extra: Record<string, string | number | boolean | null>;
}

const accountFields = new Set<string>(ACCOUNT_FIELDS);

/** The template of a kind by name; TEMPLATE_MISSING names the setting to add. */
export function resolveTemplate(
  templates: Record<string, AccountTemplate> | undefined,
  kind: AccountKind,
  name: string,
): AccountTemplate {
  // Own keys only: a name such as `__proto__` or `hasOwnProperty` is not a template.
  const template = templates !== undefined && Object.hasOwn(templates, name) ? templates[name] : undefined;
  if (template === undefined) {
    const known = templates ? Object.keys(templates) : [];
    throw new ConflictProblem(
      'TEMPLATE_MISSING',
      `no ${KIND_WORDS[kind]} template '${name}': add templates.${kind}.${name} to the config${known.length > 0 ? ` (configured: ${known.join(', ')})` : ''}`,
    );
  }
  return template;
}

/**
 * The fields and extra values of a new account: contact values first, template defaults where
 * the contact has none, request values over both. Pure.
 */
export function draftAccount(input: {
  contactFields: Record<string, FieldValue>;
  template: AccountTemplate;
  templateName: string;
  values: Record<string, string>;
}): AccountDraft {
  const fields: Record<string, FieldValue> = { ...input.contactFields };
  for (const [field, value] of Object.entries(input.template.fields))
    if (!fields[field] && value !== undefined) fields[field] = value;
  const extra: AccountDraft['extra'] = { ...input.template.extra };
  for (const [key, value] of Object.entries(input.values)) {
    if (accountFields.has(key)) fields[key] = value.trim() === '' ? null : value;
    else extra[key] = value;
  }
  const filled = (key: string) => {
    const value = accountFields.has(key) ? fields[key] : extra[key];
    return value !== undefined && value !== null && String(value).trim() !== '';
  };
  for (const required of input.template.required) {
    const alternatives = required.split('|');
    if (!alternatives.some(filled)) {
      const wording = alternatives.length > 1 ? `one of ${alternatives.join(', ')}` : alternatives[0];
      throw new InvalidInputProblem(
        `values.${alternatives[0] ?? required}`,
        `required by template ${input.templateName}: give ${wording} (a contact does not carry it)`,
      );
    }
  }
  return { fields, extra };
}

/** The account number tandem chooses for a key: the same key always gives the same number. */
export function numberFor(prefix: string, key: string): string {
  return `${prefix}${createHash('sha256').update(key).digest('hex').slice(0, 8).toUpperCase()}`;
}

/** Creates an account from a contact and links it. */
export async function createAccountFromContact(
  context: RelationContext,
  input: {
    contactId: string;
    accountKind: AccountKind;
    template?: string;
    values?: Record<string, string>;
    idempotencyKey?: string;
  },
  actor: Actor,
): Promise<{ relation: BusinessRelation; account: Account; created: boolean }> {
  const { engine } = context;
  const kind = input.accountKind;
  const relationCode = requireCode(engine, kind);
  const templateName = input.template ?? 'default';
  const template = resolveTemplate(templatesFor(engine.config, kind), kind, templateName);
  const key = input.idempotencyKey ?? `create-account-${kind}-${input.contactId}`;
  if (!engine.accounting.create)
    throw new ConflictProblem(
      'NOT_SUPPORTED',
      `the accounting connector '${engine.accounting.name}' cannot create records`,
    );
  const create = engine.accounting.create.bind(engine.accounting);

  const request =
    input.idempotencyKey === undefined
      ? undefined
      : { contactId: input.contactId, accountKind: kind, template: templateName, values: input.values ?? {} };
  const { result, fresh } = await runOnce(context, key, 'createAccount', request, async () => {
    const contact = await readContact(engine, input.contactId);
    requireCompany(contact);
    const mappings = mappingsFor(engine.config, kind);
    const contactFields: Record<string, FieldValue> = {};
    for (const mapping of mappings) {
      const value = contact.fields[mapping.contact as keyof typeof contact.fields] ?? null;
      const spelled = accountSpelling(mapping, value);
      if (spelled !== null) contactFields[mapping.account] = spelled;
    }
    const draft = draftAccount({ contactFields, template, templateName, values: input.values ?? {} });
    const number =
      typeof draft.extra['number'] === 'string' ? draft.extra['number'] : numberFor(template.numberPrefix, key);

    const existing = (await engine.store.findRelationsByContact(contact.id)).find(
      (relation) => relation.accountKind === kind,
    );
    if (existing) {
      // An earlier attempt with this key may have linked its account before it stopped.
      const linked = await findAccount(engine, kind, existing.accountId);
      if (linked?.number === number) return { relationId: existing.id, accountId: linked.id, created: false };
      throw new ConflictProblem(
        'RELATION_EXISTS',
        `contact ${contact.id} already has a ${KIND_WORDS[kind]} relation, with ${KIND_WORDS[kind]} ${existing.accountId} (relation ${existing.id})`,
      );
    }

    const record = await upstream(`creating a ${KIND_WORDS[kind]}`, () =>
      create(kind, draft.fields, { idempotencyKey: key, extra: { ...draft.extra, number } }),
    );
    const account = await findAccount(engine, kind, record.id);
    if (account === null)
      throw new NotFoundProblem(`the ${KIND_WORDS[kind]} just created (${record.id}) cannot be read back`);
    const relation = await createRelation(engine, {
      contactId: contact.id,
      accountKind: kind,
      accountId: account.id,
      relationCode,
      origin: 'createdFromContact',
    });
    // The account's values came from the contact: nothing to reconcile, only the shadow to keep.
    await engine.store.recordSync(shadowOf(relation, mappings, contact, account), [
      relationAudit('create', relation, actor, {
        created: kind,
        number: account.number,
        template: templateName,
        idempotencyKey: key,
      }),
      relationAudit('link', relation, actor, { origin: 'createdFromContact' }),
    ]);
    await tandemInteraction(
      engine,
      {
        contactId: contact.id,
        type: 'accountCreated',
        description: `${KIND_WORDS[kind]} ${account.number ?? account.id} created from the contact (template ${templateName})`,
        relationId: relation.id,
        details: { accountKind: kind, accountId: account.id, number: account.number },
      },
      actor,
    );
    return { relationId: relation.id, accountId: account.id, created: true };
  });

  const relation = await engine.store.getRelation(resultText(result, 'relationId'));
  if (relation === null) throw new NotFoundProblem(`the relation created by operation ${key} no longer exists`);
  const account = await findAccount(engine, kind, resultText(result, 'accountId'));
  if (account === null)
    throw new NotFoundProblem(
      `${KIND_WORDS[kind]} ${resultText(result, 'accountId')} created by operation ${key} no longer exists`,
    );
  return { relation, account, created: fresh && result['created'] === true };
}
