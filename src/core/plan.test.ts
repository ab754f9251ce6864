import type { Direction, FieldMapping } from './model';
import type { Account, AccountKind, Contact, FieldValue, System } from './model';
import { planSync, type LinkedAccount, type PlanInput, type RecordWrite, type ShadowValue } from './plan';

const SYNCED = '2024-03-01T08:00:00.000Z';
const T1 = '2024-03-01T09:00:00.000Z';
const T2 = '2024-03-01T10:00:00.000Z';
const T3 = '2024-03-01T11:00:00.000Z';
const CRM_FIRST: System[] = ['crm', 'accounting'];
const ACCOUNTING_FIRST: System[] = ['accounting', 'crm'];

const relationIdOf = (kind: AccountKind) => `rel-${kind}`;
const accountIdOf = (kind: AccountKind) => `${kind}-1`;

function makeContact(fields: Contact['fields'], extra: Partial<Contact> = {}): Contact {
  return { entity: 'contact', id: 'contact-1', type: 'company', companyId: null, fields, modifiedAt: T1, ...extra };
}

function makeAccount(kind: AccountKind, fields: Account['fields'], extra: Partial<Account> = {}): Account {
  return {
    entity: kind,
    id: accountIdOf(kind),
    number: `${kind.toUpperCase()}-0001`,
    fields,
    modifiedAt: T1,
    ...extra,
  };
}

function map(contact: string, account = contact, direction: Direction = 'both'): FieldMapping {
  return { contact, account, direction };
}

/** Shadow from `{ 'contact.phone': '1', 'account.phone': '1' }`, all synced at SYNCED. */
function shadowOf(values: Record<string, FieldValue>): Map<string, ShadowValue> {
  return new Map(Object.entries(values).map(([key, value]) => [key, { value, sourceModifiedAt: SYNCED }]));
}

function link(
  kind: AccountKind,
  account: Account | null,
  mappings: FieldMapping[],
  shadow: Record<string, FieldValue> = {},
): LinkedAccount {
  return {
    relation: {
      id: relationIdOf(kind),
      contactId: 'contact-1',
      accountKind: kind,
      accountId: accountIdOf(kind),
      relationCode: kind.toUpperCase().slice(0, 4),
      origin: 'linked',
      createdAt: SYNCED,
    },
    account,
    mappings,
    shadow: shadowOf(shadow),
  };
}

function plan(contact: Contact, linked: LinkedAccount[], tieBreak: System[] = CRM_FIRST) {
  const input: PlanInput = { contact, linked, tieBreak };
  return planSync(input);
}

/** The writes in a compact form: `{ 'accounting/customer/customer-1': { phone: '2' } }`. */
function written(writes: RecordWrite[]): Record<string, Record<string, FieldValue>> {
  return Object.fromEntries(writes.map((write) => [`${write.system}/${write.entity}/${write.id}`, write.fields]));
}

const PHONE = [map('phone')];

