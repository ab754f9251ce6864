/** Pipedrive's organizations and persons as canonical contacts and back; every body is held to the official client's models. */
import { modelViolations } from '../../test/support/pipedrive/models';
import {
  buildMapping,
  customFieldKey,
  customFieldOf,
  fromContactId,
  organizationToContact,
  personToContact,
  supportedFields,
  toContactId,
  toOrganizationCreate,
  toOrganizationUpdate,
  toPersonCreate,
  toPersonUpdate,
} from './mappers';
import type { PipedriveOrganization, PipedrivePerson } from './schemas';

const VAT_KEY = '9f3c2a1b0d4e5f60718293a4b5c6d7e8f9012345';
const PHONE_KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const mapping = buildMapping({
  company: { vatRegistrationNo: VAT_KEY, phone: PHONE_KEY },
  person: { vatRegistrationNo: VAT_KEY },
});

const moreau: PipedriveOrganization = {
  id: 42,
  name: 'Boulangerie Moreau',
  update_time: '2026-11-02T09:15:00Z',
  address: {
    value: '12 rue du Four, 75006 Paris, France',
    route: 'rue du Four',
    street_number: '12',
    postal_code: '75006',
    locality: 'Paris',
    admin_area_level_1: 'Île-de-France',
    country: 'France',
  },
  website: 'https://moreau.example',
  custom_fields: { [VAT_KEY]: 'FR12345678901', [PHONE_KEY]: '+33 1 23 45 67 89', other: 'x' },
};

const ada: PipedrivePerson = {
  id: 7,
  name: 'Ada Moreau',
  org_id: 42,
  update_time: '2026-11-03T10:00:00.000Z',
  emails: [
    { value: 'ada.private@example.com', primary: false, label: 'home' },
    { value: 'ada@moreau.example', primary: true, label: 'work' },
  ],
  phones: [
    { value: '+33 1 00 00 00 01', primary: true, label: 'work' },
    { value: '+33 6 00 00 00 02', primary: false, label: 'mobile' },
  ],
  postal_address: { value: 'Paris', locality: 'Paris' },
  custom_fields: { [VAT_KEY]: null },
};

describe('ids', () => {
  it('names organizations company-<id> and persons person-<id>, and reads back only those', () => {
    expect(toContactId('company', 42)).toBe('company-42');
    expect(fromContactId('person-7')).toEqual({ type: 'person', pipedriveId: 7 });
    for (const id of ['person-0', 'company-', 'deal-1', 'company-1.5', 'company-01', 'person-1-2'])
      expect(fromContactId(id)).toBeNull();
  });

  it('gives custom field keys that start with a digit a leading _, and reads it back', () => {
    expect(customFieldOf(VAT_KEY)).toBe(`custom._${VAT_KEY}`);
    expect(customFieldKey(`custom._${VAT_KEY}`)).toBe(VAT_KEY);
    expect(customFieldOf('abc')).toBe('custom.abc');
    expect(customFieldKey('custom.abc')).toBe('abc');
    expect(customFieldKey('name')).toBeNull();
  });
});

describe('organizationToContact', () => {
  it('reads the name, the address parts, the website and the configured custom fields', () => {
    expect(organizationToContact(moreau, mapping)).toEqual({
      entity: 'contact',
      id: 'company-42',
      type: 'company',
      companyId: null,
      modifiedAt: '2026-11-02T09:15:00.000Z',
      fields: {
        name: 'Boulangerie Moreau',
        address: 'rue du Four 12',
        address2: null,
        postCode: '75006',
        city: 'Paris',
        county: 'Île-de-France',
        countryCode: 'France',
        homePage: 'https://moreau.example',
        vatRegistrationNo: 'FR12345678901',
        phone: '+33 1 23 45 67 89',
      },
    });
  });

  it('takes the unparsed address text as the street line when Pipedrive split nothing out', () => {
    const contact = organizationToContact({ id: 1, address: { value: 'Hauptstraße 5, Berlin' } }, mapping);
    expect(contact.fields.address).toBe('Hauptstraße 5, Berlin');
    expect(contact.fields.city).toBeNull();
  });

  it('leaves out what the answer does not carry, so a partial answer does not read as cleared fields', () => {
    const contact = organizationToContact({ id: 1, name: 'Only a name' }, mapping);
    expect(contact.fields).toEqual({ name: 'Only a name' });
    expect(contact.modifiedAt).toBe('1970-01-01T00:00:00.000Z');
  });

  it('reads numbers and monetary custom fields as text, and names extra custom fields custom.<key>', () => {
    const extra = buildMapping({}, ['employees_note', VAT_KEY]);
    const contact = organizationToContact(
      { id: 3, custom_fields: { employees_note: 12, [VAT_KEY]: { value: 1500, currency: 'EUR' } } },
      extra,
    );
    expect(contact.fields['custom.employees_note']).toBe('12');
    expect(contact.fields[`custom._${VAT_KEY}`]).toBe('1500');
  });
});

