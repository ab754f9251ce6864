import { configSchema } from '../../config/schema';
import { InvalidIdError } from '../../../connectors/kit/errors';
import type { Account, Contact } from '../../core/model';
import { createPgliteExecutor, SqlStore, type SqlExecutor } from '../../store';
import { AsyncMutex } from '../../store/async-mutex';
import type { Store } from '../ports/store';
import { directWrites, FakeConnector, quietLogger } from '../../../test/support/fakes';
import type { Engine } from '../ports/index';
import { createRelationService } from '.';
import type { RelationService } from '../ports/relations';
import { syncContact } from '../sync-contact';

const FIELDS = ['name', 'phone', 'city', 'email', 'postCode', 'vatRegistrationNo', 'bankAccountNo', 'iban'];
const actor = { name: 'admin' };

let store: Store;
let crm: FakeConnector;
let accounting: FakeConnector;
let service: RelationService;
let engine: Engine;

function setup(overrides: Record<string, unknown> = {}) {
  crm = new FakeConnector({
    name: 'crm',
    system: 'crm',
    entities: ['contact'],
    fields: FIELDS,
    changedPages: (entity) => [{ records: [...crm.records.values()].filter((r) => r.entity === entity), cursor: 'c' }],
  });
  accounting = new FakeConnector({
    name: 'accounting',
    system: 'accounting',
    entities: ['customer', 'vendor', 'bankAccount'],
    fields: FIELDS,
    changedPages: (entity) => [
      { records: [...accounting.records.values()].filter((r) => r.entity === entity), cursor: 'c' },
    ],
  });
  accounting.documents = ['salesQuote', 'salesOrder'];
  const config = configSchema.parse({
    connectors: {
      crm: { kind: 'hubspot', baseUrl: 'http://127.0.0.1:9', credentials: { token: 'x' }, webhooks: false },
      accounting: {
        kind: 'business-central',
        baseUrl: 'http://127.0.0.1:9',
        companyId: 'c1',
        credentials: { tokenUrl: 'http://127.0.0.1:9/t', clientId: 'x', clientSecret: 'x' },
        webhooks: false,
      },
    },
    relationCodes: { customer: 'CUST', vendor: 'VEND', bankAccount: null },
    mappings: {
      customer: ['name', 'phone', 'city', 'email', 'postCode', 'vatRegistrationNo'].map((field) => ({
        contact: field,
        account: field,
      })),
      vendor: [
        { contact: 'name', account: 'name' },
        { contact: 'phone', account: 'phone', direction: 'toCrm' },
      ],
      bankAccount: [{ contact: 'name', account: 'name' }],
    },
    templates: {
      customer: {
        default: {
          fields: { currencyCode: 'EUR' },
          extra: { paymentTermsId: 'NET30' },
          required: ['paymentTermsId'],
          numberPrefix: 'C',
        },
      },
    },
    ...overrides,
  });
  engine = { config, store, crm, accounting, writes: directWrites({ crm, accounting }), logger: quietLogger };
  service = createRelationService(engine, { waitMs: 1000 });
}

// Opening PGlite costs seconds: one store for the file, emptied before each test.
const TABLES =
  'business_relation, relation_shadow, connector_cursor, processed_event, audit_log, interaction, relation_operation';
let sql: SqlExecutor;
beforeAll(async () => {
  sql = await createPgliteExecutor();
  store = new SqlStore(sql);
  await store.migrate();
});
afterAll(() => store.close());
beforeEach(async () => {
  await sql.query(`TRUNCATE ${TABLES} RESTART IDENTITY`);
  setup();
});

const contact = (id: string, fields: Record<string, string>) => crm.put('contact', id, fields) as Contact;
const customer = (id: string, fields: Record<string, string>) => accounting.put('customer', id, fields) as Account;

