import {
  DEFAULT_COMPANY_MAP,
  fromContactId,
  joinPersonName,
  propertiesToRead,
  propertiesWithHistoryToRead,
  resolveMapping,
  splitPersonName,
  supportedFields,
  toContact,
  toContactId,
  toHubSpotProperties,
  describeProperties,
  withCustomProperties,
} from './mappers';

const mapping = resolveMapping();

describe('toContact', () => {
  it('maps a company with HubSpot and custom properties, empty strings as null', () => {
    const contact = toContact(
      'companies',
      {
        id: '501',
        properties: {
          name: 'Van der Meer Groothandel B.V.',
          zip: '1016 EA',
          state: '',
          country: 'NL',
          website: 'https://vandermeer.example',
          tandem_vat_registration_no: 'NL812345678B01',
          tandem_fax: '   ',
          hs_lastmodifieddate: '2024-05-01T10:00:00.123Z',
        },
      },
      mapping,
    );
    expect(contact).toEqual({
      entity: 'contact',
      id: 'company-501',
      type: 'company',
      companyId: null,
      fields: {
        name: 'Van der Meer Groothandel B.V.',
        postCode: '1016 EA',
        county: null,
        countryCode: 'NL',
        homePage: 'https://vandermeer.example',
        vatRegistrationNo: 'NL812345678B01',
        fax: null,
      },
      modifiedAt: '2024-05-01T10:00:00.123Z',
    });
  });

  it('joins a person name and links the associated company', () => {
    const contact = toContact(
      'contacts',
      {
        id: '77',
        properties: {
          firstname: 'Anna',
          lastname: 'van Dijk',
          mobilephone: '+31 6 1234 5678',
          associatedcompanyid: '501',
          lastmodifieddate: '2024-05-02T08:00:00Z',
        },
      },
      mapping,
    );
    expect(contact.id).toBe('person-77');
    expect(contact.type).toBe('person');
    expect(contact.companyId).toBe('company-501');
    expect(contact.fields).toEqual({ name: 'Anna van Dijk', mobile: '+31 6 1234 5678' });
    expect(contact.modifiedAt).toBe('2024-05-02T08:00:00.000Z');
  });

  it('reads a person without a company, and a name with only one part', () => {
    const contact = toContact(
      'contacts',
      { id: '78', properties: { firstname: null, lastname: 'Hale', associatedcompanyid: '' } },
      mapping,
    );
    expect(contact.companyId).toBeNull();
    expect(contact.fields.name).toBe('Hale');
  });

  it('falls back to updatedAt and accepts epoch milliseconds', () => {
    expect(
      toContact('companies', { id: '1', properties: {}, updatedAt: '2024-01-01T00:00:00.000Z' }, mapping).modifiedAt,
    ).toBe('2024-01-01T00:00:00.000Z');
    expect(
      toContact('companies', { id: '1', properties: { hs_lastmodifieddate: '1714557600000' } }, mapping).modifiedAt,
    ).toBe('2024-05-01T10:00:00.000Z');
  });

  it("takes each field's time from its property history, newest entry first", () => {
    const entry = (value: string, timestamp: string, sourceType = 'CRM_UI') => ({ value, timestamp, sourceType });
    const contact = toContact(
      'companies',
      {
        id: '501',
        properties: {
          city: 'Utrecht',
          phone: '+31 30 200 0000',
          name: 'Window BV',
          hs_lastmodifieddate: '2024-05-03T12:00:00Z',
        },
        propertiesWithHistory: {
          // Newest first, as HubSpot lists them; an unknown key on an entry is tolerated.
          city: [
            { ...entry('Utrecht', '2024-05-01T09:00:00.000Z'), sourceLabel: 'CRM UI', sourceId: 'userId:1' },
            entry('Amsterdam', '2024-04-01T09:00:00Z', 'INTEGRATION'),
          ],
          phone: [entry('+31 30 200 0000', '2024-05-03T12:00:00.000Z')],
        },
      },
      mapping,
    );
    expect(contact.fieldModifiedAt).toEqual({ city: '2024-05-01T09:00:00.000Z', phone: '2024-05-03T12:00:00.000Z' });
    // `name` has no history: it is left to the record's time.
    expect(contact.fieldModifiedAt).not.toHaveProperty('name');
    expect(contact.modifiedAt).toBe('2024-05-03T12:00:00.000Z');
    // The value before the newest, with its time, where the history has one.
    expect(contact.fieldPrevious).toEqual({ city: { value: 'Amsterdam', at: '2024-04-01T09:00:00.000Z' } });
  });

  it('sets no field times without history, and gives a person name the later of its two parts', () => {
    const plain = toContact('companies', { id: '1', properties: { city: 'Utrecht' } }, mapping);
    expect(plain).not.toHaveProperty('fieldModifiedAt');
    const person = toContact(
      'contacts',
      {
        id: '77',
        properties: { firstname: 'Anna', lastname: 'van Dijk', lastmodifieddate: '2024-05-02T08:00:00Z' },
        propertiesWithHistory: {
          firstname: [{ value: 'Anna', timestamp: '2024-01-01T00:00:00Z', sourceType: 'CRM_UI' }],
          lastname: [{ value: 'van Dijk', timestamp: '2024-03-01T00:00:00Z', sourceType: 'CRM_UI' }],
          // History of a property whose field is not in the answer sets nothing.
          city: [{ value: 'Delft', timestamp: '2024-04-01T00:00:00Z', sourceType: 'CRM_UI' }],
        },
      },
      mapping,
    );
    expect(person.fieldModifiedAt).toEqual({ name: '2024-03-01T00:00:00.000Z' });
  });
});