describe('planSync: a single change', () => {
  it('copies a contact change to the customer with an audit trail', () => {
    const result = plan(makeContact({ phone: '222' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { phone: '111' }, { version: 'W/"7"' }), PHONE, {
        'contact.phone': '111',
        'account.phone': '111',
      }),
    ]);
    expect(result.writes).toEqual([
      {
        system: 'accounting',
        entity: 'customer',
        id: 'customer-1',
        ifMatch: 'W/"7"',
        fields: { phone: '222' },
        changes: [
          {
            relationId: 'rel-customer',
            field: 'phone',
            from: '111',
            to: '222',
            direction: 'toAccounting',
            sourceSystem: 'crm',
            sourceModifiedAt: T2,
          },
        ],
        relationIds: ['rel-customer'],
      },
    ]);
    expect(result.conflicts).toEqual([]);
    expect(result.nothingChanged).toBe(false);
    expect(result.shadow).toEqual([
      { relationId: 'rel-customer', side: 'contact', field: 'phone', value: '222' },
      { relationId: 'rel-customer', side: 'account', field: 'phone', value: '222' },
    ]);
  });

  it('copies an account change to the contact with an audit trail', () => {
    const result = plan(makeContact({ phone: '111' }, { version: '"c-3"' }), [
      link('vendor', makeAccount('vendor', { phone: '333' }, { modifiedAt: T2 }), PHONE, {
        'contact.phone': '111',
        'account.phone': '111',
      }),
    ]);
    expect(result.writes).toEqual([
      {
        system: 'crm',
        entity: 'contact',
        id: 'contact-1',
        ifMatch: '"c-3"',
        fields: { phone: '333' },
        changes: [
          {
            relationId: 'rel-vendor',
            field: 'phone',
            from: '111',
            to: '333',
            direction: 'toCrm',
            sourceSystem: 'accounting',
            sourceModifiedAt: T2,
          },
        ],
        relationIds: ['rel-vendor'],
      },
    ]);
    expect(result.conflicts).toEqual([]);
    expect(result.shadow).toEqual([
      { relationId: 'rel-vendor', side: 'contact', field: 'phone', value: '333' },
      { relationId: 'rel-vendor', side: 'account', field: 'phone', value: '333' },
    ]);
  });

  it('writes several changed fields of one record in one call', () => {
    const result = plan(makeContact({ phone: '2', city: 'Oslo', name: 'Acme' }, { modifiedAt: T2 }), [
      link(
        'customer',
        makeAccount('customer', { phone: '1', city: 'Bergen', name: 'Acme' }),
        [map('phone'), map('city'), map('name')],
        {
          'contact.phone': '1',
          'account.phone': '1',
          'contact.city': 'Bergen',
          'account.city': 'Bergen',
          'contact.name': 'Acme',
          'account.name': 'Acme',
        },
      ),
    ]);
    expect(written(result.writes)).toEqual({ 'accounting/customer/customer-1': { phone: '2', city: 'Oslo' } });
    expect(result.writes[0]?.changes.map((change) => change.field)).toEqual(['phone', 'city']);
  });

  it('copies an emptied field as null', () => {
    const result = plan(makeContact({ fax: null }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { fax: '555' }), [map('fax')], {
        'contact.fax': '555',
        'account.fax': '555',
      }),
    ]);
    expect(written(result.writes)).toEqual({ 'accounting/customer/customer-1': { fax: null } });
  });

  it('treats a field missing from the record as empty', () => {
    const result = plan(makeContact({}, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { fax: '555' }), [map('fax')], {
        'contact.fax': '555',
        'account.fax': '555',
      }),
    ]);
    expect(written(result.writes)).toEqual({ 'accounting/customer/customer-1': { fax: null } });
  });
});

describe('planSync: fan-out', () => {
  // The contact's mobile number is the customer's phone, the vendor's phone and the bank's fax.
  const mobileMappings: Record<AccountKind, FieldMapping[]> = {
    customer: [map('mobile', 'phone')],
    vendor: [map('mobile', 'phone')],
    bankAccount: [map('mobile', 'fax')],
  };
  const syncedShadow = (accountField: string) => ({ 'contact.mobile': '100', [`account.${accountField}`]: '100' });

  it('sends a contact change to every linked customer, vendor and bank account under its own field name', () => {
    const result = plan(makeContact({ mobile: '200' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { phone: '100' }), mobileMappings.customer, syncedShadow('phone')),
      link('vendor', makeAccount('vendor', { phone: '100' }), mobileMappings.vendor, syncedShadow('phone')),
      link('bankAccount', makeAccount('bankAccount', { fax: '100' }), mobileMappings.bankAccount, syncedShadow('fax')),
    ]);
    expect(written(result.writes)).toEqual({
      'accounting/customer/customer-1': { phone: '200' },
      'accounting/vendor/vendor-1': { phone: '200' },
      'accounting/bankAccount/bankAccount-1': { fax: '200' },
    });
    expect(result.writes.map((write) => write.relationIds)).toEqual([
      ['rel-customer'],
      ['rel-vendor'],
      ['rel-bankAccount'],
    ]);
    for (const write of result.writes) {
      expect(write.changes).toEqual([
        expect.objectContaining({
          from: '100',
          to: '200',
          direction: 'toAccounting',
          sourceSystem: 'crm',
          sourceModifiedAt: T2,
        }),
      ]);
    }
    expect(result.conflicts).toEqual([]);
  });

  it('sends an account change to the contact and through it to the other accounts', () => {
    const result = plan(makeContact({ mobile: '100' }), [
      link('customer', makeAccount('customer', { phone: '100' }), mobileMappings.customer, syncedShadow('phone')),
      link(
        'vendor',
        makeAccount('vendor', { phone: '300' }, { modifiedAt: T2 }),
        mobileMappings.vendor,
        syncedShadow('phone'),
      ),
      link('bankAccount', makeAccount('bankAccount', { fax: '100' }), mobileMappings.bankAccount, syncedShadow('fax')),
    ]);
    expect(written(result.writes)).toEqual({
      'crm/contact/contact-1': { mobile: '300' },
      'accounting/customer/customer-1': { phone: '300' },
      'accounting/bankAccount/bankAccount-1': { fax: '300' },
    });
    const [contactWrite, customerWrite] = result.writes;
    expect(contactWrite?.relationIds).toEqual(['rel-customer', 'rel-vendor', 'rel-bankAccount']);
    expect(contactWrite?.changes).toEqual([
      {
        relationId: 'rel-vendor',
        field: 'mobile',
        from: '100',
        to: '300',
        direction: 'toCrm',
        sourceSystem: 'accounting',
        sourceModifiedAt: T2,
      },
    ]);
    expect(customerWrite?.changes).toEqual([
      {
        relationId: 'rel-customer',
        field: 'phone',
        from: '100',
        to: '300',
        direction: 'toAccounting',
        sourceSystem: 'accounting',
        sourceModifiedAt: T2,
      },
    ]);
    expect(result.shadow).toEqual(
      expect.arrayContaining([
        { relationId: 'rel-vendor', side: 'account', field: 'phone', value: '300' },
        { relationId: 'rel-bankAccount', side: 'account', field: 'fax', value: '300' },
        { relationId: 'rel-customer', side: 'contact', field: 'mobile', value: '300' },
      ]),
    );
  });

  it('does not write to an account that already holds the new value', () => {
    const result = plan(makeContact({ phone: '2' }, { modifiedAt: T2 }), [
      // The customer was set to the new number by hand and the shadow already knows it.
      link('customer', makeAccount('customer', { phone: '2' }), PHONE, { 'contact.phone': '1', 'account.phone': '2' }),
      link('vendor', makeAccount('vendor', { phone: '1' }), PHONE, { 'contact.phone': '1', 'account.phone': '1' }),
    ]);
    expect(written(result.writes)).toEqual({ 'accounting/vendor/vendor-1': { phone: '2' } });
  });

  it('does not write the contact back when the account change matches it already', () => {
    const result = plan(makeContact({ phone: '2' }), [
      link('customer', makeAccount('customer', { phone: '2' }, { modifiedAt: T2 }), PHONE, {
        'contact.phone': '2',
        'account.phone': '1',
      }),
    ]);
    expect(result.writes).toEqual([]);
    expect(result.shadow).toEqual(
      expect.arrayContaining([{ relationId: 'rel-customer', side: 'account', field: 'phone', value: '2' }]),
    );
  });
});

