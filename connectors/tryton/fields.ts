/**
 * Tryton's own schema of a model, as `fields_get` answers it (trytond/model/fields/field.py,
 * `Field.definition`), and the party and bank account fields it offers to mappings: the canonical
 * ones, and every other scalar field as `custom.<field>` with its value as text both ways (README.md,
 * "Fields and custom fields"). Pure.
 */
import { z } from 'zod';
import { customField, customFieldName, normalizeValue, type AccountKind, type FieldValue } from '../../src/core/model';
import { InvalidRequestError, InvalidResponseError } from '../kit/errors';
import type { FieldDescription } from '../kit/types';
import { dateSchema } from './schemas';

/** The Tryton types offered as custom fields: scalars whose value is text, a number, a date or a flag. */
const OFFERED_TYPES = {
  char: 'text',
  text: 'text',
  selection: 'enumeration',
  boolean: 'boolean',
  integer: 'number',
  float: 'number',
  numeric: 'number',
  date: 'date',
} as const satisfies Record<string, FieldDescription['type']>;
type OfferedType = keyof typeof OFFERED_TYPES;

/** A selection key as trytond sends it; None is the empty choice. */
type SelectionKey = string | number | null;

/** A record read with the custom fields the mappings name, by Tryton name, each as text. */
export interface CustomValues {
  custom: Readonly<Record<string, FieldValue>>;
}

/** One field of a model as the connector uses it. */
export interface TrytonField {
  name: string;
  /** Tryton's type (`char`, `many2one`, ...). */
  type: string;
  /** The field's label in the user's language. */
  label: string;
  /**
   * False where the field is read-only for every record: `readonly` (a Function field without a
   * setter is made so) or a `states.readonly` that is a constant. A PYSON expression (`Not(Eval('active'))`,
   * on every party field) depends on the record and is not counted.
   */
  writable: boolean;
  /** A static selection's keys and labels; null for a selection computed by a method (`"get_types"`). */
  selection?: [SelectionKey, string][] | null;
}

/** `states` as PYSON-encoded JSON; an answer that is no JSON object says nothing constant. */
const statesSchema = z.preprocess(
  (text) => {
    try {
      return JSON.parse(String(text)) as unknown;
    } catch {
      return {};
    }
  },
  z.object({ readonly: z.unknown() }).partial().catch({}),
);

const definitionSchema = z.object({
  type: z.string(),
  string: z.string().default(''),
  readonly: z.boolean().default(false),
  states: statesSchema.default({}),
  selection: z
    .union([z.array(z.tuple([z.union([z.string(), z.number(), z.null()]), z.string()])), z.string()])
    .optional(),
});

/**
 * The fields of a `fields_get` answer. A field whose definition does not parse is left out: it
 * is not offered, and the rest of the model still is.
 */
export function parseFieldsGet(answer: unknown, what: string): Map<string, TrytonField> {
  const all = z.record(z.string(), z.unknown()).safeParse(answer);
  if (!all.success) throw new InvalidResponseError(`${what}: unexpected answer (not an object of fields)`);
  const fields = new Map<string, TrytonField>();
  for (const [name, raw] of Object.entries(all.data)) {
    const parsed = definitionSchema.safeParse(raw);
    if (!parsed.success) continue;
    const { type, string: label, readonly, states, selection } = parsed.data;
    fields.set(name, {
      name,
      type,
      label: label || name,
      writable: !readonly && states.readonly !== true,
      ...(type === 'selection' && { selection: typeof selection === 'string' ? null : (selection ?? null) }),
    });
  }
  return fields;
}

/** The models a kind's description reads, and the field names asked for (null: all of them). */
export const DESCRIBED_MODELS: Record<AccountKind, Partial<Record<string, string[] | null>>> = {
  customer: { 'party.party': null, 'party.address': ['street', 'postal_code', 'city', 'country', 'subdivision'] },
  vendor: { 'party.party': null, 'party.address': ['street', 'postal_code', 'city', 'country', 'subdivision'] },
  bankAccount: { 'bank.account': null, bank: ['bic'] },
};

/** The model a kind's records are, whose other scalar fields are offered as custom fields. */
export const RECORD_MODEL: Record<AccountKind, 'party.party' | 'bank.account'> = {
  customer: 'party.party',
  vendor: 'party.party',
  bankAccount: 'bank.account',
};

/**
 * The Tryton field each canonical field is read from, for its label; `written` where the connector
 * writes that very field, so its writability is Tryton's. The others are written through child
 * records (contact mechanisms, the first address, identifiers, numbers) and stay writable.
 */