describe('propertiesWithHistoryToRead', () => {
  it('asks for the history of the properties that carry fields, not of system ones', () => {
    const companies = propertiesWithHistoryToRead('companies', mapping);
    expect(companies).toEqual(expect.arrayContaining(['name', 'city', 'phone', 'tandem_fax']));
    expect(companies).not.toContain('hs_lastmodifieddate');
    const contacts = propertiesWithHistoryToRead('contacts', mapping);
    expect(contacts).toEqual(expect.arrayContaining(['firstname', 'lastname', 'mobilephone', 'email']));
    expect(contacts).not.toContain('associatedcompanyid');
    expect(contacts).not.toContain('lastmodifieddate');
  });
});

describe('toHubSpotProperties', () => {
  it('writes company fields to their properties, null as an empty string', () => {
    expect(
      toHubSpotProperties(
        'company',
        {
          name: 'Schröder GmbH',
          postCode: '20457',
          county: null,
          email: 'info@schroeder.example',
          mobile: '+49 170 1',
        },
        mapping,
      ),
    ).toEqual({
      name: 'Schröder GmbH',
      zip: '20457',
      state: '',
      tandem_email: 'info@schroeder.example',
    });
  });

  it('splits a person name on the last space', () => {
    expect(
      toHubSpotProperties('person', { name: 'Anna van Dijk', email: 'anna@example.com', fax: '+31 20 1' }, mapping),
    ).toEqual({
      firstname: 'Anna van',
      lastname: 'Dijk',
      email: 'anna@example.com',
      fax: '+31 20 1',
    });
    expect(toHubSpotProperties('person', { name: null }, mapping)).toEqual({ firstname: '', lastname: '' });
    expect(toHubSpotProperties('person', { phone: '1' }, mapping)).toEqual({ phone: '1' });
  });

  it('round-trips a person through both mappers', () => {
    const properties = toHubSpotProperties('person', { name: 'Jörg Albrecht', city: 'Hamburg' }, mapping);
    expect(toContact('contacts', { id: '5', properties }, mapping).fields).toMatchObject({
      name: 'Jörg Albrecht',
      city: 'Hamburg',
    });
  });
});