describe('link', () => {
  it('reconciles once with the contact winning, audits the writes and stores the shadow', async () => {
    contact('c1', { name: 'Fabrikam', phone: '+31 1', city: 'Delft' });
    customer('a1', { name: 'Fabrikam', phone: '+31 2' });
    const result = await service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor);
    expect(accounting.value('customer', 'a1', 'phone')).toBe('+31 1');
    expect(accounting.value('customer', 'a1', 'city')).toBe('Delft');
    expect(result.changes).toEqual(
      expect.arrayContaining([{ side: 'account', field: 'phone', from: '+31 2', to: '+31 1' }]),
    );
    expect(result.relation).toMatchObject({ origin: 'linked', relationCode: 'CUST' });
    const audit = await service.audit({ relationId: result.relation.id });
    expect(audit.map((entry) => entry.kind)).toEqual(['link', 'fieldChange', 'fieldChange']);
    expect(audit[0]).toMatchObject({
      sourceSystem: 'tandem',
      contactId: 'c1',
      accountKind: 'customer',
      accountId: 'a1',
      details: expect.objectContaining({ actor: 'admin', winner: 'contact', origin: 'linked' }),
    });
    expect(audit[1]).toMatchObject({ jobId: 'job-a1', direction: 'toAccounting' });
    const shadow = await store.getShadow(result.relation.id);
    expect(shadow.find((entry) => entry.side === 'account' && entry.field === 'phone')?.value).toBe('+31 1');
    expect((await service.listInteractions('c1'))[0]).toMatchObject({ type: 'linked', source: 'tandem', who: 'admin' });
  });

  it('lets the account win when asked, and never writes against a direction', async () => {
    contact('c1', { name: 'Contoso', phone: '+1' });
    accounting.put('vendor', 'v1', { name: 'Contoso Ltd', phone: '+2' });
    await service.link({ contactId: 'c1', accountKind: 'vendor', accountId: 'v1', winner: 'account' }, actor);
    expect(crm.value('contact', 'c1', 'name')).toBe('Contoso Ltd');
    expect(crm.value('contact', 'c1', 'phone')).toBe('+2');
    contact('c2', { name: 'Tailspin', phone: '+3' });
    accounting.put('vendor', 'v2', { name: 'Tailspin', phone: '+4' });
    await service.link({ contactId: 'c2', accountKind: 'vendor', accountId: 'v2' }, actor);
    // phone flows toCrm only: the account is its master even though the contact won.
    expect(accounting.value('vendor', 'v2', 'phone')).toBe('+4');
    expect(crm.value('contact', 'c2', 'phone')).toBe('+4');
  });

  it('refuses unknown records, persons, a missing code, a second relation and a taken account', async () => {
    contact('c1', { name: 'A' });
    contact('c2', { name: 'B' });
    customer('a1', { name: 'A' });
    customer('a2', { name: 'A2' });
    accounting.put('bankAccount', 'b1', { name: 'Bank' });
    const person = crm.put('contact', 'p1', { name: 'Anna' }) as Contact;
    person.type = 'person';
    person.companyId = 'c1';
    await expect(
      service.link({ contactId: 'nope', accountKind: 'customer', accountId: 'a1' }, actor),
    ).rejects.toMatchObject({ status: 404, message: expect.stringContaining('contact nope') });
    await expect(
      service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'nope' }, actor),
    ).rejects.toMatchObject({ status: 404, message: expect.stringContaining('customer nope') });
    await expect(
      service.link({ contactId: 'p1', accountKind: 'customer', accountId: 'a1' }, actor),
    ).rejects.toMatchObject({ code: 'PERSON_CONTACT', message: expect.stringContaining('c1') });
    await expect(
      service.link({ contactId: 'c1', accountKind: 'bankAccount', accountId: 'b1' }, actor),
    ).rejects.toMatchObject({
      code: 'RELATION_CODE_MISSING',
      message: expect.stringContaining('relationCodes.bankAccount'),
    });
    await service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor);
    await expect(
      service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a2' }, actor),
    ).rejects.toMatchObject({ code: 'RELATION_EXISTS', message: expect.stringContaining('a1') });
    await expect(
      service.link({ contactId: 'c2', accountKind: 'customer', accountId: 'a1' }, actor),
    ).rejects.toMatchObject({ code: 'ACCOUNT_LINKED', message: expect.stringContaining('contact c1') });
  });

  it('keeps the relation and reports a failed write as an upstream problem', async () => {
    contact('c1', { name: 'A', phone: '1' });
    customer('a1', { name: 'A', phone: '2' });
    accounting.beforeUpdate = () => {
      throw new Error('down');
    };
    await expect(
      service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor),
    ).rejects.toMatchObject({ status: 502 });
    const [relation] = await store.findRelationsByContact('c1');
    expect(relation).toBeDefined();
    // Both shadows hold the losing value, so the next sync sees the contact's value as a change.
    const shadow = await store.getShadow(relation?.id ?? '');
    expect(shadow.filter((entry) => entry.field === 'phone').map((entry) => entry.value)).toEqual(['2', '2']);
  });
});