describe('planSync: conflicts', () => {
  const synced = { 'contact.phone': '1', 'account.phone': '1' };

  it.each<
    [
      string,
      string,
      string,
      System[],
      { winner: System; reason: 'newer' | 'tieBreak'; writes: Record<string, Record<string, FieldValue>> },
    ]
  >([
    [
      'the newer contact wins',
      T3,
      T2,
      CRM_FIRST,
      { winner: 'crm', reason: 'newer', writes: { 'accounting/customer/customer-1': { phone: 'crm' } } },
    ],
    [
      'the newer contact wins even when accounting wins ties',
      T3,
      T2,
      ACCOUNTING_FIRST,
      { winner: 'crm', reason: 'newer', writes: { 'accounting/customer/customer-1': { phone: 'crm' } } },
    ],
    [
      'the newer account wins',
      T2,
      T3,
      CRM_FIRST,
      { winner: 'accounting', reason: 'newer', writes: { 'crm/contact/contact-1': { phone: 'acc' } } },
    ],
    [
      'a tie goes to the CRM with [crm, accounting]',
      T2,
      T2,
      CRM_FIRST,
      { winner: 'crm', reason: 'tieBreak', writes: { 'accounting/customer/customer-1': { phone: 'crm' } } },
    ],
    [
      'a tie goes to accounting with [accounting, crm]',
      T2,
      T2,
      ACCOUNTING_FIRST,
      { winner: 'accounting', reason: 'tieBreak', writes: { 'crm/contact/contact-1': { phone: 'acc' } } },
    ],
  ])('%s', (_name, contactTime, accountTime, tieBreak, expected) => {
    const result = plan(
      makeContact({ phone: 'crm' }, { modifiedAt: contactTime }),
      [link('customer', makeAccount('customer', { phone: 'acc' }, { modifiedAt: accountTime }), PHONE, synced)],
      tieBreak,
    );
    expect(written(result.writes)).toEqual(expected.writes);
    expect(result.conflicts).toHaveLength(1);
    const [conflict] = result.conflicts;
    expect(conflict?.contactField).toBe('phone');
    expect(conflict?.relationIds).toEqual(['rel-customer']);
    expect(conflict?.reason).toBe(expected.reason);
    expect(conflict?.winner.system).toBe(expected.winner);
    expect(conflict?.winner.value).toBe(expected.winner === 'crm' ? 'crm' : 'acc');
    // Both values and both times are kept for the audit log.
    expect(conflict?.candidates).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ system: 'crm', value: 'crm', modifiedAt: contactTime }),
        expect.objectContaining({
          system: 'accounting',
          relationId: 'rel-customer',
          value: 'acc',
          modifiedAt: accountTime,
        }),
      ]),
    );
    const finalValue = expected.winner === 'crm' ? 'crm' : 'acc';
    expect(result.shadow).toEqual([
      { relationId: 'rel-customer', side: 'contact', field: 'phone', value: finalValue },
      { relationId: 'rel-customer', side: 'account', field: 'phone', value: finalValue },
    ]);
  });

  it('records the winner’s own time on the write it causes', () => {
    const result = plan(makeContact({ phone: 'crm' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { phone: 'acc' }, { modifiedAt: T3 }), PHONE, synced),
    ]);
    expect(result.writes[0]?.changes[0]).toMatchObject({
      sourceSystem: 'accounting',
      sourceModifiedAt: T3,
      relationId: 'rel-customer',
    });
  });

  it('reports no conflict and writes nothing when both sides changed to the same value', () => {
    const result = plan(makeContact({ phone: '9' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { phone: '9' }, { modifiedAt: T3 }), PHONE, synced),
    ]);
    expect(result.writes).toEqual([]);
    expect(result.conflicts).toEqual([]);
    expect(result.shadow.map((entry) => entry.value)).toEqual(['9', '9']);
  });

  it('still brings an unchanged third account in step when two sides agree', () => {
    const result = plan(makeContact({ phone: '9' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { phone: '9' }, { modifiedAt: T3 }), PHONE, synced),
      link('vendor', makeAccount('vendor', { phone: '1' }), PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({ 'accounting/vendor/vendor-1': { phone: '9' } });
    expect(result.conflicts).toEqual([]);
  });

  it.each<[string, AccountKind, AccountKind, AccountKind]>([
    ['customer before vendor', 'vendor', 'customer', 'customer'],
    ['vendor before bank account', 'bankAccount', 'vendor', 'vendor'],
    ['customer before bank account', 'bankAccount', 'customer', 'customer'],
  ])('among accounts changed at the same time: %s', (_name, first, second, expectedWinner) => {
    const result = plan(makeContact({ phone: '1' }), [
      link(first, makeAccount(first, { phone: first }, { modifiedAt: T2 }), PHONE, synced),
      link(second, makeAccount(second, { phone: second }, { modifiedAt: T2 }), PHONE, synced),
    ]);
    const loser = expectedWinner === first ? second : first;
    expect(written(result.writes)).toEqual({
      'crm/contact/contact-1': { phone: expectedWinner },
      [`accounting/${loser}/${accountIdOf(loser)}`]: { phone: expectedWinner },
    });
    expect(result.conflicts).toEqual([
      expect.objectContaining({
        reason: 'tieBreak',
        winner: expect.objectContaining({ relationId: relationIdOf(expectedWinner) }),
      }),
    ]);
  });

  it('overwrites a losing account with the winning contact value', () => {
    const result = plan(makeContact({ phone: 'crm' }, { modifiedAt: T3 }), [
      link('customer', makeAccount('customer', { phone: 'acc' }, { modifiedAt: T2 }), PHONE, synced),
      link('vendor', makeAccount('vendor', { phone: '1' }), PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({
      'accounting/customer/customer-1': { phone: 'crm' },
      'accounting/vendor/vendor-1': { phone: 'crm' },
    });
    expect(result.conflicts[0]?.relationIds).toEqual(['rel-customer', 'rel-vendor']);
  });
});

describe('planSync: modification times', () => {
  const synced = { 'contact.phone': '1', 'account.phone': '1' };

  it('prefers the contact’s per-field time over its record time', () => {
    // The contact record was touched last (another field), but its phone was changed before the account's.
    const result = plan(makeContact({ phone: 'crm' }, { modifiedAt: T3, fieldModifiedAt: { phone: T1 } }), [
      link('customer', makeAccount('customer', { phone: 'acc' }, { modifiedAt: T2 }), PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({ 'crm/contact/contact-1': { phone: 'acc' } });
    expect(result.conflicts[0]?.reason).toBe('newer');
  });

  it('prefers the account’s per-field time over its record time', () => {
    const result = plan(makeContact({ phone: 'crm' }, { modifiedAt: T2 }), [
      link(
        'customer',
        makeAccount('customer', { phone: 'acc' }, { modifiedAt: T3, fieldModifiedAt: { phone: T1 } }),
        PHONE,
        synced,
      ),
    ]);
    expect(written(result.writes)).toEqual({ 'accounting/customer/customer-1': { phone: 'crm' } });
    expect(result.conflicts[0]?.candidates).toEqual(
      expect.arrayContaining([expect.objectContaining({ system: 'accounting', modifiedAt: T1 })]),
    );
  });

  it('looks up the account’s per-field time under the account field name', () => {
    const result = plan(makeContact({ mobile: 'crm' }, { modifiedAt: T2 }), [
      link(
        'customer',
        makeAccount('customer', { phone: 'acc' }, { modifiedAt: T1, fieldModifiedAt: { phone: T3 } }),
        [map('mobile', 'phone')],
        {
          'contact.mobile': '1',
          'account.phone': '1',
        },
      ),
    ]);
    expect(written(result.writes)).toEqual({ 'crm/contact/contact-1': { mobile: 'acc' } });
  });
});

describe('planSync: echo suppression', () => {
  it('writes nothing when both records equal the shadow', () => {
    const result = plan(makeContact({ phone: '2', city: 'Oslo' }, { modifiedAt: T3 }), [
      link(
        'customer',
        makeAccount('customer', { phone: '2', city: 'Oslo' }, { modifiedAt: T3 }),
        [map('phone'), map('city')],
        {
          'contact.phone': '2',
          'account.phone': '2',
          'contact.city': 'Oslo',
          'account.city': 'Oslo',
        },
      ),
    ]);
    expect(result.writes).toEqual([]);
    expect(result.conflicts).toEqual([]);
    expect(result.nothingChanged).toBe(true);
  });

  it('ignores changes to fields no mapping covers', () => {
    const result = plan(makeContact({ phone: '2', mobile: 'new', email: 'new@example.com' }, { modifiedAt: T3 }), [
      link('customer', makeAccount('customer', { phone: '2', iban: 'NO93 8601 1117 947' }, { modifiedAt: T3 }), PHONE, {
        'contact.phone': '2',
        'account.phone': '2',
      }),
    ]);
    expect(result.writes).toEqual([]);
    expect(result.nothingChanged).toBe(true);
  });
});

describe('planSync: field direction', () => {
  const synced = { 'contact.phone': '1', 'account.phone': '1' };

  it.each<[string, Direction, Record<string, Record<string, FieldValue>>]>([
    [
      'toAccounting copies a contact edit to the account',
      'toAccounting',
      { 'accounting/customer/customer-1': { phone: '2' } },
    ],
    ['toCrm does not copy a contact edit to the account', 'toCrm', {}],
    ['both copies a contact edit to the account', 'both', { 'accounting/customer/customer-1': { phone: '2' } }],
  ])('%s', (_name, direction, expected) => {
    const result = plan(makeContact({ phone: '2' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { phone: '1' }), [map('phone', 'phone', direction)], synced),
    ]);
    expect(written(result.writes)).toEqual(expected);
    expect(result.conflicts).toEqual([]);
  });

  it.each<[string, Direction, Record<string, Record<string, FieldValue>>]>([
    ['toCrm copies an account edit to the contact', 'toCrm', { 'crm/contact/contact-1': { phone: '2' } }],
    ['toAccounting does not copy an account edit to the contact', 'toAccounting', {}],
    ['both copies an account edit to the contact', 'both', { 'crm/contact/contact-1': { phone: '2' } }],
  ])('%s', (_name, direction, expected) => {
    const result = plan(makeContact({ phone: '1' }), [
      link(
        'customer',
        makeAccount('customer', { phone: '2' }, { modifiedAt: T2 }),
        [map('phone', 'phone', direction)],
        synced,
      ),
    ]);
    expect(written(result.writes)).toEqual(expected);
    expect(result.conflicts).toEqual([]);
  });

  it('does not spread a toAccounting account edit to the other accounts', () => {
    const result = plan(makeContact({ phone: '1' }), [
      link(
        'customer',
        makeAccount('customer', { phone: '2' }, { modifiedAt: T2 }),
        [map('phone', 'phone', 'toAccounting')],
        synced,
      ),
      link('vendor', makeAccount('vendor', { phone: '1' }), PHONE, synced),
    ]);
    expect(result.writes).toEqual([]);
  });

  it('still sends a contact edit to the other accounts when one account is toCrm', () => {
    const result = plan(makeContact({ phone: '2' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { phone: '1' }), [map('phone', 'phone', 'toCrm')], synced),
      link('vendor', makeAccount('vendor', { phone: '1' }), PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({ 'accounting/vendor/vendor-1': { phone: '2' } });
    expect(result.shadow).toEqual(
      expect.arrayContaining([
        { relationId: 'rel-customer', side: 'contact', field: 'phone', value: '2' },
        { relationId: 'rel-customer', side: 'account', field: 'phone', value: '1' },
      ]),
    );
  });

  it('lets a toCrm account, the master of the field, win against a newer contact edit', () => {
    const result = plan(makeContact({ phone: 'crm' }, { modifiedAt: T3 }), [
      link(
        'customer',
        makeAccount('customer', { phone: 'master' }, { modifiedAt: T1 }),
        [map('phone', 'phone', 'toCrm')],
        synced,
      ),
      link('vendor', makeAccount('vendor', { phone: '1' }), PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({
      'crm/contact/contact-1': { phone: 'master' },
      'accounting/vendor/vendor-1': { phone: 'master' },
    });
    expect(result.writes[0]?.changes[0]).toMatchObject({
      relationId: 'rel-customer',
      sourceSystem: 'accounting',
      from: 'crm',
      to: 'master',
    });
  });

  it('lets a toCrm master win against a newer edit of another account', () => {
    const result = plan(makeContact({ phone: '1' }), [
      link(
        'customer',
        makeAccount('customer', { phone: 'master' }, { modifiedAt: T1 }),
        [map('phone', 'phone', 'toCrm')],
        synced,
      ),
      link('vendor', makeAccount('vendor', { phone: 'vendor' }, { modifiedAt: T3 }), PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({
      'crm/contact/contact-1': { phone: 'master' },
      'accounting/vendor/vendor-1': { phone: 'master' },
    });
  });
});

describe('planSync: relations without a shadow', () => {
  it('records the shadow of a fresh relation whose values already agree, without writing', () => {
    const result = plan(makeContact({ phone: '5' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { phone: '5' }), PHONE),
    ]);
    expect(result.writes).toEqual([]);
    expect(result.conflicts).toEqual([]);
    expect(result.nothingChanged).toBe(false);
    expect(result.shadow).toEqual([
      { relationId: 'rel-customer', side: 'contact', field: 'phone', value: '5' },
      { relationId: 'rel-customer', side: 'account', field: 'phone', value: '5' },
    ]);
  });

  it.each<[string, string, string, Record<string, Record<string, FieldValue>>]>([
    ['the newer contact', T3, T2, { 'accounting/customer/customer-1': { phone: 'crm' } }],
    ['the newer account', T2, T3, { 'crm/contact/contact-1': { phone: 'acc' } }],
  ])('settles differing values of a fresh relation in favour of %s', (_name, contactTime, accountTime, expected) => {
    const result = plan(makeContact({ phone: 'crm' }, { modifiedAt: contactTime }), [
      link('customer', makeAccount('customer', { phone: 'acc' }, { modifiedAt: accountTime }), PHONE),
    ]);
    expect(written(result.writes)).toEqual(expected);
    expect(result.conflicts).toEqual([expect.objectContaining({ contactField: 'phone', reason: 'newer' })]);
  });

  const customerSynced = () =>
    link('customer', makeAccount('customer', { phone: '1' }), PHONE, { 'contact.phone': '1', 'account.phone': '1' });

  it('judges an unchanged contact by the relation that has a shadow when a second account is newly linked', () => {
    // The contact record is newer than the new vendor, but its phone did not change since the last sync:
    // the vendor's number is the only news and must not lose against the unchanged contact.
    const result = plan(makeContact({ phone: '1' }, { modifiedAt: T3 }), [
      customerSynced(),
      link('vendor', makeAccount('vendor', { phone: '9' }, { modifiedAt: T1 }), PHONE),
    ]);
    expect(written(result.writes)).toEqual({
      'crm/contact/contact-1': { phone: '9' },
      'accounting/customer/customer-1': { phone: '9' },
    });
    expect(result.conflicts).toEqual([]);
  });

  it('writes nothing for a newly linked account that already agrees with an unchanged contact', () => {
    const result = plan(makeContact({ phone: '1' }, { modifiedAt: T3 }), [
      customerSynced(),
      link('vendor', makeAccount('vendor', { phone: '1' }), PHONE),
    ]);
    expect(result.writes).toEqual([]);
    expect(result.conflicts).toEqual([]);
  });

  it('judges a changed contact by the relation that has a shadow when a second account is newly linked', () => {
    const result = plan(makeContact({ phone: '2' }, { modifiedAt: T3 }), [
      customerSynced(),
      link('vendor', makeAccount('vendor', { phone: '1' }, { modifiedAt: T1 }), PHONE),
    ]);
    expect(written(result.writes)).toEqual({
      'accounting/customer/customer-1': { phone: '2' },
      'accounting/vendor/vendor-1': { phone: '2' },
    });
  });

  it('treats a field newly added to the mappings as changed on both sides', () => {
    const result = plan(makeContact({ phone: '1', city: 'Oslo' }, { modifiedAt: T3 }), [
      link(
        'customer',
        makeAccount('customer', { phone: '1', city: 'Bergen' }, { modifiedAt: T1 }),
        [map('phone'), map('city')],
        {
          'contact.phone': '1',
          'account.phone': '1',
        },
      ),
    ]);
    expect(written(result.writes)).toEqual({ 'accounting/customer/customer-1': { city: 'Oslo' } });
  });
});

describe('planSync: deleted accounts', () => {
  const synced = { 'contact.phone': '1', 'account.phone': '1' };

  it('leaves a deleted account out of writes, shadow and the contact write’s relations', () => {
    const result = plan(makeContact({ phone: '1' }), [
      link('customer', null, PHONE, synced),
      link('vendor', makeAccount('vendor', { phone: '2' }, { modifiedAt: T2 }), PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({ 'crm/contact/contact-1': { phone: '2' } });
    expect(result.writes[0]?.relationIds).toEqual(['rel-vendor']);
    expect(result.shadow.every((entry) => entry.relationId === 'rel-vendor')).toBe(true);
  });

  it('does not write a contact change to a deleted account', () => {
    const result = plan(makeContact({ phone: '2' }, { modifiedAt: T2 }), [
      link('customer', null, PHONE, synced),
      link('vendor', makeAccount('vendor', { phone: '1' }), PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({ 'accounting/vendor/vendor-1': { phone: '2' } });
  });

  it('plans nothing when the only account was deleted', () => {
    const result = plan(makeContact({ phone: '2' }, { modifiedAt: T2 }), [link('customer', null, PHONE, synced)]);
    expect(result).toEqual({ writes: [], conflicts: [], shadow: [], nothingChanged: true });
  });
});

describe('planSync: optimistic concurrency', () => {
  it('carries each record’s version as ifMatch, and none when the system has no versions', () => {
    const synced = { 'contact.phone': '1', 'account.phone': '1' };
    const result = plan(makeContact({ phone: '1' }, { version: 'c-etag' }), [
      link(
        'customer',
        makeAccount('customer', { phone: '2' }, { modifiedAt: T2, version: 'cust-etag' }),
        PHONE,
        synced,
      ),
      link('vendor', makeAccount('vendor', { phone: '1' }, { version: 'vend-etag' }), PHONE, synced),
      link('bankAccount', makeAccount('bankAccount', { phone: '1' }), PHONE, synced),
    ]);
    expect(result.writes.map((write) => [write.entity, write.ifMatch])).toEqual([
      ['contact', 'c-etag'],
      ['vendor', 'vend-etag'],
      ['bankAccount', undefined],
    ]);
  });
});

describe('planSync: an edit a write of tandem’s overwrote', () => {
  // tandem carried the customer's 111 (edited at T1) to the CRM; a user's 333 there, at T2,
  // landed between the write's compare and the write, which replaced it.
  const synced = { 'contact.phone': '111', 'account.phone': '111' };
  const overwrittenContact = (at: string) =>
    makeContact(
      { phone: '111' },
      { fieldModifiedAt: { phone: T1 }, fieldOverwritten: { phone: { value: '333', at } } },
    );

  it('puts the newer edit back where it was overwritten and carries it to the accounts', () => {
    const result = plan(overwrittenContact(T2), [
      link('customer', makeAccount('customer', { phone: '111' }, { fieldModifiedAt: { phone: T1 } }), PHONE, synced),
      link('vendor', makeAccount('vendor', { phone: '111' }, { fieldModifiedAt: { phone: T1 } }), PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({
      'crm/contact/contact-1': { phone: '333' },
      'accounting/customer/customer-1': { phone: '333' },
      'accounting/vendor/vendor-1': { phone: '333' },
    });
    const restore = result.writes.find((write) => write.system === 'crm')?.changes[0];
    expect(restore).toMatchObject({ from: '111', to: '333', sourceSystem: 'crm', sourceModifiedAt: T2 });
  });

  it('loses to a still newer edit elsewhere, as a conflict naming it', () => {
    const result = plan(overwrittenContact(T2), [
      link('customer', makeAccount('customer', { phone: '444' }, { fieldModifiedAt: { phone: T3 } }), PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({ 'crm/contact/contact-1': { phone: '444' } });
    expect(result.conflicts[0]?.candidates.map((candidate) => candidate.value).sort()).toEqual(['333', '444']);
  });

  it('puts back an account’s overwritten edit on that account too', () => {
    const account = makeAccount(
      'customer',
      { phone: '111' },
      { fieldModifiedAt: { phone: T1 }, fieldOverwritten: { phone: { value: '555', at: T2 } } },
    );
    const result = plan(makeContact({ phone: '111' }, { fieldModifiedAt: { phone: T1 } }), [
      link('customer', account, PHONE, synced),
    ]);
    expect(written(result.writes)).toEqual({
      'crm/contact/contact-1': { phone: '555' },
      'accounting/customer/customer-1': { phone: '555' },
    });
  });
});

describe('planSync: value maps', () => {
  const COUNTRY: FieldMapping[] = [
    { ...map('countryCode'), transform: { name: 'country', crm: 'name', accounting: 'code', language: 'en' } },
  ];
  const TIER: FieldMapping[] = [{ ...map('salespersonCode'), values: { Gold: 'G', Silver: 'S' }, unmapped: 'hold' }];

  it("writes a contact's value to the account in the account's spelling, and back in the CRM's", () => {
    const toAccount = plan(makeContact({ countryCode: 'Germany' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { countryCode: 'NL' }), COUNTRY, {
        'contact.countryCode': 'Netherlands',
        'account.countryCode': 'NL',
      }),
    ]);
    expect(written(toAccount.writes)).toEqual({ 'accounting/customer/customer-1': { countryCode: 'DE' } });
    expect(toAccount.shadow).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ side: 'contact', field: 'countryCode', value: 'Germany' }),
        expect.objectContaining({ side: 'account', field: 'countryCode', value: 'DE' }),
      ]),
    );

    const toContact = plan(makeContact({ countryCode: 'Netherlands' }), [
      link('customer', makeAccount('customer', { countryCode: 'BE' }, { modifiedAt: T2 }), COUNTRY, {
        'contact.countryCode': 'Netherlands',
        'account.countryCode': 'NL',
      }),
    ]);
    expect(written(toContact.writes)).toEqual({ 'crm/contact/contact-1': { countryCode: 'Belgium' } });
  });

  it('sees no change where both sides say the same in their own spelling, so nothing goes back and forth', () => {
    // The state the first plan's writes leave: the contact says Germany, the account DE.
    const again = plan(makeContact({ countryCode: 'Germany' }, { modifiedAt: T3 }), [
      link('customer', makeAccount('customer', { countryCode: 'DE' }, { modifiedAt: T3 }), COUNTRY, {
        'contact.countryCode': 'Germany',
        'account.countryCode': 'DE',
      }),
    ]);
    expect(again.writes).toEqual([]);
    expect(again.nothingChanged).toBe(true);
    // A first sync of two records that agree only under the map writes nothing either.
    const first = plan(makeContact({ countryCode: 'germany' }), [
      link('customer', makeAccount('customer', { countryCode: 'DE' }), COUNTRY),
    ]);
    expect(first.writes).toEqual([]);
  });

  it('holds a value without an entry for review: nothing is written, and an unmapped conflict names both values', () => {
    const fromCrm = plan(makeContact({ salespersonCode: 'Platinum' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { salespersonCode: 'G' }), TIER, {
        'contact.salespersonCode': 'Gold',
        'account.salespersonCode': 'G',
      }),
    ]);
    expect(fromCrm.writes).toEqual([]);
    expect(fromCrm.conflicts).toHaveLength(1);
    expect(fromCrm.conflicts[0]).toMatchObject({
      reason: 'unmapped',
      contactField: 'salespersonCode',
      winner: { system: 'accounting', value: 'G' },
      candidates: [
        { system: 'crm', value: 'Platinum' },
        { system: 'accounting', value: 'G' },
      ],
      writes: [],
    });
    // The account's shadow stays, the contact's moves: the next plan does not hold it again.
    expect(fromCrm.shadow).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ side: 'contact', value: 'Platinum' }),
        expect.objectContaining({ side: 'account', value: 'G' }),
      ]),
    );

    const fromAccount = plan(makeContact({ salespersonCode: 'Gold' }), [
      link('customer', makeAccount('customer', { salespersonCode: 'P' }, { modifiedAt: T2 }), TIER, {
        'contact.salespersonCode': 'Gold',
        'account.salespersonCode': 'G',
      }),
    ]);
    expect(fromAccount.writes).toEqual([]);
    expect(fromAccount.conflicts[0]).toMatchObject({
      reason: 'unmapped',
      winner: { system: 'crm', value: 'Gold' },
      candidates: [
        { system: 'accounting', value: 'P' },
        { system: 'crm', value: 'Gold' },
      ],
    });
  });

  it('blanks a value without an entry when the rule says so', () => {
    const blank = plan(makeContact({ salespersonCode: 'Platinum' }, { modifiedAt: T2 }), [
      link('customer', makeAccount('customer', { salespersonCode: 'G' }), [{ ...TIER[0]!, unmapped: 'blank' }], {
        'contact.salespersonCode': 'Gold',
        'account.salespersonCode': 'G',
      }),
    ]);
    expect(written(blank.writes)).toEqual({ 'accounting/customer/customer-1': { salespersonCode: null } });
  });
});
