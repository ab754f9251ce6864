/**
 * The business-relation operations of the seed end to end: both sandboxes, real Redis and a real
 * store (PGlite; link and create account also on Postgres). Operations go through the daemon's
 * relation service (and a few through the admin API over HTTP); the assertions read what a user
 * would see in HubSpot, in Business Central and in tandem's store.
 */
import { randomUUID } from 'node:crypto';
import { waitFor } from '../src/util/net';
import type { Actor } from '../src/app/ports/relations';
import {
  HUBSPOT_SECRET,
  HUBSPOT_TOKEN,
  settle,
  startRig,
  toBc,
  toHubSpot,
  type Rig,
  type StoreKind,
} from './support/harness';

const ADMIN = 'relations-admin-token-0123456789';
const actor: Actor = { name: 'admin' };
const PAYMENT_TERMS = '6f2a1c3e-4b5d-4e6f-8a9b-0c1d2e3f4a5b';
const customerTemplates = {
  default: {
    fields: { currencyCode: 'EUR' },
    extra: { paymentTermsId: PAYMENT_TERMS },
    required: ['paymentTermsId'],
    numberPrefix: 'TC',
  },
  export: { required: ['salespersonCode'] },
};

/** Demo fields of a company, unique per name. */
const company = (name: string, overrides: Record<string, string> = {}) => ({
  name,
  address: 'Herengracht 100',
  city: 'Amsterdam',
  postCode: '1015 BS',
  countryCode: 'NL',
  phone: '+31 20 100 0000',
  email: `info@${name.toLowerCase().replace(/[^a-z]/g, '')}.example`,
  ...overrides,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A company in HubSpot and a customer or vendor in BC, not linked. */
function unlinkedPair(
  rig: Rig,
  crmFields: Record<string, string>,
  accountFields: Record<string, string>,
  kind: 'customer' | 'vendor' = 'customer',
) {
  const hubspotCompany = rig.hubspot.createCompany(toHubSpot(crmFields));
  const account =
    kind === 'customer' ? rig.bc.createCustomer(toBc(accountFields)) : rig.bc.createVendor(toBc(accountFields));
  return { contactId: `company-${hubspotCompany.id}`, hubspotId: hubspotCompany.id, accountId: String(account.id) };
}

/** Lets the webhooks the sandboxes still hold arrive and the queues run dry. */
async function quiet(rig: Rig): Promise<void> {
  await rig.hubspot.flushWebhooks();
  await rig.bc.flushNotifications();
  await settle(rig);
}

/** Every company in the HubSpot sandbox, read through its API as a user's integration would. */
async function hubspotCompanies(rig: Rig): Promise<Array<{ id: string; properties: Record<string, string | null> }>> {
  const companies: Array<{ id: string; properties: Record<string, string | null> }> = [];
  let after: string | undefined;
  do {
    const url = new URL(`${rig.hubspot.url}/crm/v3/objects/companies`);
    url.searchParams.set('limit', '100');
    url.searchParams.set('properties', 'name');
    if (after) url.searchParams.set('after', after);
    const response = await fetch(url, { headers: { authorization: `Bearer ${HUBSPOT_TOKEN}` } });
    const page = (await response.json()) as { results: typeof companies; paging?: { next?: { after: string } } };
    companies.push(...page.results);
    after = page.paging?.next?.after;
  } while (after);
  return companies;
}

async function api(
  rig: Rig,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await fetch(new URL(path, rig.daemon.url), {
    method,
    headers: {
      authorization: `Bearer ${ADMIN}`,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('business relations end to end (pglite store)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({
      adminTokens: { admin: [ADMIN], viewer: [] },
      config: (base) => ({
        ...base,
        relationCodes: { customer: 'CUST', vendor: 'VEND', bankAccount: null },
        templates: { customer: customerTemplates },
      }),
    });
  });
  afterAll(async () => {
    await rig.stop();
  });

  describe('link', () => {
    test('the contact wins by default: the customer takes its values, audited, and later CRM changes flow', async () => {
      const crm = company('Contact Wins BV', { phone: '+31 20 111 0001', city: 'Utrecht' });
      const pair = unlinkedPair(rig, crm, { ...crm, phone: '+31 20 999 0001', city: 'Haarlem' });
      await quiet(rig);

      const result = await rig.daemon.service.link(
        { contactId: pair.contactId, accountKind: 'customer', accountId: pair.accountId },
        actor,
      );
      expect(result.relation).toMatchObject({
        contactId: pair.contactId,
        accountKind: 'customer',
        accountId: pair.accountId,
        relationCode: 'CUST',
        origin: 'linked',
      });
      expect(rig.bc.getCustomer(pair.accountId)).toMatchObject({ phoneNumber: '+31 20 111 0001', city: 'Utrecht' });
      expect(rig.hubspot.getCompany(pair.hubspotId)?.properties).toMatchObject({
        phone: '+31 20 111 0001',
        city: 'Utrecht',
      });
      expect(result.changes).toEqual(
        expect.arrayContaining([
          { side: 'account', field: 'phone', from: '+31 20 999 0001', to: '+31 20 111 0001' },
          { side: 'account', field: 'city', from: 'Haarlem', to: 'Utrecht' },
        ]),
      );
      expect(result.changes).toHaveLength(2);

      const audit = await rig.store.queryAudit({ relationId: result.relation.id });
      expect(audit.filter((entry) => entry.kind === 'link')).toEqual([
        expect.objectContaining({
          sourceSystem: 'tandem',
          details: expect.objectContaining({ actor: 'admin', winner: 'contact' }),
        }),
      ]);
      const changes = audit.filter((entry) => entry.kind === 'fieldChange');
      expect(changes.map((entry) => entry.field).sort()).toEqual(['city', 'phone']);
      for (const entry of changes) {
        expect(entry).toMatchObject({
          direction: 'toAccounting',
          details: expect.objectContaining({ reason: 'link', winner: 'contact' }),
        });
        expect(entry.jobId).toBeTruthy();
      }
      expect((await rig.daemon.service.listInteractions(pair.contactId))[0]).toMatchObject({
        type: 'linked',
        source: 'tandem',
        who: 'admin',
        relationId: result.relation.id,
      });

      // The shadow was stored: a later phone change in the CRM reaches the customer.
      await quiet(rig);
      rig.hubspot.updateCompany(pair.hubspotId, { phone: '+31 20 111 0002' });
      await waitFor(() => rig.bc.getCustomer(pair.accountId)?.phoneNumber === '+31 20 111 0002', 10_000);
      await settle(rig);
      expect(rig.bc.getCustomer(pair.accountId)?.city).toBe('Utrecht');
    });

    test("the account wins when asked (through the admin API): the HubSpot company takes the customer's values", async () => {
      const crm = company('Account Wins BV', { phone: '+31 20 222 0001' });
      const pair = unlinkedPair(rig, crm, { ...crm, phone: '+31 20 888 0001', address: 'Damrak 1' });
      await quiet(rig);

      const linked = await api(rig, 'POST', '/api/relations', {
        body: { contactId: pair.contactId, accountKind: 'customer', accountId: pair.accountId, winner: 'account' },
      });
      expect(linked.status).toBe(201);
      expect(linked.body?.changes).toEqual(
        expect.arrayContaining([
          { side: 'contact', field: 'phone', from: '+31 20 222 0001', to: '+31 20 888 0001' },
          { side: 'contact', field: 'address', from: 'Herengracht 100', to: 'Damrak 1' },
        ]),
      );
      expect(rig.hubspot.getCompany(pair.hubspotId)?.properties).toMatchObject({
        phone: '+31 20 888 0001',
        address: 'Damrak 1',
      });
      expect(rig.bc.getCustomer(pair.accountId)).toMatchObject({
        phoneNumber: '+31 20 888 0001',
        addressLine1: 'Damrak 1',
      });
      const changes = await rig.store.queryAudit({ relationId: linked.body?.relation.id, kind: 'fieldChange' });
      expect(changes.map((entry) => entry.direction)).toEqual(['toCrm', 'toCrm']);
    });

    test('a contact linked as customer and as vendor: a CRM change fans out to both', async () => {
      const fields = company('Both Sides GmbH');
      const pair = unlinkedPair(rig, fields, fields, 'customer');
      const vendor = rig.bc.createVendor(toBc(fields));
      await quiet(rig);
      await rig.daemon.service.link(
        { contactId: pair.contactId, accountKind: 'customer', accountId: pair.accountId },
        actor,
      );
      await rig.daemon.service.link(
        { contactId: pair.contactId, accountKind: 'vendor', accountId: String(vendor.id) },
        actor,
      );
      expect(
        (await rig.daemon.service.listRelations({ contactId: pair.contactId }))
          .map((relation) => relation.accountKind)
          .sort(),
      ).toEqual(['customer', 'vendor']);
      await quiet(rig);

      rig.hubspot.updateCompany(pair.hubspotId, { phone: '+49 30 555 0100' });
      await waitFor(
        () =>
          rig.bc.getCustomer(pair.accountId)?.phoneNumber === '+49 30 555 0100' &&
          rig.bc.getVendor(String(vendor.id))?.phoneNumber === '+49 30 555 0100',
        10_000,
      );
    });
  });

  describe('create a customer from a contact', () => {
    test("the customer carries the contact's fields and the template's values, linked; twice and at once give one customer", async () => {
      const fields = company('Created Customer BV', { vatRegistrationNo: 'NL001122334B01' });
      const hubspotCompany = rig.hubspot.createCompany(toHubSpot(fields));
      const contactId = `company-${hubspotCompany.id}`;
      await quiet(rig);
      const before = rig.bc.listCustomers().length;

      const [first, second] = await Promise.all([
        rig.daemon.service.createAccountFromContact({ contactId, accountKind: 'customer' }, actor),
        rig.daemon.service.createAccountFromContact({ contactId, accountKind: 'customer' }, actor),
      ]);
      expect(rig.bc.listCustomers()).toHaveLength(before + 1);
      expect([first.created, second.created].sort()).toEqual([false, true]);
      expect(second.account.id).toBe(first.account.id);
      expect(first.relation).toMatchObject({
        contactId,
        accountKind: 'customer',
        accountId: first.account.id,
        relationCode: 'CUST',
        origin: 'createdFromContact',
      });

      expect(rig.bc.getCustomer(first.account.id)).toMatchObject({
        number: expect.stringMatching(/^TC[0-9A-F]{8}$/),
        displayName: 'Created Customer BV',
        addressLine1: 'Herengracht 100',
        city: 'Amsterdam',
        postalCode: '1015 BS',
        country: 'NL',
        phoneNumber: '+31 20 100 0000',
        email: 'info@createdcustomerbv.example',
        taxRegistrationNumber: 'NL001122334B01',
        currencyCode: 'EUR',
        paymentTermsId: PAYMENT_TERMS,
      });
      expect(await rig.store.findRelationByAccount('customer', first.account.id)).toMatchObject({
        id: first.relation.id,
      });
      expect((await rig.store.queryAudit({ relationId: first.relation.id })).map((entry) => entry.kind)).toEqual([
        'create',
        'link',
      ]);
      expect((await rig.daemon.service.listInteractions(contactId))[0]).toMatchObject({
        type: 'accountCreated',
        relationId: first.relation.id,
      });

      const again = await rig.daemon.service.createAccountFromContact({ contactId, accountKind: 'customer' }, actor);
      expect(again).toMatchObject({ created: false, account: { id: first.account.id } });
      expect(rig.bc.listCustomers()).toHaveLength(before + 1);

      // The link works from here on: a CRM change reaches the new customer.
      await quiet(rig);
      rig.hubspot.updateCompany(hubspotCompany.id, { city: 'Zaandam' });
      await waitFor(() => rig.bc.getCustomer(first.account.id)?.city === 'Zaandam', 10_000);
    });

    test('missing template values are bad input, a kind without relation code is refused; nothing is created', async () => {
      const hubspotCompany = rig.hubspot.createCompany(toHubSpot(company('Incomplete Template BV')));
      const contactId = `company-${hubspotCompany.id}`;
      const customers = rig.bc.listCustomers().length;
      const banks = rig.bc.listBankAccounts().length;
      await expect(
        rig.daemon.service.createAccountFromContact({ contactId, accountKind: 'customer', template: 'export' }, actor),
      ).rejects.toMatchObject({
        name: 'InvalidInputProblem',
        status: 400,
        field: 'values.salespersonCode',
      });
      await expect(
        rig.daemon.service.createAccountFromContact(
          { contactId, accountKind: 'customer', values: { paymentTermsId: '' } },
          actor,
        ),
      ).rejects.toMatchObject({
        name: 'InvalidInputProblem',
        field: 'values.paymentTermsId',
      });
      await expect(
        rig.daemon.service.createAccountFromContact(
          { contactId, accountKind: 'bankAccount', values: { iban: 'NL91ABNA0417164300' } },
          actor,
        ),
      ).rejects.toMatchObject({
        name: 'ConflictProblem',
        status: 409,
        code: 'RELATION_CODE_MISSING',
        message: expect.stringContaining('relationCodes.bankAccount'),
      });
      expect(rig.bc.listCustomers()).toHaveLength(customers);
      expect(rig.bc.listBankAccounts()).toHaveLength(banks);
      expect(await rig.store.findRelationsByContact(contactId)).toEqual([]);
    });
  });

  test("create a company contact from a vendor: the company exists in HubSpot with the vendor's fields, linked, once", async () => {
    const vendor = rig.bc.createVendor(
      toBc(
        company('Vendor Made Contact SA', {
          city: 'Brussels',
          postCode: '1000',
          countryCode: 'BE',
          phone: '+32 2 555 0100',
        }),
      ),
    );
    const vendorId = String(vendor.id);
    await quiet(rig);
    const before = (await hubspotCompanies(rig)).length;

    const first = await rig.daemon.service.createContactFromAccount(
      { accountKind: 'vendor', accountId: vendorId },
      actor,
    );
    expect(first).toMatchObject({
      created: true,
      person: null,
      relation: { accountKind: 'vendor', accountId: vendorId, relationCode: 'VEND', origin: 'createdFromAccount' },
    });
    const hubspotId = first.contact.id.replace(/^company-/, '');
    expect(rig.hubspot.getCompany(hubspotId)?.properties).toMatchObject({
      name: 'Vendor Made Contact SA',
      address: 'Herengracht 100',
      city: 'Brussels',
      zip: '1000',
      country: 'BE',
      phone: '+32 2 555 0100',
      tandem_email: 'info@vendormadecontactsa.example',
    });
    const again = await rig.daemon.service.createContactFromAccount(
      { accountKind: 'vendor', accountId: vendorId },
      actor,
    );
    expect(again).toMatchObject({
      created: false,
      contact: { id: first.contact.id },
      relation: { id: first.relation.id },
    });
    await quiet(rig);
    expect(await hubspotCompanies(rig)).toHaveLength(before + 1);
    expect((await rig.daemon.service.listInteractions(first.contact.id))[0]).toMatchObject({ type: 'contactCreated' });

    // The vendor's later changes reach the new company.
    rig.bc.updateVendor(vendorId, { phoneNumber: '+32 2 555 0199' });
    await waitFor(() => rig.hubspot.getCompany(hubspotId)?.properties.phone === '+32 2 555 0199', 10_000);
  });

  test('unlink (through the admin API): the relation goes, both records stay, later changes no longer flow', async () => {
    const fields = company('Unlinked Later BV');
    const pair = unlinkedPair(rig, fields, fields);
    await quiet(rig);
    const { relation } = await rig.daemon.service.link(
      { contactId: pair.contactId, accountKind: 'customer', accountId: pair.accountId },
      actor,
    );
    await quiet(rig);

    const removed = await api(rig, 'DELETE', `/api/relations/${relation.id}`);
    expect(removed.status).toBe(200);
    expect(await rig.store.getRelation(relation.id)).toBeNull();
    expect(rig.hubspot.getCompany(pair.hubspotId)).toBeDefined();
    expect(rig.bc.getCustomer(pair.accountId)).toBeDefined();
    expect(await rig.store.queryAudit({ relationId: relation.id, kind: 'unlink' })).toEqual([
      expect.objectContaining({ sourceSystem: 'tandem', details: expect.objectContaining({ actor: 'admin' }) }),
    ]);
    expect((await rig.daemon.service.listInteractions(pair.contactId)).map((entry) => entry.type)).toEqual([
      'unlinked',
      'linked',
    ]);

    rig.bc.clearRequestLog();
    rig.hubspot.updateCompany(pair.hubspotId, { phone: '+31 20 777 0000' });
    await quiet(rig);
    expect(rig.bc.getCustomer(pair.accountId)?.phoneNumber).toBe('+31 20 100 0000');
    expect(rig.bc.countRequests({ method: 'PATCH' })).toBe(0);
  });

  test('deleting the HubSpot company removes its relations and keeps the customer; deleting the customer keeps the company', async () => {
    const first = unlinkedPair(rig, company('Company Deleted NV'), company('Company Deleted NV'));
    await quiet(rig);
    const { relation } = await rig.daemon.service.link(
      { contactId: first.contactId, accountKind: 'customer', accountId: first.accountId },
      actor,
    );
    await quiet(rig);
    rig.hubspot.deleteCompany(first.hubspotId);
    await waitFor(async () => (await rig.store.findRelationsByContact(first.contactId)).length === 0, 10_000);
    // The relation goes before the intake job notes its removal among the interactions.
    await quiet(rig);
    expect(rig.bc.getCustomer(first.accountId)).toBeDefined();
    expect(await rig.store.queryAudit({ relationId: relation.id, kind: 'delete' })).toEqual([
      expect.objectContaining({ sourceSystem: 'crm', contactId: first.contactId }),
    ]);
    expect((await rig.daemon.service.listInteractions(first.contactId))[0]).toMatchObject({
      type: 'relationRemoved',
      source: 'tandem',
      relationId: relation.id,
    });

    const second = unlinkedPair(rig, company('Customer Deleted NV'), company('Customer Deleted NV'));
    const vendor = rig.bc.createVendor(toBc(company('Customer Deleted NV')));
    await quiet(rig);
    const linkedCustomer = await rig.daemon.service.link(
      { contactId: second.contactId, accountKind: 'customer', accountId: second.accountId },
      actor,
    );
    await rig.daemon.service.link(
      { contactId: second.contactId, accountKind: 'vendor', accountId: String(vendor.id) },
      actor,
    );
    await quiet(rig);
    rig.bc.deleteCustomer(second.accountId);
    await waitFor(async () => (await rig.store.findRelationsByContact(second.contactId)).length === 1, 10_000);
    await quiet(rig);
    expect((await rig.store.findRelationsByContact(second.contactId))[0]?.accountKind).toBe('vendor');
    expect(rig.hubspot.getCompany(second.hubspotId)).toBeDefined();
    expect(await rig.store.queryAudit({ relationId: linkedCustomer.relation.id, kind: 'delete' })).toEqual([
      expect.objectContaining({ sourceSystem: 'accounting' }),
    ]);
    expect((await rig.daemon.service.listInteractions(second.contactId))[0]).toMatchObject({
      type: 'relationRemoved',
      relationId: linkedCustomer.relation.id,
    });
  });

  test("interactions recorded through the service and the admin API are listed newest first with tandem's own", async () => {
    const fields = company('Interaction Log BV');
    const pair = unlinkedPair(rig, fields, fields);
    await quiet(rig);
    const { relation } = await rig.daemon.service.link(
      { contactId: pair.contactId, accountKind: 'customer', accountId: pair.accountId },
      actor,
    );
    await sleep(5);
    const viaService = await rig.daemon.service.recordInteraction(
      pair.contactId,
      { type: 'emailSent', description: 'Price list sent', relationId: relation.id },
      { name: 'anna' },
    );
    expect(viaService).toMatchObject({ source: 'external', who: 'anna', relationId: relation.id });
    await sleep(5);
    const viaApi = await api(rig, 'POST', `/api/contacts/${pair.contactId}/interactions`, {
      body: { type: 'documentPrinted', description: 'Order confirmation printed', who: 'printer-3' },
    });
    expect(viaApi.status).toBe(201);

    const listed = await api(rig, 'GET', `/api/contacts/${pair.contactId}/interactions`);
    expect(listed.status).toBe(200);
    expect(
      (listed.body as unknown as Array<{ type: string; source: string; who: string }>).map(({ type, source, who }) => ({
        type,
        source,
        who,
      })),
    ).toEqual([
      { type: 'documentPrinted', source: 'external', who: 'printer-3' },
      { type: 'emailSent', source: 'external', who: 'anna' },
      { type: 'linked', source: 'tandem', who: 'admin' },
    ]);
    expect(await rig.daemon.service.listInteractions(pair.contactId)).toEqual(listed.body);
  });

  test('documents: quotes and orders for the customer appear in BC, once per key; purchase documents are refused', async () => {
    const fields = company('Document Buyer BV');
    const pair = unlinkedPair(rig, fields, fields);
    await quiet(rig);
    await expect(
      rig.daemon.service.createDocument(pair.contactId, { type: 'salesQuote' }, actor),
    ).rejects.toMatchObject({ code: 'NO_RELATION' });
    await rig.daemon.service.link(
      { contactId: pair.contactId, accountKind: 'customer', accountId: pair.accountId },
      actor,
    );
    const quotesOf = () =>
      rig.bc
        .collection('salesQuotes')
        .list()
        .filter((document) => document.customerId === pair.accountId);
    const ordersOf = () =>
      rig.bc
        .collection('salesOrders')
        .list()
        .filter((document) => document.customerId === pair.accountId);

    const quote = await rig.daemon.service.createDocument(
      pair.contactId,
      { type: 'salesQuote', idempotencyKey: `quote-${pair.contactId}` },
      actor,
    );
    const retried = await rig.daemon.service.createDocument(
      pair.contactId,
      { type: 'salesQuote', idempotencyKey: `quote-${pair.contactId}` },
      actor,
    );
    expect(retried.document.id).toBe(quote.document.id);
    expect(retried.interaction.id).toBe(quote.interaction.id);
    expect(quotesOf()).toEqual([
      expect.objectContaining({
        id: quote.document.id,
        number: quote.document.number,
        customerName: 'Document Buyer BV',
      }),
    ]);

    const order = await api(rig, 'POST', `/api/contacts/${pair.contactId}/documents`, {
      body: { type: 'salesOrder' },
      headers: { 'idempotency-key': `order-${pair.contactId}` },
    });
    expect(order.status).toBe(201);
    expect(ordersOf()).toEqual([expect.objectContaining({ id: order.body?.document.id })]);

    const documents = (await rig.daemon.service.listInteractions(pair.contactId)).filter(
      (entry) => entry.type === 'documentCreated',
    );
    expect(documents.map((entry) => entry.details?.id)).toEqual([order.body?.document.id, quote.document.id]);
    expect(documents[1]).toMatchObject({
      type: 'documentCreated',
      source: 'tandem',
      details: { type: 'salesQuote', number: quote.document.number },
    });
    const audited = await rig.store.queryAudit({ contactId: pair.contactId, kind: 'create' });
    expect(audited.map((entry) => entry.details?.id)).toEqual([quote.document.id, order.body?.document.id]);

    await expect(
      rig.daemon.service.createDocument(pair.contactId, { type: 'purchaseOrder' }, actor),
    ).rejects.toMatchObject({ name: 'ConflictProblem', code: 'NO_RELATION' });
    const vendor = rig.bc.createVendor(toBc(fields));
    await rig.daemon.service.link(
      { contactId: pair.contactId, accountKind: 'vendor', accountId: String(vendor.id) },
      actor,
    );
    for (const type of ['purchaseQuote', 'purchaseOrder'] as const) {
      await expect(rig.daemon.service.createDocument(pair.contactId, { type }, actor)).rejects.toMatchObject({
        name: 'ConflictProblem',
        code: 'NOT_SUPPORTED',
      });
    }
    expect(
      rig.bc
        .collection('purchaseOrders')
        .list()
        .filter((document) => document.vendorId === String(vendor.id)),
    ).toEqual([]);
  });

  test('relation status: in sync after a sync; a change made while webhooks are off is newer on the contact; a conflict shows', async () => {
    const fields = company('Status Shown BV');
    const pair = unlinkedPair(rig, fields, fields);
    await quiet(rig);
    const { relation } = await rig.daemon.service.link(
      { contactId: pair.contactId, accountKind: 'customer', accountId: pair.accountId },
      actor,
    );
    await quiet(rig);

    const synced = await rig.daemon.service.relationStatus(relation.id);
    expect(synced).toMatchObject({ inSync: true, pendingJobs: [], lastError: null, lastConflicts: [] });
    expect(synced.fields.find((field) => field.contactField === 'phone')).toMatchObject({
      contactValue: '+31 20 100 0000',
      accountValue: '+31 20 100 0000',
      inSync: true,
      newer: null,
    });
    expect(synced.fields.map((field) => field.contactField)).toEqual([
      'name',
      'address',
      'city',
      'postCode',
      'countryCode',
      'phone',
      'email',
      'homePage',
      'vatRegistrationNo',
    ]);

    rig.hubspot.setWebhookTarget(null);
    try {
      rig.hubspot.updateCompany(pair.hubspotId, { phone: '+31 20 100 0042' });
      const stale = await rig.daemon.service.relationStatus(relation.id);
      expect(stale.inSync).toBe(false);
      expect(stale.fields.find((field) => field.contactField === 'phone')).toMatchObject({
        contactValue: '+31 20 100 0042',
        accountValue: '+31 20 100 0000',
        inSync: false,
        newer: 'contact',
      });
      expect(stale.fields.find((field) => field.contactField === 'city')).toMatchObject({ inSync: true, newer: null });

      // Both sides change the city; the customer's change is later and wins.
      rig.hubspot.updateCompany(pair.hubspotId, { city: 'Leiden' });
      await sleep(20);
      rig.bc.updateCustomer(pair.accountId, { city: 'Delft' });
      await rig.bc.flushNotifications();
      await waitFor(() => rig.hubspot.getCompany(pair.hubspotId)?.properties.city === 'Delft', 10_000);
      await settle(rig);
    } finally {
      rig.hubspot.setWebhookTarget({ targetUrl: rig.webhookUrl, clientSecret: HUBSPOT_SECRET, batchDelayMs: 10 });
    }
    const after = await api(rig, 'GET', `/api/relations/${relation.id}/status`);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({
      inSync: true,
      lastConflicts: [expect.objectContaining({ kind: 'conflict', field: 'city', newValue: 'Delft' })],
    });
    expect(rig.bc.getCustomer(pair.accountId)?.phoneNumber).toBe('+31 20 100 0042');
  });

  test('bad inputs: unknown records are 404, a second relation, a taken account and a person are refused', async () => {
    const fields = company('Bad Input BV');
    const pair = unlinkedPair(rig, fields, fields);
    const other = rig.bc.createCustomer(toBc(company('Other Customer BV')));
    const rival = rig.hubspot.createCompany(toHubSpot(company('Rival Company BV')));
    const person = rig.hubspot.createContact({
      firstname: 'Anna',
      lastname: 'de Vries',
      email: 'anna@badinputbv.example',
      associatedcompanyid: pair.hubspotId,
    });
    await quiet(rig);
    const { service } = rig.daemon;

    await expect(
      service.link({ contactId: 'company-987654321', accountKind: 'customer', accountId: pair.accountId }, actor),
    ).rejects.toMatchObject({
      name: 'NotFoundProblem',
      status: 404,
      message: expect.stringContaining('company-987654321'),
    });
    const missingCustomer = randomUUID();
    await expect(
      service.link({ contactId: pair.contactId, accountKind: 'customer', accountId: missingCustomer }, actor),
    ).rejects.toMatchObject({ status: 404, message: expect.stringContaining(missingCustomer) });
    await expect(service.getRelation(randomUUID())).rejects.toMatchObject({ status: 404 });
    await expect(service.relationStatus(randomUUID())).rejects.toMatchObject({ status: 404 });
    await expect(service.unlink(randomUUID(), actor)).rejects.toMatchObject({ status: 404 });
    expect((await api(rig, 'DELETE', `/api/relations/${randomUUID()}`)).status).toBe(404);
    expect(
      (
        await api(rig, 'POST', '/api/relations', {
          body: { contactId: 'company-987654321', accountKind: 'customer', accountId: pair.accountId },
        })
      ).body,
    ).toMatchObject({ error: 'NOT_FOUND' });

    await expect(
      service.link({ contactId: `person-${person.id}`, accountKind: 'customer', accountId: pair.accountId }, actor),
    ).rejects.toMatchObject({
      code: 'PERSON_CONTACT',
      message: expect.stringContaining(pair.contactId),
    });
    await service.link({ contactId: pair.contactId, accountKind: 'customer', accountId: pair.accountId }, actor);
    await expect(
      service.link({ contactId: pair.contactId, accountKind: 'customer', accountId: String(other.id) }, actor),
    ).rejects.toMatchObject({ status: 409, code: 'RELATION_EXISTS' });
    await expect(
      service.link({ contactId: `company-${rival.id}`, accountKind: 'customer', accountId: pair.accountId }, actor),
    ).rejects.toMatchObject({
      status: 409,
      code: 'ACCOUNT_LINKED',
      message: expect.stringContaining(pair.contactId),
    });
    expect(await rig.store.findRelationsByContact(`company-${rival.id}`)).toEqual([]);
    expect(await rig.store.findRelationByAccount('customer', String(other.id))).toBeNull();
  });
});

describe('automatic contacts (pglite store)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ config: (base) => ({ ...base, automaticContacts: { customer: true, vendor: false } }) });
    // The first poll only sets the cursor (it never creates contacts); later polls report changes.
    await rig.daemon.pollNow('accounting');
  });
  afterAll(async () => {
    await rig.stop();
  });

  test('a customer created in BC gets exactly one company in HubSpot, also after a forced poll and a duplicated notification', async () => {
    const before = (await hubspotCompanies(rig)).length;
    const customer = rig.bc.createCustomer(toBc(company('Automatic Customer BV', { phone: '+31 30 123 4567' })));
    const customerId = String(customer.id);
    await waitFor(async () => (await rig.store.findRelationByAccount('customer', customerId)) !== null, 5_000);
    const relation = await rig.store.findRelationByAccount('customer', customerId);
    expect(relation).toMatchObject({ origin: 'automatic', relationCode: 'CUST' });
    const hubspotId = (relation?.contactId ?? '').replace(/^company-/, '');
    expect(rig.hubspot.getCompany(hubspotId)?.properties).toMatchObject({
      name: 'Automatic Customer BV',
      phone: '+31 30 123 4567',
      city: 'Amsterdam',
    });

    await rig.daemon.pollNow('accounting');
    const [subscription] = rig.bc.subscriptions().filter((entry) => String(entry.resource).endsWith('/customers'));
    const item = {
      subscriptionId: subscription?.subscriptionId,
      clientState: subscription?.clientState,
      expirationDateTime: subscription?.expirationDateTime,
      resource: `api/v2.0/companies(${rig.bc.companyId})/customers(${customerId})`,
      changeType: 'created',
      lastModifiedDateTime: customer.lastModifiedDateTime,
    };
    const notify = (body: unknown) =>
      fetch(new URL('/webhooks/accounting', rig.daemon.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const deliveries = [
      await notify({ value: [item] }),
      await notify({ value: [item] }),
      await notify({ value: [{ ...item, changeType: 'updated', lastModifiedDateTime: new Date().toISOString() }] }),
    ];
    expect(deliveries.map((response) => response.status < 300)).toEqual([true, true, true]);
    await quiet(rig);

    expect(await hubspotCompanies(rig)).toHaveLength(before + 1);
    expect(await rig.store.findRelationsByContact(relation?.contactId ?? '')).toHaveLength(1);
    expect(await rig.store.queryAudit({ accountKind: 'customer', accountId: customerId, kind: 'create' })).toHaveLength(
      1,
    );
    expect((await rig.daemon.service.listInteractions(relation?.contactId ?? ''))[0]).toMatchObject({
      type: 'contactCreated',
      who: 'tandem',
    });
  });

  test('a vendor gets no company while automatic contacts for vendors are off', async () => {
    const before = (await hubspotCompanies(rig)).length;
    const vendor = rig.bc.createVendor(toBc(company('Manual Vendor BV')));
    await rig.bc.flushNotifications();
    await rig.daemon.pollNow('accounting');
    await quiet(rig);
    expect(await rig.store.findRelationByAccount('vendor', String(vendor.id))).toBeNull();
    expect(await hubspotCompanies(rig)).toHaveLength(before);
  });
});