describe('unlink', () => {
  it('removes the relation and keeps both records; unknown ids are 404', async () => {
    contact('c1', { name: 'A' });
    customer('a1', { name: 'A' });
    const { relation } = await service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor);
    await service.unlink(relation.id, actor);
    expect(await store.getRelation(relation.id)).toBeNull();
    expect(crm.records.has('contact:c1') && accounting.records.has('customer:a1')).toBe(true);
    expect((await service.audit({ relationId: relation.id, kind: 'unlink' }))[0]?.details).toMatchObject({
      actor: 'admin',
    });
    expect((await service.listInteractions('c1')).map((entry) => entry.type)).toEqual(['unlinked', 'linked']);
    await expect(service.unlink(relation.id, actor)).rejects.toMatchObject({ status: 404 });
    await expect(service.getRelation('nope')).rejects.toMatchObject({ status: 404 });
    await expect(service.relationStatus('nope')).rejects.toMatchObject({ status: 404 });
  });
});

describe('createAccountFromContact', () => {
  it('creates a customer from the contact and the template, links it, once per key', async () => {
    contact('c1', { name: 'Fabrikam', phone: '+31 1', city: 'Delft' });
    const [first, second] = await Promise.all([
      service.createAccountFromContact({ contactId: 'c1', accountKind: 'customer', values: { city: 'Leiden' } }, actor),
      service.createAccountFromContact({ contactId: 'c1', accountKind: 'customer', values: { city: 'Leiden' } }, actor),
    ]);
    const accounts = [...accounting.records.values()].filter((record) => record.entity === 'customer');
    expect(accounts).toHaveLength(1);
    expect(accounting.creates[0]).toMatchObject({
      fields: { name: 'Fabrikam', phone: '+31 1', city: 'Leiden', currencyCode: 'EUR' },
      extra: { paymentTermsId: 'NET30', number: expect.stringMatching(/^C[0-9A-F]{8}$/) },
    });
    expect([first.created, second.created].sort()).toEqual([false, true]);
    expect(first.relation.id).toBe(second.relation.id);
    expect(first.relation.origin).toBe('createdFromContact');
    expect((await service.audit({ relationId: first.relation.id })).map((entry) => entry.kind)).toEqual([
      'create',
      'link',
    ]);
    expect((await service.listInteractions('c1'))[0]?.type).toBe('accountCreated');
    const again = await service.createAccountFromContact({ contactId: 'c1', accountKind: 'customer' }, actor);
    expect(again).toMatchObject({ created: false, relation: { id: first.relation.id } });
  });

  it('resumes after a failure between creating and linking: still one account', async () => {
    contact('c1', { name: 'Fabrikam' });
    accounting.afterCreate = () => {
      accounting.afterCreate = undefined;
      throw new Error('connection reset');
    };
    await expect(
      service.createAccountFromContact({ contactId: 'c1', accountKind: 'customer' }, actor),
    ).rejects.toMatchObject({ status: 502 });
    expect(await store.findRelationsByContact('c1')).toEqual([]);
    const retried = await service.createAccountFromContact({ contactId: 'c1', accountKind: 'customer' }, actor);
    expect([...accounting.records.values()].filter((record) => record.entity === 'customer')).toHaveLength(1);
    expect(retried.relation.accountId).toBe(retried.account.id);
  });

  it('refuses a missing template, missing required values, persons and unknown contacts', async () => {
    contact('c1', { name: 'Fabrikam' });
    await expect(
      service.createAccountFromContact({ contactId: 'c1', accountKind: 'vendor' }, actor),
    ).rejects.toMatchObject({ code: 'TEMPLATE_MISSING', message: expect.stringContaining('templates.vendor.default') });
    await expect(
      service.createAccountFromContact({ contactId: 'c1', accountKind: 'customer', template: 'export' }, actor),
    ).rejects.toMatchObject({ code: 'TEMPLATE_MISSING' });
    // Names every object has are not templates either.
    for (const template of ['__proto__', 'hasOwnProperty', 'constructor', 'toString'])
      await expect(
        service.createAccountFromContact({ contactId: 'c1', accountKind: 'customer', template }, actor),
      ).rejects.toMatchObject({ code: 'TEMPLATE_MISSING' });
    await expect(
      service.createAccountFromContact(
        { contactId: 'c1', accountKind: 'customer', values: { paymentTermsId: '' } },
        actor,
      ),
    ).rejects.toMatchObject({ status: 400, field: 'values.paymentTermsId' });
    await expect(
      service.createAccountFromContact({ contactId: 'nope', accountKind: 'customer' }, actor),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      service.createAccountFromContact({ contactId: 'c1', accountKind: 'bankAccount' }, actor),
    ).rejects.toMatchObject({ code: 'RELATION_CODE_MISSING' });
    expect(accounting.creates).toEqual([]);
  });

  it('requires bank details for a bank account by the built-in template', async () => {
    setup({ relationCodes: { customer: 'CUST', bankAccount: 'BANK' } });
    contact('c1', { name: 'Fabrikam' });
    await expect(
      service.createAccountFromContact({ contactId: 'c1', accountKind: 'bankAccount' }, actor),
    ).rejects.toMatchObject({
      field: 'values.bankAccountNo',
      reason: expect.stringContaining('one of bankAccountNo, iban'),
    });
    const created = await service.createAccountFromContact(
      { contactId: 'c1', accountKind: 'bankAccount', values: { iban: 'NL91ABNA0417164300' } },
      actor,
    );
    expect(created.account.fields).toMatchObject({ name: 'Fabrikam', iban: 'NL91ABNA0417164300' });
  });
});

