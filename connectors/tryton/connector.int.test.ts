/** The Tryton connector against a real trytond 6.0 (see test/support/tryton/trytond.ts). */
import { DESCRIBE_TTL_MS } from '../kit/define';
import { AuthFailedError, InvalidRequestError, NotFoundError, PreconditionFailedError } from '../kit/errors';
import type { ChangedPage, Connector } from '../kit/types';
import type { SyncRecord } from '../../src/core/model';
import { tryton } from './connector';
import { startTrytond, trytonSettings, type TrytondInstance } from '../../test/support/tryton/trytond';
import { unsupportedCustomFields } from '../../src/app/check-mappings';
import { configSchema } from '../../src/config/schema';

let trytond: TrytondInstance;
let connector: Connector;
let numbers = 0;

beforeAll(async () => {
  trytond = await startTrytond();
  connector = tryton.create(trytonSettings(trytond), { name: 'accounting', retry: { baseDelayMs: 1 } });
}, 240_000);
afterAll(async () => {
  await connector?.close?.();
  await trytond?.stop();
});

const nextNumber = () => `TT${Date.now().toString(36)}${++numbers}`;

async function poll(
  entity: 'customer' | 'vendor' | 'bankAccount',
  cursor: string | null,
): Promise<{ records: SyncRecord[]; cursor: string | null }> {
  const pages: ChangedPage[] = [];
  for await (const page of connector.listChanged!(entity, cursor)) pages.push(page);
  return { records: pages.flatMap((page) => page.records), cursor: pages.at(-1)?.cursor ?? cursor };
}

async function categoryId(name: string): Promise<number> {
  const rows = (await trytond.user.model('party.category', 'search', [[['name', '=', name]], 0, 1, null])) as number[];
  return rows[0]!;
}

/** Changes the first contact mechanism of a type on its own record, as Tryton's contact mechanism list does. */
async function setMechanismOutOfBand(partyId: string, type: string, value: string): Promise<void> {
  const [id] = (await trytond.user.model('party.contact_mechanism', 'search', [
    [
      ['party', '=', Number(partyId)],
      ['type', '=', type],
    ],
    0,
    1,
    null,
  ])) as number[];
  await trytond.user.model('party.contact_mechanism', 'write', [[id], { value }]);
}