interface Source {
  model: string;
  field: string;
  written?: boolean;
  /** Told apart from another canonical field read from the same Tryton field. */
  suffix?: string;
}
const PARTY_SOURCES: Record<string, Source> = {
  name: { model: 'party.party', field: 'name', written: true },
  address: { model: 'party.address', field: 'street', suffix: ' 1' },
  address2: { model: 'party.address', field: 'street', suffix: ' 2' },
  postCode: { model: 'party.address', field: 'postal_code' },
  city: { model: 'party.address', field: 'city' },
  county: { model: 'party.address', field: 'subdivision' },
  countryCode: { model: 'party.address', field: 'country' },
  phone: { model: 'party.party', field: 'phone' },
  fax: { model: 'party.party', field: 'fax' },
  email: { model: 'party.party', field: 'email' },
  homePage: { model: 'party.party', field: 'website' },
  vatRegistrationNo: { model: 'party.party', field: 'tax_identifier' },
  languageCode: { model: 'party.party', field: 'lang', written: true },
};
const SOURCES: Record<AccountKind, Record<string, Source>> = {
  customer: PARTY_SOURCES,
  vendor: PARTY_SOURCES,
  // The name (the first owner's) and the numbers come from related lists: no one field to take a label from.
  bankAccount: {
    swiftCode: { model: 'bank', field: 'bic' },
    currencyCode: { model: 'bank.account', field: 'currency', written: true },
  },
};

/**
 * Fields never offered as custom: the id and display name every model has, and `active`, which
 * would hide the record from the connector (an inactive record is read as deleted).
 */
const NOT_OFFERED: ReadonlySet<string> = new Set(['id', 'rec_name', 'active']);
/** Offered read-only: a party's code is its record's number (create's `extra.number`); writing it renumbers the party. */
const READ_ONLY: Partial<Record<string, ReadonlySet<string>>> = { 'party.party': new Set(['code']) };

/** A Tryton type that may be offered as a custom field. */
const isOffered = (type: string): type is OfferedType => Object.hasOwn(OFFERED_TYPES, type);

/**
 * The record model's fields that a mapping may name as `custom.<field>`, by Tryton name: scalar
 * fields (OFFERED_TYPES) that no canonical field is read from; relations, timestamps and others are not.
 */
export function customFieldsOf(kind: AccountKind, fields: ReadonlyMap<string, TrytonField>): Map<string, TrytonField> {
  const model = RECORD_MODEL[kind];
  const carried = new Set(
    Object.values(SOURCES[kind])
      .filter((source) => source.model === model)
      .map((source) => source.field),
  );
  const offered = new Map<string, TrytonField>();
  for (const field of fields.values()) {
    if (!isOffered(field.type) || NOT_OFFERED.has(field.name) || carried.has(field.name)) continue;
    offered.set(field.name, READ_ONLY[model]?.has(field.name) ? { ...field, writable: false } : field);
  }
  return offered;
}

/**
 * The fields of a kind as a mapping may name them: the canonical `fields` with the label (and,
 * where it is the field written, the writability) of the Tryton field each is read from, then
 * the custom fields. `models` holds the answers of the DESCRIBED_MODELS.
 */
export function describeAccountFields(
  kind: AccountKind,
  fields: readonly string[],
  models: ReadonlyMap<string, ReadonlyMap<string, TrytonField>>,
): FieldDescription[] {
  const canonical = fields.map((name): FieldDescription => {
    const source = SOURCES[kind][name];
    const field = source && models.get(source.model)?.get(source.field);
    return {
      name,
      label: field ? `${field.label}${source.suffix ?? ''}` : name,
      type: 'text',
      writable: source?.written && field ? field.writable : true,
      custom: false,
    };
  });
  const own = models.get(RECORD_MODEL[kind]) ?? new Map<string, TrytonField>();
  const custom = [...customFieldsOf(kind, own).values()].map((field): FieldDescription => {
    const options = field.selection?.filter(([key]) => key !== null && key !== '');
    return {
      name: customField(field.name),
      label: field.label,
      type: isOffered(field.type) ? OFFERED_TYPES[field.type] : 'text',
      writable: field.writable,
      ...(options && { options: options.map(([key, label]) => ({ value: String(key), label })) }),
      custom: true,
    };
  });
  return [...canonical, ...custom];
}

const textValue = z.string().nullable();
const numberValue = z.number().nullable();
/** How a value of each offered type comes in a `read`: numerics as `{"__class__": "Decimal"}`, booleans as 1/0 from SQLite. */
const READ_SCHEMAS: Record<OfferedType, z.ZodType<FieldValue>> = {
  char: textValue.transform(normalizeValue),
  text: textValue.transform(normalizeValue),
  selection: z.union([z.string(), z.number(), z.null()]).transform(normalizeValue),
  // trytond reads None as False (fields/boolean.py), so an unset flag is 'false', never null.
  boolean: z.union([z.boolean(), z.literal(0), z.literal(1), z.null()]).transform((flag) => String(Boolean(flag))),
  integer: numberValue.transform(normalizeValue),
  float: numberValue.transform(normalizeValue),
  numeric: z
    .union([z.object({ __class__: z.literal('Decimal'), decimal: z.string() }), z.number(), z.null()])
    .transform((value) => normalizeValue(typeof value === 'object' && value !== null ? value.decimal : value)),
  date: dateSchema.nullable().transform(normalizeValue),
};