describe('createContactFromAccount', () => {
  it('makes no automatic contact for an account a sync filter leaves out, but one an admin asks for', async () => {
    setup({ filters: { customer: { account: [{ field: 'custom.blocked', empty: true }] } } });
    customer('a9', { name: 'Blocked Ltd', 'custom.blocked': 'All' });
    await expect(
      service.createContactFromAccount({ accountKind: 'customer', accountId: 'a9', origin: 'automatic' }, actor),
    ).rejects.toMatchObject({ code: 'FILTERED' });
    expect(await store.findRelationByAccount('customer', 'a9')).toBeNull();
    const byHand = await service.createContactFromAccount({ accountKind: 'customer', accountId: 'a9' }, actor);
    expect(byHand.created).toBe(true);
  });

  it('creates a company and a person for the contact person, linked, once', async () => {
    const account = customer('a1', { name: 'Fabrikam', phone: '+31 1' });
    account.contactPerson = { name: 'Anna de Vries', email: 'anna@fabrikam.com' };
    const result = await service.createContactFromAccount({ accountKind: 'customer', accountId: 'a1' }, actor);
    expect(result.contact).toMatchObject({ type: 'company', fields: { name: 'Fabrikam', phone: '+31 1' } });
    expect(result.person).toMatchObject({
      type: 'person',
      companyId: result.contact.id,
      fields: { name: 'Anna de Vries' },
    });
    expect(result.relation.origin).toBe('createdFromAccount');
    const again = await service.createContactFromAccount({ accountKind: 'customer', accountId: 'a1' }, actor);
    expect(again).toMatchObject({ created: false, relation: { id: result.relation.id } });
    expect(crm.creates).toHaveLength(2);
    expect((await service.listInteractions(result.contact.id))[0]?.type).toBe('contactCreated');
    await expect(
      service.createContactFromAccount({ accountKind: 'customer', accountId: 'a1', idempotencyKey: 'other' }, actor),
    ).rejects.toMatchObject({ code: 'ACCOUNT_LINKED' });
    await expect(
      service.createContactFromAccount({ accountKind: 'customer', accountId: 'nope' }, actor),
    ).rejects.toMatchObject({ status: 404 });
  });
});

