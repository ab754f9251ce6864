import {
  businessCentralSandboxSeed,
  SEED_IDS,
  startBusinessCentralSandbox,
  type BusinessCentralSandbox,
} from './index';
import { requestLogViolations } from '../../../test/support/business-central/manifest';

const PAYMENT_TERMS = '3bb5b4b6-ea4c-43ca-ba1c-3b69e29a6668';

/** A body as JSON.parse returns it, for the assertions to read. */
type ParsedJson = ReturnType<typeof JSON.parse>;

describe('Business Central sandbox: documents and template values', () => {
  let sandbox: BusinessCentralSandbox;
  let call: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: ParsedJson }>;
  const path = (collection: string) => `companies(${sandbox.companyId})/${collection}`;

  beforeEach(async () => {
    sandbox = await startBusinessCentralSandbox({ seed: businessCentralSandboxSeed() });
    const tokenResponse = await fetch(sandbox.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: sandbox.clientId,
        client_secret: sandbox.clientSecret,
      }),
    });
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    call = async (method, target, body) => {
      const response = await fetch(`${sandbox.url}/${target}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    };
  });
  afterEach(async () => {
    // Every body the sandbox accepted and every record it answered are held to the APIV2 manifest
    // (the tests send bodies BC refuses on purpose).
    const violations = requestLogViolations(sandbox.requests, { acceptedBodiesOnly: true });
    await sandbox.close();
    expect(violations).toEqual([]);
  });

  it('starts sales quotes from a number series, with the customer filled in and the date set', async () => {
    const first = await call('POST', path('salesQuotes'), {
      customerId: SEED_IDS.customers.vanDijk,
      externalDocumentNumber: 'crm-deal-17',
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      number: 'SQ00010',
      customerId: SEED_IDS.customers.vanDijk,
      customerNumber: 'C00010',
      customerName: 'Van Dijk Installatietechniek B.V.',
      // A Code[35] field: BC stores it upper-cased.
      externalDocumentNumber: 'CRM-DEAL-17',
      documentDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      status: 'Draft',
    });
    const second = await call('POST', path('salesQuotes'), { customerNumber: 'C00020' });
    expect(second.body).toMatchObject({ number: 'SQ00020', customerId: SEED_IDS.customers.lindqvist });
    const order = await call('POST', path('salesOrders'), { customerId: SEED_IDS.customers.moreau });
    expect(order.body).toMatchObject({ number: 'SO00010', orderDate: expect.stringMatching(/^\d{4}-/) });
  });

  it('finds a document by externalDocumentNumber and customer', async () => {
    await call('POST', path('salesOrders'), {
      customerId: SEED_IDS.customers.vanDijk,
      externalDocumentNumber: 'TANDEM-00AA',
    });
    await call('POST', path('salesOrders'), {
      customerId: SEED_IDS.customers.moreau,
      externalDocumentNumber: 'TANDEM-00AA',
    });
    const filter = encodeURIComponent(
      `externalDocumentNumber eq 'TANDEM-00AA' and customerId eq ${SEED_IDS.customers.moreau}`,
    );
    const found = await call('GET', `${path('salesOrders')}?$filter=${filter}`);
    expect(found.body.value.map((row: { customerId: string }) => row.customerId)).toEqual([SEED_IDS.customers.moreau]);
  });

  it('refuses a document for an unknown or missing party, and properties BC does not have', async () => {
    const unknown = await call('POST', path('salesQuotes'), { customerId: '00000000-0000-0000-0000-00000000dead' });
    expect(unknown).toEqual({
      status: 400,
      body: { error: { code: 'BadRequest', message: expect.stringContaining('does not exist') } },
    });
    expect((await call('POST', path('salesQuotes'), {})).body.error.message).toMatch(
      /customerNumber" or a "customerId" must be provided/,
    );
    expect(
      (
        await call('POST', path('salesQuotes'), {
          customerId: SEED_IDS.customers.vanDijk,
          externalDocumentNumber: 'X'.repeat(36),
        })
      ).status,
    ).toBe(400);
    // A vendor's id is not a customer's.
    expect((await call('POST', path('salesOrders'), { customerId: SEED_IDS.vendors.brenner })).status).toBe(400);
    const purchase = await call('POST', path('purchaseOrders'), { vendorId: SEED_IDS.vendors.brenner });
    expect(purchase.body).toMatchObject({ number: 'PO00010', vendorNumber: 'V00010' });
    // API v2.0 purchase orders have no externalDocumentNumber.
    expect(
      (await call('POST', path('purchaseOrders'), { vendorId: SEED_IDS.vendors.brenner, externalDocumentNumber: 'X' }))
        .status,
    ).toBe(400);
  });

  it('leaves a document as it was when an update is refused', async () => {
    const quotes = sandbox.collection('salesQuotes');
    const quote = quotes.create({ customerId: SEED_IDS.customers.vanDijk, externalDocumentNumber: 'A-1' });
    const unknownParty = { externalDocumentNumber: 'B-2', customerId: '00000000-0000-0000-0000-00000000dead' };
    expect(() => quotes.update(String(quote.id), unknownParty)).toThrow(/does not exist/);
    expect(quotes.get(String(quote.id))).toEqual(quote);
  });

  it('stores and returns template values, and refuses malformed ones', async () => {
    const created = await call('POST', path('customers'), {
      displayName: 'Hansen Bygg AS',
      paymentTermsId: PAYMENT_TERMS,
      taxLiable: true,
      creditLimit: 2500,
      blocked: 'Invoice',
      currencyCode: 'nok',
    });
    expect(created.status).toBe(201);
    const read = await call('GET', `${path('customers')}(${created.body.id})`);
    expect(read.body).toMatchObject({
      paymentTermsId: PAYMENT_TERMS,
      taxLiable: true,
      creditLimit: 2500,
      blocked: 'Invoice',
      currencyCode: 'NOK',
    });
    expect((await call('POST', path('customers'), { displayName: 'x', paymentTermsId: '30 DAYS' })).status).toBe(400);
    expect((await call('POST', path('customers'), { displayName: 'x', blocked: 'Payment' })).status).toBe(400);
    expect((await call('POST', path('vendors'), { displayName: 'x', blocked: 'Payment' })).status).toBe(201);
    expect((await call('POST', path('customers'), { displayName: 'x', creditLimit: '2500' })).status).toBe(400);
  });
});
