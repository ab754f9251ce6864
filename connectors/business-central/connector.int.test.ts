import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Account } from '../../src/core/model';
import { InvalidRequestError, PreconditionFailedError } from '../kit/errors';
import type { ChangedPage, Connector, InboundRequest, WebhookOutcome } from '../kit/types';
import { businessCentral, createBusinessCentralApi, type BusinessCentralSettings } from './connector';
import {
  businessCentralSandboxSeed,
  SEED_IDS,
  startBusinessCentralSandbox,
  type BusinessCentralSandbox,
} from './sandbox';
import { requestLogViolations } from '../../test/support/business-central/manifest';

const CLIENT_STATE = 'sandbox-webhook-secret';

async function collect(pages: AsyncIterable<ChangedPage>): Promise<ChangedPage[]> {
  const result: ChangedPage[] = [];
  for await (const page of pages) result.push(page);
  return result;
}

function settingsFor(sandbox: BusinessCentralSandbox, webhookClientState?: string): BusinessCentralSettings {
  const { url: baseUrl, companyId, tokenUrl, clientId, clientSecret } = sandbox;
  return { baseUrl, companyId, credentials: { tokenUrl, clientId, clientSecret, webhookClientState } };
}

function connectorFor(sandbox: BusinessCentralSandbox): Connector {
  return businessCentral.create(settingsFor(sandbox, CLIENT_STATE), { name: 'accounting', retry: { baseDelayMs: 1 } });
}