describe('ids the other system cannot have', () => {
  it('are bad input naming the field (400), not a failure of the other system (502)', async () => {
    contact('c1', { name: 'Fabrikam' });
    const get = accounting.get.bind(accounting);
    accounting.get = async (entity, id) => {
      if (id === 'not-a-guid') throw new InvalidIdError('accounting', entity, id, 'a Business Central id (a GUID)');
      return await get(entity, id);
    };
    await expect(
      service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'not-a-guid' }, actor),
    ).rejects.toMatchObject({
      status: 400,
      field: 'accountId',
      reason: "'not-a-guid' is not a Business Central id (a GUID)",
    });
    expect(await store.findRelationsByContact('c1')).toEqual([]);
  });
});

describe('idempotency keys', () => {
  it('are bound to the request they were first used for: another contact, template or values is refused', async () => {
    contact('c1', { name: 'Fabrikam' });
    contact('c2', { name: 'Contoso' });
    const first = await service.createAccountFromContact(
      { contactId: 'c1', accountKind: 'customer', idempotencyKey: 'K1' },
      actor,
    );
    const reused = (input: Partial<Parameters<typeof service.createAccountFromContact>[0]>) =>
      service.createAccountFromContact(
        { contactId: 'c1', accountKind: 'customer', idempotencyKey: 'K1', ...input },
        actor,
      );
    await expect(reused({ contactId: 'c2' })).rejects.toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    await expect(reused({ values: { city: 'Leiden' } })).rejects.toMatchObject({ status: 422 });
    await expect(reused({ template: 'export' })).rejects.toMatchObject({ code: 'TEMPLATE_MISSING' });
    expect(await store.findRelationsByContact('c2')).toEqual([]);
    // The same request again gets the first result.
    await expect(reused({})).resolves.toMatchObject({ created: false, account: { id: first.account.id } });
    expect(accounting.creates).toHaveLength(1);

    customer('a7', { name: 'Tailspin' });
    await expect(
      service.createContactFromAccount({ accountKind: 'customer', accountId: 'a7', idempotencyKey: 'K1' }, actor),
    ).rejects.toMatchObject({ status: 422 });
    expect(crm.creates).toEqual([]);
  });

  it('of documents are bound to the contact and the document type', async () => {
    contact('c1', { name: 'A' });
    customer('a1', { name: 'A' });
    contact('c2', { name: 'B' });
    customer('a2', { name: 'B' });
    await service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor);
    await service.link({ contactId: 'c2', accountKind: 'customer', accountId: 'a2' }, actor);
    const first = await service.createDocument('c1', { type: 'salesOrder', idempotencyKey: 'D1' }, actor);
    await expect(
      service.createDocument('c2', { type: 'salesOrder', idempotencyKey: 'D1' }, actor),
    ).rejects.toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    await expect(
      service.createDocument('c1', { type: 'salesQuote', idempotencyKey: 'D1' }, actor),
    ).rejects.toMatchObject({ status: 422 });
    const again = await service.createDocument('c1', { type: 'salesOrder', idempotencyKey: 'D1' }, actor);
    expect(again.document.id).toBe(first.document.id);
    expect(accounting.startedDocuments).toHaveLength(1);
  });
});

