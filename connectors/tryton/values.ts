/**
 * Tryton's JSON-RPC value encoding: datetimes and dates travel as `{"__class__": "datetime", ...}`
 * objects (trytond/protocols/jsonrpc.py). trytond stores timestamps as naive UTC.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../kit/errors';

/** A `date` as trytond encodes it. */
export const trytonDateSchema = z.object({
  __class__: z.literal('date'),
  year: z.number().int(),
  month: z.number().int(),
  day: z.number().int(),
});

/** A `datetime` as trytond encodes it. */
export const trytonDatetimeSchema = trytonDateSchema.extend({
  __class__: z.literal('datetime'),
  hour: z.number().int(),
  minute: z.number().int(),
  second: z.number().int(),
  microsecond: z.number().int().default(0),
});
export type TrytonDatetime = z.infer<typeof trytonDatetimeSchema>;

const pad = (value: number, length = 2) => String(value).padStart(length, '0');

/** A trytond date as `YYYY-MM-DD`. */
export function isoDateFromTryton(value: z.infer<typeof trytonDateSchema>): string {
  return `${pad(value.year, 4)}-${pad(value.month)}-${pad(value.day)}`;
}

/**
 * A trytond datetime as ISO 8601 in UTC with microseconds, e.g. `2024-05-02T10:00:00.123456Z`.
 * Microseconds are kept: records written in one second must still order, and the string sorts
 * the way the time does.
 */
export function isoFromTryton(value: TrytonDatetime): string {
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