describe('business-central connector against the sandbox', () => {
  let sandbox: BusinessCentralSandbox;
  let connector: Connector;

  beforeEach(async () => {
    sandbox = await startBusinessCentralSandbox({
      seed: businessCentralSandboxSeed(),
      pageSize: 2,
      notificationDelayMs: 10,
    });
    connector = connectorFor(sandbox);
  });
  afterEach(async () => {
    // Every body the connector sent and every record the sandbox answered are held to the APIV2 manifest.
    const violations = requestLogViolations(sandbox.requests);
    await sandbox.close();
    expect(violations).toEqual([]);
  });

  it('lists every customer page by page, then only customers changed after the cursor', async () => {
    const first = await collect(connector.listChanged!('customer', null));
    expect(first).toHaveLength(2);
    expect(first.flatMap((page) => page.records.map((record) => record.id)).sort()).toEqual(
      Object.values(SEED_IDS.customers).sort(),
    );
    const cursor = first.at(-1)!.cursor;

    expect((await collect(connector.listChanged!('customer', cursor))).flatMap((page) => page.records)).toEqual([]);
    sandbox.updateCustomer(SEED_IDS.customers.moreau, { phoneNumber: '+33 1 40 00 00 00' });
    const later = (await collect(connector.listChanged!('customer', cursor))).flatMap((page) => page.records);
    expect(later.map((record) => record.id)).toEqual([SEED_IDS.customers.moreau]);
    expect(later[0]!.fields.phone).toBe('+33 1 40 00 00 00');
  });

  it('reads the seeded bank account with its bank fields', async () => {
    const bank = await connector.get('bankAccount', SEED_IDS.bankAccounts.operating);
    expect(bank).toMatchObject({
      entity: 'bankAccount',
      number: 'B00010',
      fields: { name: 'ING Bank Operating Account', iban: 'NL91 INGB 0002 4455 88' },
    });
    expect(await connector.get('bankAccount', '00000000-0000-0000-0000-00000000dead')).toBeNull();
  });

  it('searches customers and bank accounts by name, number, e-mail, VAT no. and IBAN, one property per request', async () => {
    const bakery = sandbox.createCustomer({
      displayName: "Bakkerij 't Korenschoof",
      email: 'info@korenschoof.example',
      taxRegistrationNumber: 'NL812345678B01',
    });
    sandbox.createCustomer({ displayName: 'Korenschoof Metals' });
    sandbox.resetRequests();
    const found = await connector.search!('customer', 'korenschoof bakkerij', 10);
    expect(found.map((record) => record.id)).toEqual([bakery.id]);
    // One request per property, each a contains() of the longest word.
    const filters = sandbox.requests
      .filter((request) => request.path !== 'token')
      .map((request) => new URLSearchParams(request.query).get('$filter'));
    expect(filters.sort()).toEqual([
      "contains(displayName,'korenschoof')",
      "contains(email,'korenschoof')",
      "contains(number,'korenschoof')",
      "contains(taxRegistrationNumber,'korenschoof')",
    ]);
    // A quote is doubled, not a way out of the literal.
    expect((await connector.search!('customer', "'t Korenschoof", 10)).map((record) => record.id)).toEqual([bakery.id]);
    expect(await connector.search!('customer', "x') or (number ne '", 10)).toEqual([]);
    expect((await connector.search!('customer', 'NL812345678B01', 10))[0]?.id).toBe(bakery.id);
    const id = String(bakery.id);
    expect((await connector.search!('customer', id, 10)).map((record) => record.id)).toEqual([id]);
    const bank = await connector.search!('bankAccount', 'NL91 INGB', 10);
    expect(bank.map((record) => record.id)).toEqual([SEED_IDS.bankAccounts.operating]);
  });

  it('creates and updates a vendor with etags, and refuses a stale etag', async () => {
    const created = (await connector.create!(
      'vendor',
      { name: 'Nordlicht Logistik GmbH', city: 'Hamburg', email: null },
      { idempotencyKey: 'k1' },
    )) as Account;
    expect(created.number).toBe('V00030');
    expect(sandbox.getVendor(created.id)).toMatchObject({
      displayName: 'Nordlicht Logistik GmbH',
      city: 'Hamburg',
      email: '',
    });

    const updated = await connector.update!('vendor', {
      id: created.id,
      fields: { phone: '+49 40 123 456' },
      ifMatch: created.version,
    });
    expect(updated.version).not.toBe(created.version);
    expect(sandbox.getVendor(created.id)).toMatchObject({ phoneNumber: '+49 40 123 456' });

    await expect(
      connector.update!('vendor', { id: created.id, fields: { phone: '+49 40 999' }, ifMatch: created.version }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(sandbox.getVendor(created.id)).toMatchObject({ phoneNumber: '+49 40 123 456' });
  });

  it('returns the existing record when a create with a chosen number is repeated', async () => {
    const first = await connector.create!(
      'customer',
      { name: 'Kowalski Sp. z o.o.' },
      { idempotencyKey: 'k2', extra: { number: 'C90000' } },
    );
    const second = await connector.create!(
      'customer',
      { name: 'Kowalski Sp. z o.o.' },
      { idempotencyKey: 'k2', extra: { number: 'C90000' } },
    );
    expect(second.id).toBe(first.id);
    expect(sandbox.listCustomers().filter((customer) => customer.number === 'C90000')).toHaveLength(1);
  });

  it('creates a customer with template values, which BC stores', async () => {
    const paymentTermsId = '3bb5b4b6-ea4c-43ca-ba1c-3b69e29a6668';
    const created = await connector.create!(
      'customer',
      { name: 'Hansen Bygg AS', countryCode: 'NO' },
      {
        idempotencyKey: 'k3',
        extra: { paymentTermsId, taxLiable: 'false', creditLimit: '2500', blocked: 'Invoice', currencyCode: 'NOK' },
      },
    );
    expect(sandbox.getCustomer(created.id)).toMatchObject({
      displayName: 'Hansen Bygg AS',
      country: 'NO',
      paymentTermsId,
      taxLiable: false,
      creditLimit: 2500,
      blocked: 'Invoice',
      currencyCode: 'NOK',
    });
    await expect(
      connector.create!('customer', { name: 'x' }, { idempotencyKey: 'k4', extra: { paymentTerms: '14 DAYS' } }),
    ).rejects.toThrow(/'paymentTerms'/);
  });

  it('clears a reference property as BC keeps it unset, the empty GUID', async () => {
    const terms = '3bb5b4b6-ea4c-43ca-ba1c-3b69e29a6668';
    const id = String(sandbox.createCustomer({ displayName: 'Hansen Bygg AS', paymentTermsId: terms }).id);
    await connector.update!('customer', { id, fields: { 'custom.paymentTermsId': null } });
    expect(sandbox.getCustomer(id)).toMatchObject({ paymentTermsId: '00000000-0000-0000-0000-000000000000' });
  });

  it('starts a sales quote once per idempotency key, and refuses an unknown customer', async () => {
    const input = {
      accountId: SEED_IDS.customers.lindqvist,
      idempotencyKey: 'relation-7:salesQuote:1',
      externalReference: 'Deal 4711',
    };
    const first = await connector.createDocument!('salesQuote', input);
    expect(first).toEqual({
      type: 'salesQuote',
      id: expect.any(String),
      number: 'SQ00010',
      accountId: SEED_IDS.customers.lindqvist,
      date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      status: 'Draft',
    });
    const again = await connector.createDocument!('salesQuote', input);
    expect(again).toEqual(first);
    expect(sandbox.countRequests({ method: 'POST', path: 'salesQuotes' })).toBe(1);
    const stored = sandbox.collection('salesQuotes').get(first.id);
    expect(stored?.externalDocumentNumber).toMatch(/^DEAL 4711-[0-9A-F]{16}$/);

    const order = await connector.createDocument!('salesOrder', {
      accountId: SEED_IDS.customers.lindqvist,
      idempotencyKey: 'relation-7:salesOrder:1',
    });
    expect(order).toMatchObject({ type: 'salesOrder', number: 'SO00010' });
    await expect(
      connector.createDocument!('salesQuote', {
        accountId: '00000000-0000-0000-0000-00000000dead',
        idempotencyKey: 'k',
      }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      connector.createDocument!('purchaseOrder', { accountId: SEED_IDS.vendors.brenner, idempotencyKey: 'k' }),
    ).rejects.toBeInstanceOf(InvalidRequestError);
    expect(sandbox.collection('purchaseOrders').list()).toEqual([]);
  });

  it('leaves contactPerson unset: API v2.0 does not expose an account’s primary contact', async () => {
    const read = (await connector.get('customer', SEED_IDS.customers.vanDijk)) as Account;
    const batch = (await connector.batchGet!('vendor', [SEED_IDS.vendors.brenner])) as Account[];
    const listed = (await collect(connector.listChanged!('customer', null))).flatMap(
      (page) => page.records,
    ) as Account[];
    for (const account of [read, ...batch, ...listed]) expect(account.contactPerson).toBeUndefined();
  });

  it('updates a batch and reports a stale item on its own', async () => {
    const [vanDijk, lindqvist] = (await connector.batchGet!('customer', [
      SEED_IDS.customers.vanDijk,
      SEED_IDS.customers.lindqvist,
    ])) as Account[];
    sandbox.updateCustomer(SEED_IDS.customers.lindqvist, { city: 'Göteborg' });
    const batchesBefore = sandbox.countRequests({ method: 'POST', path: '$batch' });
    const results = await connector.batchUpdate!('customer', [
      { id: vanDijk!.id, fields: { city: 'Utrecht' }, ifMatch: vanDijk!.version },
      { id: lindqvist!.id, fields: { city: 'Malmö' }, ifMatch: lindqvist!.version },
      { id: SEED_IDS.customers.moreau, fields: { city: 'Lyon' } },
    ]);
    expect(results.map((result) => result.ok)).toEqual([true, false, true]);
    const stale = results[1];
    expect(stale && !stale.ok && stale.error).toBeInstanceOf(PreconditionFailedError);
    expect(sandbox.getCustomer(SEED_IDS.customers.vanDijk)).toMatchObject({ city: 'Utrecht' });
    expect(sandbox.getCustomer(SEED_IDS.customers.lindqvist)).toMatchObject({ city: 'Göteborg' });
    expect(sandbox.getCustomer(SEED_IDS.customers.moreau)).toMatchObject({ city: 'Lyon' });
    expect(sandbox.countRequests({ method: 'POST', path: '$batch' }) - batchesBefore).toBe(1);
  });

  it('survives injected 429 and 5xx answers', async () => {
    sandbox.injectFailures({ next429: 1, next5xx: 2, retryAfterSeconds: 0 });
    const vendor = await connector.get('vendor', SEED_IDS.vendors.brenner);
    expect(vendor?.fields.name).toBe('Brenner Werkzeugbau GmbH');
    expect(sandbox.requests.filter((entry) => entry.path !== 'token').map((entry) => entry.status)).toEqual([
      429, 503, 503, 200,
    ]);
  });

  it('fetches a new token after the sandbox rejects the old one', async () => {
    await connector.get('vendor', SEED_IDS.vendors.brenner);
    sandbox.revokeTokens();
    await connector.get('vendor', SEED_IDS.vendors.castellano);
    expect(sandbox.countRequests({ path: 'token' })).toBe(2);
  });

  it('reads contacts with a person linked to its company', async () => {
    const api = createBusinessCentralApi(settingsFor(sandbox), { name: 'bc-contacts', retry: { baseDelayMs: 1 } });
    const company = await api.create('contact', { name: 'Fjord Design AS', city: 'Oslo' }, { contactType: 'company' });
    const person = sandbox.createContact({
      type: 'Person',
      displayName: 'Ingrid Haugen',
      companyNumber: sandbox.getContact(company.id)!.number,
      mobilePhoneNumber: '+47 912 34 567',
    });
    const read = await api.get('contact', String(person.id));
    expect(read).toMatchObject({
      entity: 'contact',
      type: 'person',
      companyId: company.id,
      fields: { name: 'Ingrid Haugen', mobile: '+47 912 34 567' },
    });
    expect(await api.get('contact', company.id)).toMatchObject({ type: 'company', companyId: null });
    await expect(connector.get('contact', company.id)).rejects.toThrow(/not served/);
  });

  describe('webhooks', () => {
    let receiver: Server;
    let received: WebhookOutcome[];
    let notificationUrl: string;

    beforeEach(async () => {
      received = [];
      receiver = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const inbound: InboundRequest = {
            method: request.method ?? 'POST',
            url: `${notificationUrl}${(request.url ?? '/').replace(/^\/hook/, '')}`,
            headers: request.headers,
            rawBody: Buffer.concat(chunks),
          };
          const outcome = connector.webhook!.handle(inbound, new Date());
          received.push(outcome);
          if (outcome.kind === 'respond')
            response.writeHead(outcome.status, { 'content-type': outcome.contentType }).end(outcome.body);
          else response.writeHead(outcome.kind === 'rejected' ? outcome.status : 202).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      notificationUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    });
    afterEach(async () => {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    });

    it('subscribes with the handshake and turns notifications into notices', async () => {
      const { renewAt } = await connector.ensureSubscriptions!(notificationUrl);
      expect(received.filter((outcome) => outcome.kind === 'respond')).toHaveLength(2);
      expect(sandbox.subscriptions().map((subscription) => subscription.resource)).toEqual([
        `/api/v2.0/companies(${sandbox.companyId})/customers`,
        `/api/v2.0/companies(${sandbox.companyId})/vendors`,
      ]);
      expect(Date.parse(renewAt!) - Date.now()).toBeGreaterThan(47 * 3600_000);

      // A second call finds both subscriptions fresh and changes nothing.
      sandbox.clearRequestLog();
      await connector.ensureSubscriptions!(notificationUrl);
      expect(sandbox.countRequests({ method: 'POST', path: 'subscriptions' })).toBe(0);

      sandbox.updateCustomer(SEED_IDS.customers.vanDijk, { city: 'Rotterdam' });
      sandbox.deleteVendor(SEED_IDS.vendors.castellano);
      await sandbox.flushNotifications();
      const notices = received.flatMap((outcome) => (outcome.kind === 'notices' ? outcome.notices : []));
      expect(notices).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ entity: 'customer', id: SEED_IDS.customers.vanDijk, deleted: false }),
          expect.objectContaining({ entity: 'vendor', id: SEED_IDS.vendors.castellano, deleted: true }),
        ]),
      );
      expect(sandbox.deliveries.every((delivery) => delivery.status === 202)).toBe(true);
    });

    it('refuses a subscription when the endpoint fails the handshake', async () => {
      const other = connectorFor(sandbox);
      await expect(other.ensureSubscriptions!('http://127.0.0.1:9/nowhere')).rejects.toThrow(/not validated/);
      expect(sandbox.subscriptions()).toEqual([]);
    });

    it('sends a collection notification when many records change at once', async () => {
      await sandbox.close();
      sandbox = await startBusinessCentralSandbox({
        seed: businessCentralSandboxSeed(),
        notificationDelayMs: 10,
        collectionThreshold: 2,
      });
      connector = connectorFor(sandbox);
      await connector.ensureSubscriptions!(notificationUrl);
      for (const id of Object.values(SEED_IDS.customers)) sandbox.updateCustomer(id, { salespersonCode: 'JR' });
      await sandbox.flushNotifications();
      const polled = received.filter((outcome) => outcome.kind === 'notices');
      expect(polled).toEqual([{ kind: 'notices', notices: [], pollEntities: ['customer'] }]);
    });

    it('delivers on its own after the delay', async () => {
      await connector.ensureSubscriptions!(notificationUrl);
      sandbox.createCustomer({ displayName: 'Ferreira & Filhos Lda', city: 'Porto' });
      await new Promise((resolve) => setTimeout(resolve, 150));
      const notices = received.flatMap((outcome) => (outcome.kind === 'notices' ? outcome.notices : []));
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({ entity: 'customer', deleted: false });
    });
  });
});