describe('matching', () => {
  it('proposes and links unambiguous pairs only; ties go to review', async () => {
    contact('c1', { name: 'Fabrikam B.V.', vatRegistrationNo: 'NL812345678B01' });
    contact('c2', { name: 'Contoso', email: 'info@contoso.com' });
    contact('c3', { name: 'Contoso Europe', email: 'info@contoso.com' });
    const person = crm.put('contact', 'p1', { name: 'Anna', vatRegistrationNo: 'NL812345678B01' }) as Contact;
    person.type = 'person';
    customer('a1', { name: 'Fabrikam', vatRegistrationNo: '812345678B01' });
    customer('a2', { name: 'Contoso Ltd', email: 'info@contoso.com' });
    const proposal = await service.proposeMatches({});
    expect(proposal.pairs).toEqual([
      {
        contactId: 'c1',
        contactName: 'Fabrikam B.V.',
        accountKind: 'customer',
        accountId: 'a1',
        accountName: 'Fabrikam',
        score: 100,
        rule: 'vatRegistrationNo',
      },
    ]);
    expect(proposal.review[0]?.candidates.map((pair) => pair.contactId).sort()).toEqual(['c2', 'c3']);
    const progress: number[] = [];
    const applied = await service.applyMatches({}, actor, (done) => progress.push(done));
    expect(applied.linked).toHaveLength(1);
    expect(progress).toEqual([1]);
    expect(await store.findRelationByAccount('customer', 'a2')).toBeNull();
    expect((await service.proposeMatches({})).pairs).toEqual([]);
  });

  it('leaves out records a sync filter leaves out, on either side', async () => {
    setup({
      filters: {
        customer: {
          contact: [{ field: 'city', notIn: ['Nowhere'] }],
          account: [{ field: 'custom.blocked', empty: true }],
        },
      },
    });
    contact('c1', { name: 'Fabrikam B.V.', vatRegistrationNo: 'NL812345678B01' });
    customer('a1', { name: 'Fabrikam', vatRegistrationNo: '812345678B01', 'custom.blocked': 'All' });
    contact('c2', { name: 'Contoso', vatRegistrationNo: 'NL999999999B01', city: 'Nowhere' });
    customer('a2', { name: 'Contoso', vatRegistrationNo: '999999999B01' });
    expect(await service.proposeMatches({})).toEqual({ pairs: [], review: [] });
    customer('a1', { name: 'Fabrikam', vatRegistrationNo: '812345678B01' });
    expect((await service.proposeMatches({})).pairs.map((pair) => pair.accountId)).toEqual(['a1']);
  });

  it('never proposes or links a pair someone rejected', async () => {
    contact('c1', { name: 'Fabrikam B.V.', vatRegistrationNo: 'NL812345678B01' });
    customer('a1', { name: 'Fabrikam', vatRegistrationNo: '812345678B01' });
    expect((await service.proposeMatches({})).pairs).toHaveLength(1);
    await store.rejectMatch({ contactId: 'c1', accountKind: 'customer', accountId: 'a1', rejectedBy: 'admin' });
    expect(await service.proposeMatches({})).toEqual({ pairs: [], review: [] });
    const applied = await service.applyMatches({}, actor);
    expect(applied.linked).toHaveLength(0);
    expect(await store.findRelationByAccount('customer', 'a1')).toBeNull();
  });
});