describe('matching (pglite store)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig.stop();
  });

  test('pairs by VAT, e-mail and name + post code are proposed and linked; an ambiguous domain goes to review', async () => {
    const vat = unlinkedPair(
      rig,
      company('Vat Match BV', { vatRegistrationNo: 'NL812345678B01', email: 'a@vat-one.example', postCode: '1011 AA' }),
      company('Vat Match Holding', {
        vatRegistrationNo: '812345678B01',
        email: 'b@vat-two.example',
        postCode: '9999 ZZ',
      }),
    );
    const email = unlinkedPair(
      rig,
      company('Mail Match GmbH', { email: 'office@mailmatch.example' }),
      company('Mail Match Deutschland', { email: 'Office@MailMatch.example', postCode: '10115' }),
    );
    const namePost = unlinkedPair(
      rig,
      company('Name Post A/S', { email: 'x@namepost-crm.example', postCode: '0150' }),
      company('Name Post', { email: 'y@namepost-erp.example', postCode: '0150' }),
    );
    const ambiguousOne = rig.hubspot.createCompany(
      toHubSpot(company('Ambi One', { email: 'sales@ambiguous.example', postCode: '1111' })),
    );
    const ambiguousTwo = rig.hubspot.createCompany(
      toHubSpot(company('Ambi Two', { email: 'info@ambiguous.example', postCode: '2222' })),
    );
    const ambiguousAccount = rig.bc.createCustomer(
      toBc(company('Ambiguous Account', { email: 'billing@ambiguous.example', postCode: '3333' })),
    );
    await quiet(rig);

    const proposal = await rig.daemon.service.proposeMatches({ kinds: ['customer'] });
    const brief = (pairs: typeof proposal.pairs) =>
      pairs
        .map(({ contactId, accountId, score, rule }) => ({ contactId, accountId, score, rule }))
        .sort((a, b) => b.score - a.score);
    expect(brief(proposal.pairs)).toEqual([
      { contactId: vat.contactId, accountId: vat.accountId, score: 100, rule: 'vatRegistrationNo' },
      { contactId: email.contactId, accountId: email.accountId, score: 90, rule: 'email' },
      { contactId: namePost.contactId, accountId: namePost.accountId, score: 80, rule: 'namePostCode' },
    ]);
    expect(proposal.pairs.find((pair) => pair.accountId === vat.accountId)).toMatchObject({
      contactName: 'Vat Match BV',
      accountName: 'Vat Match Holding',
      accountKind: 'customer',
    });
    expect(proposal.review).toHaveLength(1);
    expect(proposal.review[0]?.candidates.map((pair) => pair.contactId).sort()).toEqual(
      [`company-${ambiguousOne.id}`, `company-${ambiguousTwo.id}`].sort(),
    );
    expect(
      proposal.review[0]?.candidates.every(
        (pair) => pair.accountId === String(ambiguousAccount.id) && pair.rule === 'emailDomain' && pair.score === 60,
      ),
    ).toBe(true);
    // A proposal links nothing.
    expect(await rig.store.listRelations()).toEqual([]);

    const progress: number[] = [];
    const applied = await rig.daemon.service.applyMatches({ kinds: ['customer'] }, actor, (done) =>
      progress.push(done),
    );
    expect(applied.failed).toEqual([]);
    expect(applied.linked.map((result) => result.relation.contactId).sort()).toEqual(
      [vat.contactId, email.contactId, namePost.contactId].sort(),
    );
    expect(progress).toEqual([1, 2, 3]);
    expect(applied.review).toHaveLength(1);
    expect(await rig.store.findRelationByAccount('customer', String(ambiguousAccount.id))).toBeNull();
    expect(await rig.store.findRelationsByContact(`company-${ambiguousOne.id}`)).toEqual([]);
    expect(await rig.store.findRelationsByContact(`company-${ambiguousTwo.id}`)).toEqual([]);

    // Linking reconciled each pair with the contact winning: the customers carry the CRM names.
    expect(rig.bc.getCustomer(vat.accountId)?.displayName).toBe('Vat Match BV');
    expect(rig.bc.getCustomer(namePost.accountId)?.displayName).toBe('Name Post A/S');
    const again = await rig.daemon.service.proposeMatches({ kinds: ['customer'] });
    expect(again.pairs).toEqual([]);
    expect(again.review).toHaveLength(1);
  });
});

