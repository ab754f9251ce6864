/**
 * Finding records by what people know of them (name, e-mail, number, VAT registration no.) for
 * the pickers of the console and the CLI. A provider's search is only as precise as its query
 * language (HubSpot matches tokens, Business Central substrings, Xero and Tryton their own), so
 * the kit asks for more than it shows, keeps the records every word of the search occurs in, and
 * ranks them the same way for every connector.
 */
import type { SyncRecord } from '../../src/core/model';
import { InvalidRequestError } from './errors';

/** The most results one search answers. */
export const SEARCH_MAX_RESULTS = 25;
/** The longest search text. */
export const SEARCH_MAX_LENGTH = 100;
/** How many records the kit asks a provider for per result it shows (the others are filtered out). */
export const SEARCH_OVERFETCH = 4;

/** The fields a search looks in (besides a record's id and an account's number). */
export const SEARCHED_FIELDS = ['name', 'email', 'vatRegistrationNo', 'bankAccountNo', 'iban'] as const;

/** Lower case without accents and with one space between words: how texts are compared. */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** A search text as the kit takes it: trimmed, 1 to SEARCH_MAX_LENGTH characters, no control characters. */
export function searchText(connector: string, text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') throw new InvalidRequestError(`${connector}: a search needs some text`);
  if (trimmed.length > SEARCH_MAX_LENGTH)
    throw new InvalidRequestError(`${connector}: a search is at most ${SEARCH_MAX_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  if (/[\u0000-\u001f\u007f]/.test(trimmed))
    throw new InvalidRequestError(`${connector}: a search must not contain control characters`);
  return trimmed;
}

/** The words of a search, folded; a provider that matches one word at a time searches the longest. */
export function searchWords(text: string): string[] {
  return foldText(text).split(' ').filter(Boolean);
}

/** The longest word of a search (the most selective), as typed. */
export function longestWord(text: string): string {
  return text
    .trim()
    .split(/\s+/)
    .reduce((best, word) => (word.length > best.length ? word : best), '');
}

const valuesOf = (record: SyncRecord): string[] => {
  const fields: Partial<Record<string, string | null>> = record.fields;
  const values = SEARCHED_FIELDS.map((field) => fields[field] ?? null);
  const number = record.entity === 'contact' ? null : record.number;
  return [record.id, number, ...values].filter((value): value is string => typeof value === 'string' && value !== '');
};

/** How well a record answers a search: 0 an exact id, number, e-mail or VAT no., 1 a name that starts with it, 2 every word somewhere; null not at all. */
export function searchRank(record: SyncRecord, text: string): number | null {
  const folded = foldText(text);
  const values = valuesOf(record).map(foldText);
  const compact = (value: string) => value.replace(/[\s.-]/g, '');
  if (values.some((value) => value === folded || compact(value) === compact(folded))) return 0;
  const name = foldText(record.fields.name ?? '');
  if (name.startsWith(folded)) return 1;
  const haystack = values.join(' ');
  return searchWords(text).every((word) => haystack.includes(word)) ? 2 : null;
}

/** The records a search found, filtered to those it fits, best first (then by name), each once, at most `limit`. */
export function rankSearch(records: readonly SyncRecord[], text: string, limit: number): SyncRecord[] {
  const seen = new Set<string>();
  const ranked: { record: SyncRecord; rank: number }[] = [];
  for (const record of records) {
    if (seen.has(record.id)) continue;
    seen.add(record.id);
    const rank = searchRank(record, text);
    if (rank !== null) ranked.push({ record, rank });
  }
  const nameOf = (record: SyncRecord) => foldText(record.fields.name ?? '');
  ranked.sort((a, b) => a.rank - b.rank || nameOf(a.record).localeCompare(nameOf(b.record)));
  return ranked.slice(0, limit).map(({ record }) => record);
}