describe('interactions', () => {
  it('records external interactions and validates them', async () => {
    contact('c1', { name: 'A' });
    const recorded = await service.recordInteraction(
      'c1',
      { type: 'emailSent', description: 'Offer sent', occurredAt: '2024-05-01T10:00:00Z' },
      actor,
    );
    expect(recorded).toMatchObject({ source: 'external', who: 'admin', occurredAt: '2024-05-01T10:00:00.000Z' });
    await expect(service.recordInteraction('c1', { type: '1bad', description: 'x' }, actor)).rejects.toMatchObject({
      status: 400,
      field: 'type',
    });
    await expect(service.recordInteraction('c1', { type: 'ok', description: '' }, actor)).rejects.toMatchObject({
      status: 400,
      field: 'description',
    });
    await expect(
      service.recordInteraction('c1', { type: 'ok', description: 'x'.repeat(501) }, actor),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      service.recordInteraction('c1', { type: 'ok', description: 'x', occurredAt: 'yesterday' }, actor),
    ).rejects.toMatchObject({ field: 'occurredAt' });
    await expect(service.recordInteraction('nope', { type: 'ok', description: 'x' }, actor)).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe('documents', () => {
  it('starts a document for the linked customer, refuses without a relation or support', async () => {
    contact('c1', { name: 'A' });
    customer('a1', { name: 'A' });
    await expect(service.createDocument('c1', { type: 'salesQuote' }, actor)).rejects.toMatchObject({
      code: 'NO_RELATION',
      message: 'contact c1 has no customer relation: link or create a customer first',
    });
    await service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor);
    const result = await service.createDocument('c1', { type: 'salesQuote' }, actor);
    expect(result.document).toMatchObject({ type: 'salesQuote', accountId: 'a1' });
    expect(result.interaction).toMatchObject({
      type: 'documentCreated',
      details: { type: 'salesQuote', id: result.document.id, number: result.document.number },
    });
    accounting.put('vendor', 'v1', { name: 'A' });
    await service.link({ contactId: 'c1', accountKind: 'vendor', accountId: 'v1' }, actor);
    await expect(service.createDocument('c1', { type: 'purchaseOrder' }, actor)).rejects.toMatchObject({
      code: 'NOT_SUPPORTED',
    });
  });

  it('starts one document for two overlapping calls with the same key', async () => {
    // The daemon's contact lock, in process.
    const locks = new Map<string, AsyncMutex>();
    engine.lockContact = (contactId, work) => {
      if (!locks.has(contactId)) locks.set(contactId, new AsyncMutex());
      return (locks.get(contactId) as AsyncMutex).run(work);
    };
    service = createRelationService(engine, { waitMs: 1000 });
    contact('c1', { name: 'A' });
    customer('a1', { name: 'A' });
    await service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor);
    const [first, second] = await Promise.all([
      service.createDocument('c1', { type: 'salesOrder', idempotencyKey: 'order-click-1' }, actor),
      service.createDocument('c1', { type: 'salesOrder', idempotencyKey: 'order-click-1' }, actor),
    ]);
    expect(accounting.startedDocuments).toHaveLength(1);
    expect(second.document.id).toBe(first.document.id);
    expect(second.interaction.id).toBe(first.interaction.id);
    expect((await store.listInteractions('c1')).filter((entry) => entry.type === 'documentCreated')).toHaveLength(1);
  });
});

describe('relationStatus', () => {
  it('shows both sides per field and which one changed', async () => {
    contact('c1', { name: 'A', phone: '1' });
    customer('a1', { name: 'A', phone: '1' });
    const { relation } = await service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor);
    accounting.edit('customer', 'a1', { phone: '2' });
    const status = await service.relationStatus(relation.id);
    expect(status.inSync).toBe(false);
    expect(status.fields.find((field) => field.contactField === 'phone')).toMatchObject({
      contactValue: '1',
      accountValue: '2',
      inSync: false,
      newer: 'account',
    });
    expect(status.fields.find((field) => field.contactField === 'name')).toMatchObject({ inSync: true, newer: null });
    expect(status).toMatchObject({ pendingJobs: [], lastError: null, lastConflicts: [] });
    accounting.records.delete('customer:a1');
    expect((await service.relationStatus(relation.id)).account).toBeNull();
  });
});

describe('merged and archived accounts', () => {
  const account = (id: string) => accounting.records.get(`customer:${id}`) as Account;

  it('moves the relation to the surviving account when the accounting system merges one; nothing is deleted', async () => {
    contact('c1', { name: 'Merged Oy', phone: '1' });
    customer('a1', { name: 'Merged Oy', phone: '1' });
    customer('a2', { name: 'Merged Oy (main)', phone: '1' });
    const { relation } = await service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor);
    account('a1').mergedInto = 'a2';
    await syncContact(engine, 'c1', 'merge-1');
    const [moved] = await store.findRelationsByContact('c1');
    expect(moved).toMatchObject({ accountKind: 'customer', accountId: 'a2', relationCode: 'CUST' });
    expect(await store.getRelation(relation.id)).toBeNull();
    expect(await store.queryAudit({ contactId: 'c1', kind: 'link' })).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          accountId: 'a2',
          details: expect.objectContaining({ reason: 'merged', movedFrom: 'a1' }),
        }),
      ]),
    );
    expect(crm.records.has('contact:c1')).toBe(true);
    expect(accounting.records.has('customer:a1')).toBe(true);
  });

  it('removes the relation when the surviving account is already linked to another contact', async () => {
    contact('c1', { name: 'One' });
    contact('c2', { name: 'Two' });
    customer('a1', { name: 'One' });
    customer('a2', { name: 'Two' });
    await service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor);
    await service.link({ contactId: 'c2', accountKind: 'customer', accountId: 'a2' }, actor);
    account('a1').mergedInto = 'a2';
    await syncContact(engine, 'c1', 'merge-2');
    expect(await store.findRelationsByContact('c1')).toEqual([]);
    expect((await store.findRelationByAccount('customer', 'a2'))?.contactId).toBe('c2');
    expect(await store.queryAudit({ contactId: 'c1', kind: 'unlink' })).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ reason: 'merged', into: 'a2' }) }),
    ]);
  });

  it('writes nothing to an archived account, which stays linked', async () => {
    contact('c1', { name: 'Archived AB', phone: '1' });
    customer('a1', { name: 'Archived AB', phone: '1' });
    await service.link({ contactId: 'c1', accountKind: 'customer', accountId: 'a1' }, actor);
    account('a1').archived = true;
    crm.edit('contact', 'c1', { phone: '2' });
    const writesBefore = accounting.updates.length;
    await syncContact(engine, 'c1', 'archived-1');
    expect(accounting.updates.length).toBe(writesBefore);
    expect(accounting.value('customer', 'a1', 'phone')).toBe('1');
    expect(await store.findRelationsByContact('c1')).toHaveLength(1);
  });
});

