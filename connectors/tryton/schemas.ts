/**
 * trytond 6.0's JSON-RPC values and the records it answers to `search_read`, only the fields asked
 * for. Datetimes and dates travel as `{"__class__": "datetime", ...}` (trytond/protocols/jsonrpc.py),
 * timestamps as naive UTC. Dotted fields come back as an object (`country.code` as `country.`) or,
 * for a One2Many or Many2Many, a list (`addresses.city` as `addresses.`): one call reads a party
 * with its children.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../kit/errors';

/** A `date` as trytond encodes it. */
const trytonDateSchema = z.object({
  __class__: z.literal('date'),
  year: z.number().int(),
  month: z.number().int(),
  day: z.number().int(),
});

/** A `datetime` as trytond encodes it. */
const trytonDatetimeSchema = trytonDateSchema.extend({
  __class__: z.literal('datetime'),
  hour: z.number().int(),
  minute: z.number().int(),
  second: z.number().int(),
  microsecond: z.number().int().default(0),
});
type TrytonDatetime = z.infer<typeof trytonDatetimeSchema>;

const pad = (value: number, length = 2) => String(value).padStart(length, '0');

/**
 * A trytond datetime as ISO 8601 in UTC with microseconds, e.g. `2024-05-02T10:00:00.123456Z`.
 * Microseconds are kept: records written in one second must still order, and the string sorts
 * the way the time does.
 */
function isoFromTryton(value: TrytonDatetime): string {
  return `${pad(value.year, 4)}-${pad(value.month)}-${pad(value.day)}T${pad(value.hour)}:${pad(value.minute)}:${pad(value.second)}.${pad(value.microsecond, 6)}Z`;
}

const ISO_MICROS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;

/** The trytond datetime an ISO 8601 UTC string (as isoFromTryton writes it) stands for. */
export function trytonFromIso(iso: string): TrytonDatetime {
  const match = ISO_MICROS.exec(iso);
  if (match === null) throw new InvalidRequestError(`tryton: '${iso}' is not a UTC timestamp`);
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match.slice(1, 7).map(Number);
  const microsecond = Number((match[7] ?? '').padEnd(6, '0'));
  return { __class__: 'datetime', year, month, day, hour, minute, second, microsecond };
}

/** Moves an ISO 8601 UTC timestamp (microsecond precision) back by `ms` milliseconds. */
export function isoMinus(iso: string, ms: number): string {
  const shifted = new Date(Date.parse(iso) - ms).toISOString().slice(0, 23);
  return `${shifted}${pad(trytonFromIso(iso).microsecond % 1000, 3)}Z`;
}

const text = z.string().nullish();
/** A datetime as ISO 8601 UTC with microseconds, a date as `YYYY-MM-DD`. */
const datetime = trytonDatetimeSchema.transform(isoFromTryton);
export const dateSchema = trytonDateSchema.transform(
  (value) => `${pad(value.year, 4)}-${pad(value.month)}-${pad(value.day)}`,
);
const stamps = { id: z.number().int(), create_date: datetime, write_date: datetime.nullish() };
const related = <T extends z.ZodRawShape>(shape: T) => z.object({ id: z.number().int(), ...shape }).nullish();
const children = <T extends z.ZodRawShape>(shape: T) => z.array(z.object({ ...stamps, ...shape }));

/** The fields to ask for: `fields`, and those of `children` with their stamps (`addresses.city`, ...). */
function fieldList(fields: string[], nested: Record<string, string[]>): string[] {
  const childFields = Object.entries(nested).flatMap(([child, names]) =>
    [...names, 'create_date', 'write_date'].map((name) => `${child}.${name}`),
  );
  return [...fields, '_timestamp', 'create_date', 'write_date', ...childFields];
}

/**
 * party.party with its active contact mechanisms (phone, fax, email, website, ...), addresses
 * (`street` is a Text field, one line per address line; 6.0 calls the zip `postal_code`) and
 * identifiers (eu_vat, de_vat, ... and other codes), each in sequence order.
 */
export const partySchema = z.object({
  ...stamps,
  name: text,
  code: text,
  _timestamp: z.string().nullish(),
  'lang.': related({ code: z.string() }),
  'contact_mechanisms.': children({ type: z.string(), value: text }),
  'addresses.': children({
    street: text,
    postal_code: text,
    city: text,
    'country.': related({ code: z.string() }),
    'subdivision.': related({ name: z.string(), code: z.string() }),
  }),
  'identifiers.': children({ type: text, code: z.string() }),
});
export type Party = z.infer<typeof partySchema>;
export const PARTY_FIELDS = fieldList(['name', 'code', 'lang.code'], {
  contact_mechanisms: ['type', 'value'],
  addresses: ['street', 'postal_code', 'city', 'country.code', 'subdivision.name', 'subdivision.code'],
  identifiers: ['type', 'code'],
});

/** bank.account with its numbers (type `iban` or `other`; `number_compact` is the IBAN without spaces) and owner parties. */
export const bankAccountSchema = z.object({
  ...stamps,
  _timestamp: z.string().nullish(),
  'currency.': related({ code: z.string() }),
  'bank.': related({ bic: z.string().nullish() }),
  'numbers.': children({ type: z.string(), number: text, number_compact: text }),
  'owners.': children({ name: text }),
});
export type BankAccount = z.infer<typeof bankAccountSchema>;
export const BANK_ACCOUNT_FIELDS = fieldList(['currency.code', 'bank.bic'], {
  numbers: ['type', 'number', 'number_compact'],
  owners: ['name'],
});

/** sale.sale and purchase.purchase: the fields a started document reports. */
export const documentSchema = z.object({
  id: z.number().int(),
  number: text,
  reference: text,
  state: z.string(),
  party: z.number().int(),
  sale_date: dateSchema.nullish(),
  purchase_date: dateSchema.nullish(),
});
