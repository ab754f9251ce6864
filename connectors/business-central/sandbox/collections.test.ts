/**
 * The sandbox's collections against the APIV2 AL pages (the vendored manifest): the same
 * properties, the same ones refused to a client, and defaults of each property's OData type.
 */
import { manifestEntity, type ManifestField } from '../../../test/support/business-central/manifest';
import { checkProperties, COLLECTION_NAMES, COLLECTIONS } from './collections';

/** The properties the store keeps beside a collection's defaults. */
const MANAGED = ['id', 'number', 'lastModifiedDateTime'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Does a default have the JSON form of the field's OData type? */
function ofType(field: ManifestField, value: unknown): boolean {
  if (field.enumMembers) return typeof value === 'string' && field.enumMembers.includes(value);
  switch (field.edmType) {
    case 'Edm.String':
      return typeof value === 'string';
    case 'Edm.Guid':
      return typeof value === 'string' && GUID.test(value);
    case 'Edm.Decimal':
    case 'Edm.Int32':
    case 'Edm.Int64':
      return typeof value === 'number';
    case 'Edm.Boolean':
      return typeof value === 'boolean';
    case 'Edm.Date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
    case 'Edm.DateTimeOffset':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    default:
      return false;
  }
}

describe.each(COLLECTION_NAMES)('the sandbox’s %s', (name) => {
  const entity = manifestEntity(name);
  const collection = COLLECTIONS[name];

  it('has exactly the fields of the APIV2 page', () => {
    expect([...MANAGED, ...Object.keys(collection.defaults)].sort()).toEqual(
      entity.fields.map((field) => field.name).sort(),
    );
  });

  it('refuses to a client exactly the fields the page does not let it edit', () => {
    const refused = [
      'id',
      'lastModifiedDateTime',
      ...(collection.numberEditable ? [] : ['number']),
      ...collection.readOnly,
    ];
    expect(refused.sort()).toEqual(
      entity.fields
        .filter((field) => !field.editable)
        .map((field) => field.name)
        .sort(),
    );
    for (const property of refused)
      expect(() =>
        checkProperties(name, { [property]: collection.defaults[property] ?? 'x' }, { by: 'api', method: 'PATCH' }),
      ).toThrow(`Control '${property}' is read-only.`);
    // Insert-only fields of these pages are read-only as well, so a PATCH never reaches them.
    expect(entity.fields.filter((field) => field.insertOnly === true && field.editable)).toEqual([]);
  });

  it('gives each property a default of its OData type, and takes the enum’s members as options', () => {
    for (const field of entity.fields.filter((field) => !MANAGED.includes(field.name)))
      expect([field.name, ofType(field, collection.defaults[field.name])]).toEqual([field.name, true]);
    for (const [property, values] of Object.entries(collection.options ?? {}))
      expect([property, values]).toEqual([
        property,
        entity.fields.find((field) => field.name === property)?.enumMembers,
      ]);
  });
});