describe('searchRecords', () => {
  // A provider search by name substring, as the kit's connectors answer.
  const byName = (connector: FakeConnector) =>
    Object.assign(connector, {
      search: async (entity: string, text: string, limit: number) =>
        [...connector.records.values()]
          .filter((r) => r.entity === entity && (r.fields.name ?? '').toLowerCase().includes(text.toLowerCase()))
          .slice(0, limit),
    });

  it('finds records on the right system, each with the relations it is in', async () => {
    byName(crm);
    byName(accounting);
    contact('C1', { name: 'Adatum Corporation', email: 'ap@adatum.example', city: 'Oslo' });
    contact('C2', { name: 'Adatum Metals' });
    customer('K1', { name: 'Adatum Corporation', vatRegistrationNo: 'NO123' });
    accounting.put('vendor', 'V1', { name: 'Adatum Corporation' });
    const { relation } = await service.link({ contactId: 'C1', accountKind: 'customer', accountId: 'K1' }, actor);

    const contacts = await service.searchRecords({ entity: 'contact', text: 'adatum' });
    expect(contacts.map((hit) => [hit.id, hit.relations.map((r) => r.id)])).toEqual([
      ['C1', [relation.id]],
      ['C2', []],
    ]);
    expect(contacts[0]).toMatchObject({ entity: 'contact', type: 'company', email: 'ap@adatum.example', city: 'Oslo' });
    const customers = await service.searchRecords({ entity: 'customer', text: 'Adatum', limit: 1 });
    // Linking made the customer like the contact (the contact won).
    expect(customers).toEqual([
      expect.objectContaining({
        id: 'K1',
        number: 'K1',
        email: 'ap@adatum.example',
        vatRegistrationNo: null,
        type: null,
      }),
    ]);
    expect(customers[0]?.relations.map((r) => r.id)).toEqual([relation.id]);
    // A vendor of the same name is another kind: free to link.
    expect(await service.searchRecords({ entity: 'vendor', text: 'adatum' })).toEqual([
      expect.objectContaining({ id: 'V1', relations: [] }),
    ]);
  });

  it('refuses bad input, a side without search, and reports a failing system as upstream', async () => {
    await expect(service.searchRecords({ entity: 'contact', text: 'x' })).rejects.toMatchObject({
      status: 409,
      code: 'NOT_SUPPORTED',
      message: "crm cannot search contacts: give the record's id",
    });
    byName(crm);
    await expect(service.searchRecords({ entity: 'contact', text: '  ' })).rejects.toMatchObject({
      status: 400,
      field: 'text',
    });
    await expect(service.searchRecords({ entity: 'contact', text: 'x', limit: 26 })).rejects.toMatchObject({
      status: 400,
      field: 'limit',
    });
    const served = new FakeConnector({
      name: 'accounting',
      system: 'accounting',
      entities: ['customer'],
      fields: FIELDS,
    });
    byName(served);
    engine = { ...engine, accounting: served };
    service = createRelationService(engine);
    await expect(service.searchRecords({ entity: 'bankAccount', text: 'x' })).rejects.toMatchObject({
      status: 400,
      field: 'entity',
      reason: 'accounting keeps no bank accounts',
    });
    Object.assign(served, {
      search: () => Promise.reject(new Error('503 Service Unavailable')),
    });
    await expect(service.searchRecords({ entity: 'customer', text: 'x' })).rejects.toMatchObject({
      status: 502,
      message: "searching customers for 'x': 503 Service Unavailable",
    });
  });
});
