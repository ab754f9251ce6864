import { applyFields, cardFields, companyLinks, isCompanyCard, newCard, revTime, toContact } from './mappers';
import { parseVCard, serializeVCard } from './vcard';

const PERSON_30 = [
  'BEGIN:VCARD',
  'VERSION:3.0',
  'UID:p1',
  'FN:Jeanne Moreau',
  'N:Moreau;Jeanne;;;',
  'ORG:Boulangerie Moreau',
  'TEL;TYPE=CELL:+33 6 12 34 56 78',
  'TEL;TYPE=WORK,VOICE:+33 1 23 45 67 89',
  'TEL;TYPE=FAX:+33 1 23 45 67 80',
  'EMAIL;TYPE=INTERNET:jeanne@moreau.example',
  'ADR;TYPE=WORK:;Bât. B;12 rue du Four\\, cour;Paris;Île-de-France;75006;FR',
  'URL:https://moreau.example',
  'NOTE:Prefers mornings',
  'X-ABLabel:kept',
  'REV:20261201T101500Z',
  'END:VCARD',
].join('\r\n');

const COMPANY_40 = [
  'BEGIN:VCARD',
  'VERSION:4.0',
  'UID:urn:uuid:c1',
  'KIND:org',
  'FN:Boulangerie Moreau',
  'ORG:Boulangerie Moreau',
  'TEL;VALUE=uri;TYPE="work,voice":tel:+33-1-23-45-67-89',
  'END:VCARD',
].join('\r\n');

describe('reading', () => {
  it('maps FN, TEL by type, EMAIL, the first ADR and URL', () => {
    expect(cardFields(parseVCard(PERSON_30))).toEqual({
      name: 'Jeanne Moreau',
      address: '12 rue du Four, cour',
      address2: 'Bât. B',
      postCode: '75006',
      city: 'Paris',
      county: 'Île-de-France',
      countryCode: 'FR',
      phone: '+33 1 23 45 67 89',
      mobile: '+33 6 12 34 56 78',
      fax: '+33 1 23 45 67 80',
      email: 'jeanne@moreau.example',
      homePage: 'https://moreau.example',
    });
  });

  it('reads a 4.0 tel: URI as the number', () => {
    expect(cardFields(parseVCard(COMPANY_40)).phone).toBe('+33-1-23-45-67-89');
  });

  it('tells company cards (KIND:org, or FN equal to ORG) from persons', () => {
    expect(isCompanyCard(parseVCard(COMPANY_40))).toBe(true);
    expect(isCompanyCard(parseVCard(PERSON_30))).toBe(false);
    const apple = parseVCard('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Acme\r\nORG:Acme;\r\nEND:VCARD\r\n');
    expect(isCompanyCard(apple)).toBe(true);
    const group = parseVCard('BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:group\r\nFN:Acme\r\nORG:Acme\r\nEND:VCARD\r\n');
    expect(isCompanyCard(group)).toBe(false);
  });

  it('takes REV as modifiedAt, else the server time, and the ETag as version', () => {
    const contact = toContact('p1.vcf', '"e1"', parseVCard(PERSON_30), null);
    expect(contact).toMatchObject({
      id: 'p1.vcf',
      type: 'person',
      modifiedAt: '2026-12-01T10:15:00.000Z',
      version: '"e1"',
    });
    expect(toContact('c.vcf', '"e"', parseVCard(COMPANY_40), '2026-01-02T03:04:05.000Z').modifiedAt).toBe(
      '2026-01-02T03:04:05.000Z',
    );
    expect(revTime('2026-12-01T10:15:00Z')).toBe('2026-12-01T10:15:00.000Z');
    expect(revTime('yesterday')).toBeNull();
  });
});

describe('writing', () => {
  const now = new Date('2026-12-06T22:00:00.000Z');

  it('changes only the written fields, keeping parameters and unknown properties, and stamps REV', () => {
    const card = applyFields(parseVCard(PERSON_30), { phone: '+33 1 00 00 00 00', city: 'Lyon', email: null }, now);
    const text = serializeVCard(card);
    expect(text).toContain('TEL;TYPE=WORK,VOICE:+33 1 00 00 00 00\r\n');
    expect(text).toContain('TEL;TYPE=CELL:+33 6 12 34 56 78\r\n');
    expect(text).toContain('ADR;TYPE=WORK:;Bât. B;12 rue du Four\\, cour;Lyon;Île-de-France;75006;FR\r\n');
    expect(text).not.toContain('EMAIL');
    expect(text).toContain('NOTE:Prefers mornings\r\n');
    expect(text).toContain('X-ABLABEL:kept\r\n');
    expect(text).toContain('REV:20261206T220000Z\r\n');
    expect(cardFields(card)).toMatchObject({
      phone: '+33 1 00 00 00 00',
      city: 'Lyon',
      email: null,
      name: 'Jeanne Moreau',
    });
  });

  it('keeps the tel: form of a 4.0 card and renames a company in FN and ORG', () => {
    const card = applyFields(parseVCard(COMPANY_40), { phone: '+33 9', name: 'Moreau & Fils' }, now);
    const text = serializeVCard(card);
    expect(text).toContain('TEL;VALUE=uri;TYPE="work,voice":tel:+33 9\r\n');
    expect(text).toContain('ORG:Moreau & Fils\r\n');
    expect(isCompanyCard(card)).toBe(true);
  });

  it('adds properties a card lacks, escaped', () => {
    const card = applyFields(
      parseVCard('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:X\r\nEND:VCARD\r\n'),
      { address: 'a; b', mobile: '1' },
      now,
    );
    expect(serializeVCard(card)).toContain('ADR;TYPE=work:;;a\\; b;;;;\r\n');
    expect(cardFields(card)).toMatchObject({ address: 'a; b', mobile: '1' });
  });

  it('makes new cards: a company with KIND:org and ORG, a person without', () => {
    const company = newCard('u1', 'company', { name: 'Acme', phone: '1' }, now);
    expect(isCompanyCard(company)).toBe(true);
    expect(serializeVCard(company)).toContain('UID:urn:uuid:u1\r\n');
    const person = newCard('u2', 'person', { name: 'Ann' }, now);
    expect(isCompanyCard(person)).toBe(false);
    expect(cardFields(person).name).toBe('Ann');
  });
});

describe('companyLinks', () => {
  it('names the RELATED values and the ORG name of a card', () => {
    const card = parseVCard(
      'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann\r\nORG:Acme\\, Inc.;Sales\r\nRELATED;TYPE=colleague:urn:uuid:c1\r\nRELATED:urn:uuid:c2\r\nEND:VCARD\r\n',
    );
    expect(companyLinks(card)).toEqual({ uids: ['urn:uuid:c1', 'urn:uuid:c2'], org: 'Acme, Inc.' });
    expect(companyLinks(parseVCard('BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bo\r\nEND:VCARD\r\n'))).toEqual({
      uids: [],
      org: null,
    });
  });
});