const postgresOnly: StoreKind[] = ['postgres'];
describe.each(postgresOnly)('link and create account (%s store)', (storeKind) => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({
      store: storeKind,
      config: (base) => ({ ...base, templates: { customer: customerTemplates } }),
    });
  });
  afterAll(async () => {
    await rig.stop();
  });

  test('link reconciles and later changes flow; creating a customer twice at once gives one', async () => {
    const crm = company('Postgres Link BV', { phone: '+31 10 100 0001' });
    const pair = unlinkedPair(rig, crm, { ...crm, phone: '+31 10 100 0009' });
    await quiet(rig);
    const linked = await rig.daemon.service.link(
      { contactId: pair.contactId, accountKind: 'customer', accountId: pair.accountId },
      actor,
    );
    expect(rig.bc.getCustomer(pair.accountId)?.phoneNumber).toBe('+31 10 100 0001');
    expect((await rig.store.queryAudit({ relationId: linked.relation.id })).map((entry) => entry.kind)).toEqual([
      'link',
      'fieldChange',
    ]);
    await quiet(rig);
    rig.hubspot.updateCompany(pair.hubspotId, { phone: '+31 10 100 0002' });
    await waitFor(() => rig.bc.getCustomer(pair.accountId)?.phoneNumber === '+31 10 100 0002', 10_000);

    const hubspotCompany = rig.hubspot.createCompany(toHubSpot(company('Postgres Created BV')));
    const contactId = `company-${hubspotCompany.id}`;
    const before = rig.bc.listCustomers().length;
    const results = await Promise.all([
      rig.daemon.service.createAccountFromContact({ contactId, accountKind: 'customer' }, actor),
      rig.daemon.service.createAccountFromContact({ contactId, accountKind: 'customer' }, actor),
    ]);
    expect(rig.bc.listCustomers()).toHaveLength(before + 1);
    expect(results.map((result) => result.created).sort()).toEqual([false, true]);
    expect(rig.bc.getCustomer(results[0].account.id)).toMatchObject({
      displayName: 'Postgres Created BV',
      currencyCode: 'EUR',
      paymentTermsId: PAYMENT_TERMS,
    });
    expect(await rig.store.findRelationByAccount('customer', results[0].account.id)).toMatchObject({
      contactId,
      origin: 'createdFromContact',
    });
  });
});