describe('customers', () => {
  it('creates a customer with every party field, once per code', async () => {
    const number = nextNumber();
    const fields = {
      name: 'Adatum Corporation',
      address: 'Hauptstraße 1',
      address2: 'Building B',
      postCode: '80331',
      city: 'München',
      countryCode: 'DE',
      county: 'Bayern',
      phone: '+49 89 1234567',
      fax: '+49 89 1234568',
      email: 'info@adatum.example',
      homePage: 'https://adatum.example',
      vatRegistrationNo: 'DE136695976',
      languageCode: 'de',
    };
    const created = await connector.create!('customer', fields, { idempotencyKey: 'k1', extra: { number } });
    expect(created).toMatchObject({ entity: 'customer', number, fields });
    expect(created.version).toBe(created.modifiedAt);
    const again = await connector.create!('customer', fields, { idempotencyKey: 'k1', extra: { number } });
    expect(again.id).toBe(created.id);
    const parties = (await trytond.user.model('party.party', 'search', [
      [['code', '=', number]],
      0,
      null,
      null,
    ])) as number[];
    expect(parties).toHaveLength(1);
    const [party] = (await trytond.user.model('party.party', 'read', [[Number(created.id)], ['categories']])) as Array<{
      categories: number[];
    }>;
    expect(party!.categories).toEqual([await categoryId('Customer')]);
  });

  it('updates name, phone, e-mail, address and VAT, and clears a field', async () => {
    const created = await connector.create!(
      'customer',
      { name: 'Fabrikam', phone: '111', email: 'a@fabrikam.example' },
      { idempotencyKey: 'k2', extra: { number: nextNumber() } },
    );
    const updated = await connector.update!('customer', {
      id: created.id,
      ifMatch: created.version,
      fields: {
        name: 'Fabrikam Inc.',
        phone: '222',
        email: null,
        address: 'Rue 5',
        city: 'Paris',
        postCode: '75001',
        countryCode: 'FR',
        vatRegistrationNo: 'FR40303265045',
      },
    });
    expect(updated.fields).toMatchObject({
      name: 'Fabrikam Inc.',
      phone: '222',
      email: null,
      address: 'Rue 5',
      city: 'Paris',
      postCode: '75001',
      countryCode: 'FR',
      vatRegistrationNo: 'FR40303265045',
    });
    expect(Date.parse(updated.modifiedAt)).toBeGreaterThanOrEqual(Date.parse(created.modifiedAt));
    expect((await connector.get('customer', created.id))!.fields).toEqual(updated.fields);
    const mechanisms = (await trytond.user.model('party.contact_mechanism', 'search_read', [
      [['party', '=', Number(created.id)]],
      0,
      null,
      null,
      ['type', 'value'],
    ])) as Array<{ type: string; value: string }>;
    expect(mechanisms.map(({ type, value }) => ({ type, value }))).toEqual([{ type: 'phone', value: '222' }]);
  });

  it('refuses a stale ifMatch and keeps the value the user wrote', async () => {
    const created = await connector.create!(
      'customer',
      { name: 'Contoso', phone: '100' },
      { idempotencyKey: 'k3', extra: { number: nextNumber() } },
    );
    await setMechanismOutOfBand(created.id, 'phone', '200');
    await expect(
      connector.update!('customer', { id: created.id, ifMatch: created.version, fields: { phone: '300' } }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    expect((await connector.get('customer', created.id))!.fields.phone).toBe('200');
  });

  it('lists only later changes after a cursor, a phone changed on its contact mechanism included', async () => {
    const first = await connector.create!(
      'customer',
      { name: 'Cursor One', phone: '1' },
      { idempotencyKey: 'k4', extra: { number: nextNumber() } },
    );
    const start = await poll('customer', null);
    expect(start.records.map((record) => record.id)).toContain(first.id);
    expect((await poll('customer', start.cursor)).records).toEqual([]);

    await setMechanismOutOfBand(first.id, 'phone', '+1 555 0100');
    const second = await connector.create!(
      'customer',
      { name: 'Cursor Two' },
      { idempotencyKey: 'k5', extra: { number: nextNumber() } },
    );
    const later = await poll('customer', start.cursor);
    expect(later.records.map((record) => [record.id, record.fields.phone ?? null])).toEqual([
      [first.id, '+1 555 0100'],
      [second.id, null],
    ]);
    expect((await poll('customer', later.cursor)).records).toEqual([]);
  });

  it('writes a batch in one call, failing only the stale and the missing record', async () => {
    const create = (name: string) =>
      connector.create!('customer', { name }, { idempotencyKey: name, extra: { number: nextNumber() } });
    const [first, second, stale] = [await create('Batch One'), await create('Batch Two'), await create('Batch Stale')];
    await trytond.user.model('party.party', 'write', [[Number(stale.id)], { name: 'Batch Stale, edited' }]);
    let requests = 0;
    const counted = tryton.create(trytonSettings(trytond), { name: 'accounting', observe: () => (requests += 1) });
    await counted.get('customer', first.id);
    requests = 0;
    const results = await counted.batchUpdate!('customer', [
      { id: first.id, ifMatch: first.version, fields: { name: 'Batch One, written', phone: '+1 555 0101' } },
      { id: stale.id, ifMatch: stale.version, fields: { name: 'Batch Stale, overwritten' } },
      { id: '999999', fields: { name: 'Nobody' } },
      { id: second.id, fields: { email: 'two@batch.example' } },
    ]);
    expect(results.map((result) => [result.id, result.ok])).toEqual([
      [first.id, true],
      [stale.id, false],
      ['999999', false],
      [second.id, true],
    ]);
    // The parties read, one write of both, and the written parties read back.
    expect(requests).toBe(3);
    await counted.close!();
    expect(results.map((result) => (result.ok ? result.record.fields : result.error.constructor))).toEqual([
      expect.objectContaining({ name: 'Batch One, written', phone: '+1 555 0101' }),
      PreconditionFailedError,
      NotFoundError,
      expect.objectContaining({ name: 'Batch Two', email: 'two@batch.example' }),
    ]);
    expect((await connector.get('customer', stale.id))!.fields.name).toBe('Batch Stale, edited');
  });

  it('serves vendors by the Supplier category, apart from customers', async () => {
    const vendor = await connector.create!(
      'vendor',
      { name: 'Northwind Supplies' },
      { idempotencyKey: 'k6', extra: { number: nextNumber() } },
    );
    expect(await connector.get('customer', vendor.id)).toBeNull();
    expect((await connector.get('vendor', vendor.id))!.fields.name).toBe('Northwind Supplies');
  });
});

describe('bank accounts', () => {
  it('creates a bank account with an IBAN for an owner, once per IBAN, and updates it', async () => {
    const iban = 'DE89370400440532013000';
    const created = await connector.create!(
      'bankAccount',
      { name: 'Adatum Bank Account Owner', iban, currencyCode: 'EUR' },
      { idempotencyKey: 'b1' },
    );
    expect(created).toMatchObject({
      entity: 'bankAccount',
      fields: { name: 'Adatum Bank Account Owner', iban, currencyCode: 'EUR', swiftCode: 'TANDDEFFXXX' },
    });
    const again = await connector.create!(
      'bankAccount',
      { name: 'Adatum Bank Account Owner', iban: 'DE89 3704 0044 0532 0130 00' },
      { idempotencyKey: 'b1' },
    );
    expect(again.id).toBe(created.id);
    const updated = await connector.update!('bankAccount', {
      id: created.id,
      ifMatch: created.version,
      fields: { bankAccountNo: '0532013000', currencyCode: 'USD' },
    });
    expect(updated.fields).toMatchObject({ iban, bankAccountNo: '0532013000', currencyCode: 'USD' });
    expect((await connector.get('bankAccount', created.id))!.fields).toEqual(updated.fields);
    const listed = await poll('bankAccount', null);
    expect(listed.records.map((record) => record.id)).toContain(created.id);
  });
});

describe('search', () => {
  const customer = (name: string, fields: Record<string, string> = {}, number = nextNumber()) =>
    connector.create!('customer', { name, ...fields }, { idempotencyKey: name, extra: { number } });
  const ids = async (entity: 'customer' | 'vendor' | 'bankAccount', text: string, shown = 10) =>
    (await connector.search!(entity, text, shown)).map((record) => record.id);

  it('finds parties of the kind by name, code, e-mail and VAT no., with %, _ and \\ meaning themselves', async () => {
    // Older parties a wildcard would match: they would fill the kit's four per result shown.
    for (let index = 0; index < 4; index++) {
      await customer(`Search 1000 Ltd ${index}`);
      await customer(`Search UnderXscore GmbH ${index}`);
      await customer(`Search Backslash AG ${index}`);
    }
    const percent = await customer('Search 100% Ltd');
    const underscore = await customer('Search Under_score GmbH');
    const backslash = await customer('Search Back\\slash AG');
    const quoted = await customer('Search "Quoted" O\'Brien', { email: 'billing@quoted.example' });
    const code = nextNumber();
    const taxed = await customer('Search Taxed BV', { vatRegistrationNo: 'NL004495445B01' }, code);
    const vendor = await connector.create!(
      'vendor',
      { name: 'Search 100% Supplies' },
      { idempotencyKey: 'search-vendor', extra: { number: nextNumber() } },
    );

    expect(await ids('customer', '100%', 1)).toEqual([percent.id]);
    expect(await ids('vendor', '100%', 1)).toEqual([vendor.id]);
    expect(await ids('customer', 'under_score', 1)).toEqual([underscore.id]);
    expect(await ids('customer', 'back\\slash', 1)).toEqual([backslash.id]);
    expect(await ids('customer', '"quoted" o\'brien')).toEqual([quoted.id]);
    expect(await ids('customer', 'billing@quoted')).toEqual([quoted.id]);
    // Every word, in any order and field; a VAT no. typed in groups.
    expect(await ids('customer', 'brien billing')).toEqual([quoted.id]);
    expect(await ids('customer', 'NL 0044.95.445 B01')).toEqual([taxed.id]);
    expect(await ids('customer', code)).toEqual([taxed.id]);
    expect(await ids('customer', 'search nobody')).toEqual([]);
  });

  it('caps the results at the limit', async () => {
    for (let index = 0; index < 6; index++) await customer(`Limited Party ${index}`);
    expect(await ids('customer', 'limited party', 1)).toHaveLength(1);
    expect(await ids('customer', 'limited party')).toHaveLength(6);
  });

  it('finds bank accounts by IBAN, typed in groups or not, and by owner name', async () => {
    const account = await connector.create!(
      'bankAccount',
      { name: 'Search Owner 50%', iban: 'NL91ABNA0417164300' },
      { idempotencyKey: 'search-bank' },
    );
    expect(await ids('bankAccount', 'NL91 ABNA 0417 1643 00')).toEqual([account.id]);
    expect(await ids('bankAccount', 'nl91abna0417164300')).toEqual([account.id]);
    expect(await ids('bankAccount', 'owner 50%')).toEqual([account.id]);
    expect(await ids('bankAccount', '%')).toEqual([account.id]);
  });
});

describe('documents', () => {
  it('starts a sales quote (quotation), a sales order (draft) and a purchase order, once per key', async () => {
    const customer = await connector.create!(
      'customer',
      { name: 'Quote Customer', address: 'Street 1', city: 'Berlin', countryCode: 'DE' },
      { idempotencyKey: 'd1', extra: { number: nextNumber() } },
    );
    const vendor = await connector.create!(
      'vendor',
      { name: 'Order Vendor', address: 'Street 2', city: 'Hamburg', countryCode: 'DE' },
      { idempotencyKey: 'd2', extra: { number: nextNumber() } },
    );
    const quote = await connector.createDocument!('salesQuote', { accountId: customer.id, idempotencyKey: 'q1' });
    expect(quote).toMatchObject({
      type: 'salesQuote',
      accountId: customer.id,
      status: 'quotation',
      number: expect.any(String),
    });
    expect((await connector.createDocument!('salesQuote', { accountId: customer.id, idempotencyKey: 'q1' })).id).toBe(
      quote.id,
    );
    const order = await connector.createDocument!('salesOrder', {
      accountId: customer.id,
      idempotencyKey: 'o1',
      externalReference: 'PO 4711',
    });
    expect(order).toMatchObject({ type: 'salesOrder', status: 'draft' });
    const purchase = await connector.createDocument!('purchaseOrder', { accountId: vendor.id, idempotencyKey: 'p1' });
    expect(purchase).toMatchObject({ type: 'purchaseOrder', accountId: vendor.id, status: 'draft' });
    const purchaseQuote = await connector.createDocument!('purchaseQuote', {
      accountId: vendor.id,
      idempotencyKey: 'p2',
    });
    expect(purchaseQuote).toMatchObject({ status: 'quotation' });
    const [sale] = (await trytond.user.model('sale.sale', 'read', [
      [Number(order.id)],
      ['reference', 'party'],
    ])) as Array<{ reference: string; party: number }>;
    expect(sale).toMatchObject({
      reference: expect.stringMatching(/^PO 4711-[0-9A-F]{16}$/),
      party: Number(customer.id),
    });
  });
});

describe('fields and custom fields', () => {
  /** A connector whose mappings name `custom` for customers. */
  const mapping = (custom: string[]) =>
    tryton.create(trytonSettings(trytond), {
      name: 'accounting',
      retry: { baseDelayMs: 1 },
      customFields: (entity) => (entity === 'customer' ? custom : []),
    });
  const customerCode = async (id: string) =>
    (
      (await trytond.user.model('party.party', 'read', [[Number(id)], ['customer_code']])) as Array<{
        customer_code: string | null;
      }>
    )[0]!.customer_code;

  it("describes parties from fields_get: canonical fields with Tryton's labels, other scalar fields as custom", async () => {
    const described = await connector.describeFields!('customer');
    const named = (name: string) => described.find((field) => field.name === name);
    expect(named('name')).toEqual({ name: 'name', label: 'Name', type: 'text', writable: true, custom: false });
    expect(named('postCode')).toMatchObject({ label: 'Postal Code', writable: true, custom: false });
    // The purchase module's code the party gives the company (a per-company value with a setter).
    expect(named('custom.customer_code')).toEqual({
      name: 'custom.customer_code',
      label: 'Customer Code',
      type: 'text',
      writable: true,
      custom: true,
    });
    // The account module's balance: a Function field without setter.
    expect(named('custom.receivable')).toMatchObject({ type: 'number', writable: false, custom: true });
    expect(named('custom.code')).toMatchObject({ writable: false });
    for (const name of ['addresses', 'lang', 'customer_payment_term', 'active', 'create_date', 'phone'])
      expect(named(`custom.${name}`)).toBeUndefined();
    expect(connector.customFields).toEqual(['customer', 'vendor', 'bankAccount']);
    const bankFields = await connector.describeFields!('bankAccount');
    expect(bankFields.find((field) => field.name === 'currencyCode')).toMatchObject({ label: 'Currency' });
    expect(bankFields.filter((field) => field.custom)).toEqual([]);
  });

  it('keeps the description: a second describe within the TTL makes no call, one after it reads again', async () => {
    let now = Date.now();
    let requests = 0;
    const timed = tryton.create(trytonSettings(trytond), {
      name: 'accounting',
      observe: () => (requests += 1),
      now: () => now,
    });
    await timed.describeFields!('customer');
    const first = requests;
    expect(first).toBeGreaterThan(0);
    now += DESCRIBE_TTL_MS - 1000;
    await timed.describeFields!('customer');
    expect(requests).toBe(first);
    now += 2000;
    await timed.describeFields!('customer');
    expect(requests).toBeGreaterThan(first);
    await timed.close!();
  });

  it('reads and writes a mapped custom field, and polling sees it changed in Tryton', async () => {
    const mapped = mapping(['customer_code', 'receivable']);
    const created = await mapped.create!(
      'customer',
      { name: 'Custom Fields Ltd', 'custom.customer_code': 'WE-100' },
      { idempotencyKey: 'c1', extra: { number: nextNumber() } },
    );
    expect(created.fields).toMatchObject({ name: 'Custom Fields Ltd', 'custom.customer_code': 'WE-100' });
    expect(created.fields['custom.receivable']).toMatch(/^0(\.0+)?$/);
    expect(await customerCode(created.id)).toBe('WE-100');

    const start = await (async () => {
      let cursor: string | null = null;
      for await (const page of mapped.listChanged!('customer', null)) cursor = page.cursor;
      return cursor;
    })();
    await trytond.user.model('party.party', 'write', [[Number(created.id)], { customer_code: 'WE-200' }]);
    expect((await mapped.get('customer', created.id))!.fields['custom.customer_code']).toBe('WE-200');
    const later: SyncRecord[] = [];
    for await (const page of mapped.listChanged!('customer', start)) later.push(...page.records);
    expect(later.map((record) => [record.id, record.fields['custom.customer_code']])).toEqual([[created.id, 'WE-200']]);

    const updated = await mapped.update!('customer', {
      id: created.id,
      fields: { 'custom.customer_code': 'WE-300', phone: '+49 30 1234' },
    });
    expect(updated.fields).toMatchObject({ 'custom.customer_code': 'WE-300', phone: '+49 30 1234' });
    expect(await customerCode(created.id)).toBe('WE-300');
    const [result] = await mapped.batchUpdate!('customer', [
      { id: created.id, fields: { 'custom.customer_code': null } },
    ]);
    expect(result).toMatchObject({ ok: true, record: { fields: { 'custom.customer_code': null } } });
    expect(await customerCode(created.id)).toBeNull();
    // A connector whose mappings name no custom field reads none.
    expect(Object.keys((await connector.get('customer', created.id))!.fields)).not.toContain('custom.customer_code');
    await mapped.close!();
  });

  it('refuses a read-only or unknown custom field, naming it, before writing anything', async () => {
    const mapped = mapping(['customer_code', 'receivable']);
    const created = await mapped.create!(
      'customer',
      { name: 'Read Only Ltd' },
      { idempotencyKey: 'c2', extra: { number: nextNumber() } },
    );
    const refused = (fields: Record<string, string>) => mapped.update!('customer', { id: created.id, fields });
    await expect(refused({ name: 'Renamed', 'custom.receivable': '100' })).rejects.toThrow(
      new InvalidRequestError("tryton: customer field 'custom.receivable' is read-only in Tryton"),
    );
    await expect(refused({ 'custom.customer_payment_term': '1' })).rejects.toThrow(
      "tryton: customer has no field 'custom.customer_payment_term'",
    );
    await expect(refused({ 'custom.code': 'NEW' })).rejects.toBeInstanceOf(InvalidRequestError);
    expect((await mapped.get('customer', created.id))!.fields.name).toBe('Read Only Ltd');
    await mapped.close!();
  });

  it('makes a start refuse a custom field Tryton does not offer, or a read-only one the mapping writes, naming field and connector', async () => {
    const config = configSchema.parse({
      connectors: {
        crm: { kind: 'hubspot', baseUrl: 'http://127.0.0.1:9', credentials: { token: 'unused' }, webhooks: false },
        accounting: { kind: 'tryton', ...trytonSettings(trytond) },
      },
      relationCodes: { customer: 'CUST' },
      mappings: {
        customer: [
          { contact: 'name', account: 'name' },
          { contact: 'custom.external_code', account: 'custom.customer_code' },
          { contact: 'custom.balance', account: 'custom.receivable' },
          { contact: 'custom.payable', account: 'custom.payable', direction: 'toCrm' },
          { contact: 'custom.terms', account: 'custom.customer_payment_term' },
        ],
      },
      server: { host: '127.0.0.1', port: 0 },
    });
    const crm: Connector = {
      name: 'crm',
      system: 'crm',
      entities: ['contact'],
      fields: {},
      get: () => Promise.resolve(null),
    };
    const { problems } = await unsupportedCustomFields(config, crm, connector);
    expect(problems).toEqual([
      "mappings.customer[2].account: 'custom.receivable' is read-only in tryton; map it with direction toCrm",
      expect.stringMatching(
        /^mappings\.customer\[4\]\.account: tryton has no customer field 'custom\.customer_payment_term' \(its custom fields: .*custom\.customer_code/,
      ),
    ]);
  });
});

describe('sessions', () => {
  it('logs in again when the server ended the session', async () => {
    const renewing = tryton.create(trytonSettings(trytond), { name: 'accounting' });
    const created = await renewing.create!(
      'customer',
      { name: 'Session Customer' },
      { idempotencyKey: 's1', extra: { number: nextNumber() } },
    );
    await trytond.endSessions();
    try {
      expect((await renewing.get('customer', created.id))!.fields.name).toBe('Session Customer');
      // The helper's own session ended as well; it logs in again the same way.
      expect(await trytond.user.model('party.party', 'search_count', [[['id', '=', Number(created.id)]]])).toBe(1);
    } finally {
      await renewing.close?.();
    }
  });

  it('reports refused credentials as AuthFailedError', async () => {
    const settings = trytonSettings(trytond, { credentials: { username: trytond.username, password: 'wrong' } });
    const wrong = tryton.create(settings, { name: 'accounting', retry: { baseDelayMs: 1 } });
    await expect(wrong.checkHealth!()).rejects.toBeInstanceOf(AuthFailedError);
  });
});