describe('property map overrides', () => {
  it('replaces, adds and switches off properties per object type', () => {
    const custom = resolveMapping({
      company: { phone: 'main_phone', mobile: 'tandem_mobile', fax: null },
      person: { name: 'full_name' },
    });
    expect(toHubSpotProperties('company', { phone: '1', mobile: '2', fax: '3' }, custom)).toEqual({
      main_phone: '1',
      tandem_mobile: '2',
    });
    expect(toHubSpotProperties('person', { name: 'Eleanor Hale' }, custom)).toEqual({ full_name: 'Eleanor Hale' });
    expect(propertiesToRead('contacts', custom)).not.toContain('firstname');
    expect(DEFAULT_COMPANY_MAP.fax).toBe('tandem_fax');
  });

  it('lists the canonical fields it supports', () => {
    const fields = supportedFields(mapping);
    expect(fields).toEqual(
      expect.arrayContaining(['name', 'name2', 'mobile', 'homePage', 'territoryCode', 'vatRegistrationNo']),
    );
    expect(fields).toHaveLength(18);
    expect(supportedFields(resolveMapping({ person: { name: null }, company: { name: null } }))).not.toContain('name');
  });
});

describe('ids and names', () => {
  it('builds and parses canonical ids without colons', () => {
    expect(toContactId('companies', '12')).toBe('company-12');
    expect(fromContactId('person-34')).toEqual({ objectType: 'contacts', hubSpotId: '34' });
    expect(fromContactId('company-x')).toBeNull();
    expect(fromContactId('customer-1')).toBeNull();
  });

  it('splits and joins names', () => {
    expect(splitPersonName('Cher')).toEqual({ firstname: 'Cher', lastname: '' });
    expect(splitPersonName(' Jan de Boer ')).toEqual({ firstname: 'Jan de', lastname: 'Boer' });
    expect(joinPersonName('', '  ')).toBeNull();
    expect(joinPersonName('Eleanor', null)).toBe('Eleanor');
  });
});

describe('custom properties', () => {
  const custom = withCustomProperties(mapping, ['customer_tier']);

  it('reads, asks for and writes a custom property as custom.<name>, with its own change time', () => {
    expect(propertiesWithHistoryToRead('companies', custom)).toContain('customer_tier');
    const contact = toContact(
      'companies',
      {
        id: '7',
        properties: { name: 'Tiered BV', customer_tier: 'Gold', hs_lastmodifieddate: '2024-05-01T10:00:00.000Z' },
        propertiesWithHistory: {
          customer_tier: [{ value: 'Gold', timestamp: '2024-04-30T08:00:00.000Z', sourceType: 'CRM_UI' }],
        },
      },
      custom,
    );
    expect(contact.fields['custom.customer_tier']).toBe('Gold');
    expect(contact.fieldModifiedAt?.['custom.customer_tier']).toBe('2024-04-30T08:00:00.000Z');
    expect(toHubSpotProperties('company', { 'custom.customer_tier': 'Silver', name: 'Tiered BV' }, custom)).toEqual({
      customer_tier: 'Silver',
      name: 'Tiered BV',
    });
    // Not a canonical field: the static list stays the canonical one.
    expect(supportedFields(custom)).not.toContain('custom.customer_tier');
  });

  it('describes the portal: canonical fields by their property, the rest as custom, read-only where HubSpot says so', () => {
    const property = (name: string, extra: object = {}) => ({
      name,
      label: name.toUpperCase(),
      type: 'string',
      options: [],
      ...extra,
    });
    const fields = describeProperties(mapping, {
      companies: [
        property('name'),
        property('customer_tier', {
          type: 'enumeration',
          options: [
            { label: 'Gold', value: 'gold' },
            { label: 'Old', value: 'old', hidden: true },
          ],
        }),
        property('hs_num_child_companies', { type: 'number', calculated: true }),
        property('shared_note'),
      ],
      contacts: [property('shared_note', { modificationMetadata: { readOnlyValue: true } }), property('email')],
    });
    const byName = new Map(fields.map((field) => [field.name, field]));
    expect(byName.get('name')).toMatchObject({ custom: false, writable: true, type: 'text' });
    expect(byName.get('email')).toMatchObject({ custom: false });
    expect(byName.get('custom.customer_tier')).toEqual({
      name: 'custom.customer_tier',
      label: 'CUSTOMER_TIER',
      type: 'enumeration',
      writable: true,
      options: [{ value: 'gold', label: 'Gold' }],
      custom: true,
    });
    expect(byName.get('custom.hs_num_child_companies')).toMatchObject({ writable: false, type: 'number' });
    // Writable only where every object type that has it lets it be written.
    expect(byName.get('custom.shared_note')?.writable).toBe(false);
  });
});