/** A custom field's value in a read record, as text; a value that is none of its type is refused. */
export function readCustomValue(kind: AccountKind, field: TrytonField, value: unknown): FieldValue {
  if (!isOffered(field.type)) return normalizeValue(value);
  const parsed = READ_SCHEMAS[field.type].safeParse(value ?? null);
  if (parsed.success) return parsed.data;
  throw new InvalidResponseError(
    `tryton: ${kind} field 'custom.${field.name}' (${field.type}) read as ${JSON.stringify(value)}`,
  );
}

/** The values of the `mapped` custom fields in a row `search_read` answered. */
export function readCustomValues(
  kind: AccountKind,
  mapped: readonly TrytonField[],
  row: Readonly<Record<string, unknown>>,
): Record<string, FieldValue> {
  return Object.fromEntries(mapped.map((field) => [field.name, readCustomValue(kind, field, row[field.name])]));
}

/**
 * The `write` values of the `custom.<field>` entries of `fields`, typed; a field that is not
 * among the `offered` (customFieldsOf) or is read-only is refused, naming it.
 */
export function customWrites(
  kind: AccountKind,
  offered: ReadonlyMap<string, TrytonField>,
  fields: Record<string, FieldValue>,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    const custom = customFieldName(name);
    if (custom === null) continue;
    const field = offered.get(custom);
    if (field === undefined) throw new InvalidRequestError(`tryton: ${kind} has no field '${name}'`);
    if (!field.writable) throw new InvalidRequestError(`tryton: ${kind} field '${name}' is read-only in Tryton`);
    values[custom] = writeCustomValue(kind, field, value);
  }
  return values;
}

/** Whether `fields` names a custom field. */
export const namesCustomField = (fields: Record<string, FieldValue>): boolean =>
  Object.keys(fields).some((name) => customFieldName(name) !== null);

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The date `text` (YYYY-MM-DD) names as trytond's JSON takes it, or null when it is no day of the calendar. */
function trytonDate(text: string) {
  const match = DATE.exec(text);
  if (!match) return null;
  const [year = 0, month = 0, day = 0] = match.slice(1).map(Number);
  const check = new Date(Date.UTC(year, month - 1, day));
  const real = check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day;
  return real ? { __class__: 'date', year, month, day } : null;
}

/**
 * The JSON-RPC value that writes `value` to a custom field: text as it is, numbers, flags and
 * dates typed, a static selection's key; null empties the field (a flag: false). Text that is no
 * value of the type is refused naming the field.
 */
export function writeCustomValue(kind: AccountKind, field: TrytonField, value: FieldValue): unknown {
  const named = `tryton: ${kind} field 'custom.${field.name}'`;
  const text = normalizeValue(value);
  const refuse = (takes: string) => new InvalidRequestError(`${named} takes ${takes}, not '${text ?? ''}'`);
  switch (field.type) {
    case 'char':
    case 'text':
      return text;
    case 'boolean':
      if (text === null) return false;
      if (text.toLowerCase() === 'true' || text.toLowerCase() === 'false') return text.toLowerCase() === 'true';
      throw refuse('true or false');
    case 'integer':
      if (text === null) return null;
      if (INTEGER.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
      throw refuse('a whole number');
    case 'float':
      if (text === null) return null;
      if (FLOAT.test(text) && Number.isFinite(Number(text))) return Number(text);
      throw refuse('a number');
    case 'numeric':
      if (text === null) return null;
      // A Decimal travels as text, so no digit is lost to a float (trytond/protocols/jsonrpc.py).
      if (DECIMAL.test(text)) return { __class__: 'Decimal', decimal: text };
      throw refuse('a decimal number');
    case 'date': {
      if (text === null) return null;
      const date = trytonDate(text);
      if (date === null) throw refuse('a date (YYYY-MM-DD)');
      return date;
    }
    case 'selection':
      return selectionKey(field, text, refuse);
    default:
      throw new InvalidRequestError(`${named} is a ${field.type} field, which the connector does not write`);
  }
}

/** The selection key written for `text`: one of a static list's keys (null: its empty choice), any text for a computed one. */
function selectionKey(field: TrytonField, text: FieldValue, refuse: (takes: string) => Error): SelectionKey {
  if (!field.selection) return text;
  const keys = field.selection.map(([key]) => key);
  if (text === null) {
    const empty = keys.find((key) => key === null || key === '');
    if (empty !== undefined) return empty;
  } else {
    const key = keys.find((candidate) => candidate !== null && String(candidate) === text);
    if (key !== undefined) return key;
  }
  const choices = keys.filter((key) => key !== null && key !== '').map((key) => `'${String(key)}'`);
  throw refuse(`one of ${choices.join(', ')}`);
}
