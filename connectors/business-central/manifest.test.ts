/**
 * What the connector knows of BC's entities agrees with the APIV2 AL pages (the vendored
 * manifest): the property facts of properties.ts, the properties the mappings write and the
 * template keys a create accepts.
 */
import type { AccountKind } from '../../src/core/model';
import { manifestEntity } from '../../test/support/business-central/manifest';
import { COLLECTIONS, FIELD_MAP, type BcEntity } from './mappers';
import { BC_PROPERTIES, type BcPropertyFact } from './properties';
import { acceptedExtraKeys, parseTemplateValues } from './templates';

const ACCOUNT_KINDS: readonly AccountKind[] = ['customer', 'vendor', 'bankAccount'];
const ENTITIES: readonly BcEntity[] = [...ACCOUNT_KINDS, 'contact'];

/** The fact type an OData type is described with. */
function factType(edmType: string, enumMembers: readonly string[] | undefined): BcPropertyFact['type'] {
  if (enumMembers !== undefined) return 'enumeration';
  const types: Record<string, BcPropertyFact['type']> = {
    'Edm.String': 'text',
    'Edm.Guid': 'guid',
    'Edm.Decimal': 'number',
    'Edm.Boolean': 'boolean',
    'Edm.DateTimeOffset': 'date',
  };
  return types[edmType] ?? 'text';
}

describe.each(ACCOUNT_KINDS)('properties.ts for %s', (kind) => {
  const fields = manifestEntity(COLLECTIONS[kind]).fields;

  it('lists the page’s fields in its order, with their captions, types and options', () => {
    expect(BC_PROPERTIES[kind].map(({ name, caption, type, options }) => ({ name, caption, type, options }))).toEqual(
      fields.map((field) => ({
        name: field.name,
        caption: field.caption,
        type: factType(field.edmType, field.enumMembers),
        options: field.enumMembers,
      })),
    );
  });

  it('calls writable what the page lets a client edit, but for number (writing it renames the record)', () => {
    const differences = BC_PROPERTIES[kind].flatMap((fact) => {
      const field = fields.find((candidate) => candidate.name === fact.name);
      return fact.editable === field?.editable ? [] : [fact.name];
    });
    expect(differences).toEqual(['number']);
  });
});

describe.each(ENTITIES)('what a %s write may carry', (entity) => {
  const fields = manifestEntity(COLLECTIONS[entity]).fields;
  const field = (name: string) => fields.find((candidate) => candidate.name === name);

  it('maps canonical fields to editable fields of the page only', () => {
    const refused = Object.values(FIELD_MAP[entity]).filter((property) => field(property)?.editable !== true);
    expect(refused).toEqual([]);
  });

  it('accepts as template keys only editable fields of the page', () => {
    expect(acceptedExtraKeys(entity).filter((key) => field(key)?.editable !== true)).toEqual([]);
  });

  it('takes every enum member BC takes, text up to BC’s length, and refuses longer codes', () => {
    for (const key of acceptedExtraKeys(entity)) {
      const { edmType, enumMembers, maxLength } = field(key) ?? {};
      for (const member of enumMembers ?? [])
        expect(parseTemplateValues(entity, { [key]: member })).toEqual({ [key]: member });
      if (edmType !== 'Edm.String' || enumMembers !== undefined || maxLength === undefined) continue;
      expect(parseTemplateValues(entity, { [key]: 'X'.repeat(maxLength) })).toEqual({ [key]: 'X'.repeat(maxLength) });
    }
  });
});

it('refuses template codes longer than the page’s field', () => {
  const limited: [BcEntity, string][] = [
    ['customer', 'number'],
    ['customer', 'salespersonCode'],
    ['vendor', 'irs1099Code'],
    ['bankAccount', 'bankAccountNumber'],
    ['bankAccount', 'iban'],
    ['bankAccount', 'currencyCode'],
    ['contact', 'companyNumber'],
  ];
  for (const [entity, key] of limited) {
    const maxLength = manifestEntity(COLLECTIONS[entity]).fields.find((field) => field.name === key)?.maxLength ?? 0;
    expect(maxLength).toBeGreaterThan(0);
    expect(() => parseTemplateValues(entity, { [key]: 'X'.repeat(maxLength + 1) })).toThrow(`'${key}'`);
  }
});
