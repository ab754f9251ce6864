/**
 * Evidence against an artefact we did not write: jsforce's schema of Salesforce's standard objects
 * (generated from Salesforce's describe, node_modules/jsforce/lib/types/standard-schema.d.ts).
 * Every field the connector reads or writes on Account, Contact and their history objects exists
 * there, with a type the connector's parsing accepts. The same check is made at compile time:
 * the `satisfies` lines below fail `tsc` when a name is not a field of the generated type.
 */
import { readFileSync } from 'node:fs';
import type { StandardSchema } from 'jsforce/lib/types/standard-schema';
import {
  ACCOUNT_ID_FIELD,
  DEFAULT_ACCOUNT_MAP,
  DEFAULT_CONTACT_MAP,
  HISTORY_OBJECT,
  PERSON_NAME_FIELDS,
  SYSTEM_FIELDS,
} from './fields';

/** The named keys of a type, without the index signature jsforce's SObjectDefinition adds to every object. */
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };
type FieldsOf<Name extends keyof StandardSchema['SObjects']> = KnownKeys<StandardSchema['SObjects'][Name]['Fields']>;

// Compile-time: a misspelt or missing field is a type error here.
SYSTEM_FIELDS satisfies readonly (FieldsOf<'Account'> & FieldsOf<'Contact'>)[];
PERSON_NAME_FIELDS satisfies readonly FieldsOf<'Contact'>[];
ACCOUNT_ID_FIELD satisfies FieldsOf<'Contact'>;
const historyFields = ['Field', 'OldValue', 'NewValue', 'CreatedDate'] as const;
historyFields satisfies readonly (FieldsOf<'AccountHistory'> & FieldsOf<'ContactHistory'>)[];
type ValueOf<T> = T[keyof T];
/** Compiles only when every `Names` is a field of the generated object. */
type Exists<Names extends Fields, Fields> = Names;
export type AccountFieldsExist = Exists<ValueOf<typeof DEFAULT_ACCOUNT_MAP>, FieldsOf<'Account'>>;
export type ContactFieldsExist = Exists<ValueOf<typeof DEFAULT_CONTACT_MAP>, FieldsOf<'Contact'>>;
HISTORY_OBJECT.Account.parent satisfies FieldsOf<'AccountHistory'>;
HISTORY_OBJECT.Contact.parent satisfies FieldsOf<'ContactHistory'>;

/** The generated fields of one sObject and their TypeScript types, read from the .d.ts text. */
function generatedFields(object: string): Map<string, string> {
  const text = readFileSync(require.resolve('jsforce/lib/types/standard-schema.d.ts'), 'utf8');
  const start = text.indexOf(`type Fields$${object} = {`);
  if (start < 0) throw new Error(`jsforce's schema has no ${object}`);
  const body = text.slice(start, text.indexOf('\n};', start));
  const fields = new Map<string, string>();
  for (const match of body.matchAll(/^\s+(\w+): ([^;]+);$/gm)) fields.set(match[1] as string, match[2] as string);
  return fields;
}

const mapped = (map: Readonly<Record<string, string | null | undefined>>) =>
  Object.values(map).filter((field): field is string => typeof field === 'string');

describe("the fields the Salesforce connector uses, against jsforce's standard schema", () => {
  const account = generatedFields('Account');
  const contact = generatedFields('Contact');

  test('the schema was read (Account and Contact have their dozens of fields)', () => {
    expect(account.size).toBeGreaterThan(30);
    expect(contact.size).toBeGreaterThan(30);
    expect(generatedFields('AccountHistory').size).toBeGreaterThan(5);
  });

  test.each([
    ['Account', account, mapped(DEFAULT_ACCOUNT_MAP)],
    ['Contact', contact, [...mapped(DEFAULT_CONTACT_MAP), ...PERSON_NAME_FIELDS]],
  ])('every mapped %s field exists and holds text', (_object, fields, names) => {
    for (const name of names) {
      // Text fields come as string (or string | null); LastName and Account Name are required strings.
      expect({ name, type: fields.get(name) }).toEqual({ name, type: expect.stringMatching(/^string( \| null)?$/) });
    }
  });

  test('the system fields exist on both objects with the types the schemas parse', () => {
    for (const fields of [account, contact]) {
      expect(fields.get('Id')).toBe('string');
      expect(fields.get('SystemModstamp')).toBe('DateString');
      expect(fields.get('LastModifiedDate')).toBe('DateString');
      expect(fields.get('IsDeleted')).toBe('boolean');
      expect(fields.get('MasterRecordId')).toBe('string | null');
    }
    expect(contact.get(ACCOUNT_ID_FIELD)).toBe('string | null');
  });

  test('the history objects have the fields a field-history read selects', () => {
    for (const object of ['Account', 'Contact'] as const) {
      const fields = generatedFields(HISTORY_OBJECT[object].object);
      expect(fields.get(HISTORY_OBJECT[object].parent)).toBe('string');
      expect(fields.get('Field')).toBe('string');
      expect(fields.get('CreatedDate')).toBe('DateString');
      expect(fields.get('NewValue')).toBe('string | null');
    }
  });
});