describe('personToContact', () => {
  it('reads the primary e-mail, the work and mobile phones, the postal address and the organization', () => {
    const contact = personToContact(ada, mapping);
    expect(contact).toMatchObject({ id: 'person-7', type: 'person', companyId: 'company-42' });
    expect(contact.fields).toMatchObject({
      name: 'Ada Moreau',
      email: 'ada@moreau.example',
      phone: '+33 1 00 00 00 01',
      mobile: '+33 6 00 00 00 02',
      city: 'Paris',
      vatRegistrationNo: null,
    });
  });

  it('reads a person without an organization as belonging to no company', () => {
    expect(personToContact({ id: 8, org_id: null }, mapping).companyId).toBeNull();
  });
});

describe('bodies', () => {
  it('writes an organization change as the models allow, with the whole address re-formatted', () => {
    const body = toOrganizationUpdate(
      { city: 'Lyon', postCode: '69001', homePage: null, vatRegistrationNo: 'FR99' },
      mapping,
      moreau,
    );
    expect(body).toEqual({
      website: null,
      address: {
        value: 'rue du Four 12, 69001 Lyon, Île-de-France, France',
        route: 'rue du Four',
        street_number: '12',
        postal_code: '69001',
        locality: 'Lyon',
        admin_area_level_1: 'Île-de-France',
        country: 'France',
      },
      custom_fields: { [VAT_KEY]: 'FR99' },
    });
    expect(modelViolations('UpdateOrganizationRequest', body)).toEqual([]);
  });

  it('replaces route and street number together when the street line changes', () => {
    const body = toOrganizationUpdate({ address: '3 place Bellecour' }, mapping, moreau);
    expect(body.address).toMatchObject({ route: '3 place Bellecour' });
    expect(body.address).not.toHaveProperty('street_number');
  });

  it('never sends an empty name, and refuses to create an organization without one', () => {
    expect(toOrganizationUpdate({ name: null }, mapping)).toEqual({});
    expect(toOrganizationCreate({ city: 'Paris' }, mapping)).toBeNull();
    const created = toOrganizationCreate({ name: 'Moreau', phone: '+33 1' }, mapping);
    expect(created).toEqual({ name: 'Moreau', custom_fields: { [PHONE_KEY]: '+33 1' } });
    expect(modelViolations('AddOrganizationRequest', created)).toEqual([]);
  });

  it('writes a person change into its e-mails and phones, keeping the entries tandem does not map', () => {
    const body = toPersonUpdate({ email: 'ada@new.example', mobile: null, phone: '+33 1 99' }, mapping, ada);
    expect(body).toEqual({
      emails: [
        { value: 'ada.private@example.com', primary: false, label: 'home' },
        { value: 'ada@new.example', primary: true, label: 'work' },
      ],
      phones: [{ value: '+33 1 99', primary: true, label: 'work' }],
    });
    expect(modelViolations('UpdatePersonRequest', body)).toEqual([]);
  });

  it('adds a first e-mail as the primary one and a mobile as a labelled entry', () => {
    const body = toPersonUpdate({ email: 'new@example.com', mobile: '+33 6 1' }, mapping, { id: 9 });
    expect(body).toEqual({
      emails: [{ value: 'new@example.com', primary: true, label: 'work' }],
      phones: [{ value: '+33 6 1', primary: true, label: 'mobile' }],
    });
    expect(modelViolations('UpdatePersonRequest', body)).toEqual([]);
  });

  it('creates a person in its organization, as the models allow', () => {
    const created = toPersonCreate({ name: 'Ada', email: 'a@b.example', city: 'Paris' }, mapping, 42);
    expect(created).toMatchObject({ name: 'Ada', org_id: 42 });
    expect(modelViolations('AddPersonRequest', created)).toEqual([]);
    expect(toPersonCreate({ email: 'a@b.example' }, mapping, 42)).toBeNull();
  });

  it('lists the canonical fields either type maps, and a null override switches a built-in one off', () => {
    expect(supportedFields(mapping)).toEqual(
      expect.arrayContaining(['name', 'address', 'homePage', 'email', 'mobile', 'vatRegistrationNo', 'phone']),
    );
    const noWebsite = buildMapping({ company: { homePage: null } });
    expect(toOrganizationUpdate({ homePage: 'https://x.example' }, noWebsite)).toEqual({});
  });
});
