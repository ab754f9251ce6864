/**
 * Value maps: how a mapped field's value is spelled on each side. A mapping may name a built-in
 * transform (trim, upper, lower, country name <-> ISO code, phone to E.164) and/or a table of
 * CRM values to accounting values, with a rule for a value that has no entry. Each is a pair of
 * pure functions, one per direction, built so that a value that went across once comes back as
 * itself: tandem never sees its own translation as a new change (no ping-pong).
 *
 * The CRM's spelling is the one the planner compares in (the contact is the hub); an account's
 * value is brought into it before any comparison and taken out of it for every write.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { FieldValue, TransformSpec, UnmappedRule, ValueMap } from './model';

export type { TransformSpec, UnmappedRule, ValueMap } from './model';

const translations = new WeakMap<ValueMap, Translation>();

/** The translation of a mapping's value map, built once per mapping. */
export function translationOf(map: ValueMap): Translation {
  let built = translations.get(map);
  if (!built) translations.set(map, (built = translation(map)));
  return built;
}

/**
 * Whether a contact's and an account's values say the same under a mapping's value map: true or
 * false, or `held` when the account's value has no spelling for the CRM (its rule holds it).
 */
export function inStep(map: ValueMap, contactValue: FieldValue, accountValue: FieldValue): boolean | 'held' {
  const back = translationOf(map).toCrm(accountValue);
  if ('held' in back) return 'held';
  return back.value === contactValue;
}

/** The value written to an account for a contact value: translated, or as it is where the map holds it. */
export function accountSpelling(map: ValueMap, contactValue: FieldValue): FieldValue {
  return translationOf(map).toAccounting(contactValue).value;
}

/** The value written to a contact for an account value: translated, or as it is where the map holds it. */
export function crmSpelling(map: ValueMap, accountValue: FieldValue): FieldValue {
  return translationOf(map).toCrm(accountValue).value;
}

/** A value taken across, or held back for review because it has no translation. */
export type Translated = { value: FieldValue } | { held: true; value: FieldValue };

/** One direction of a value map. */
export type Translate = (value: FieldValue) => Translated;

/** The two directions of a value map. */
export interface Translation {
  toAccounting: Translate;
  toCrm: Translate;
}

/** The identity: a mapping without a value map. */
export const AS_IS: Translation = { toAccounting: (value) => ({ value }), toCrm: (value) => ({ value }) };

/** A one-way function of a transform: a value, or undefined when it cannot read the input. */
type Step = (value: string) => string | undefined;

/** Builds both directions of a value map. Throws TransformError for a spec it cannot build. */
export function translation(map: ValueMap | undefined): Translation {
  if (!map || (map.transform === undefined && map.values === undefined)) return AS_IS;
  const rule = map.unmapped ?? 'keep';
  const [transformToAccounting, transformToCrm] = map.transform ? steps(map.transform) : [undefined, undefined];
  const table = map.values ? tableSteps(map.values) : undefined;
  // To accounting: the table on the CRM's spelling, then the transform; back, the reverse.
  const toAccounting = chain([table?.[0], transformToAccounting]);
  const toCrm = chain([transformToCrm, table?.[1]]);
  return { toAccounting: apply(toAccounting, rule), toCrm: apply(toCrm, rule) };
}

/** A transform spec that cannot be built: an unknown region or language. */
export class TransformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransformError';
  }
}

function apply(step: Step, rule: UnmappedRule): Translate {
  return (value) => {
    if (value === null) return { value: null };
    const translated = step(value);
    if (translated !== undefined) return { value: translated === '' ? null : translated };
    if (rule === 'blank') return { value: null };
    if (rule === 'hold') return { held: true, value };
    return { value };
  };
}

/** Runs steps in order; undefined as soon as one cannot read its input. */
function chain(parts: ReadonlyArray<Step | undefined>): Step {
  const present = parts.filter((part): part is Step => part !== undefined);
  return (value) => {
    let current: string | undefined = value;
    for (const step of present) {
      if (current === undefined) return undefined;
      current = step(current);
    }
    return current;
  };
}

function steps(spec: TransformSpec): [Step, Step] {
  switch (spec.name) {
    case 'trim':
      return [(value) => value.trim(), (value) => value.trim()];
    case 'upper':
      return [(value) => value.toUpperCase(), (value) => value.toUpperCase()];
    case 'lower':
      return [(value) => value.toLowerCase(), (value) => value.toLowerCase()];
    case 'country':
      return countrySteps(spec.crm, spec.accounting, spec.language);
    case 'phone-e164': {
      const region = spec.region.toUpperCase();
      if (!/^[A-Z]{2}$/.test(region) || !countries('en').codeOf.has(region.toLowerCase()))
        throw new TransformError(`'${spec.region}' is not an ISO 3166 region code`);
      const e164: Step = (value) => {
        const number = parsePhoneNumberFromString(value, region as CountryCode);
        return number?.isValid() ? number.number : undefined;
      };
      return [e164, e164];
    }
  }
}

/**
 * Table lookups both ways. A value is found as it is, or else by its trimmed, case-folded form;
 * back, the first CRM value of an accounting value is taken.
 */
function tableSteps(values: Readonly<Record<string, string>>): [Step, Step] {
  const forward = new Map<string, string>();
  const backward = new Map<string, string>();
  for (const [crm, accounting] of Object.entries(values)) {
    forward.set(crm, accounting);
    if (!forward.has(fold(crm))) forward.set(fold(crm), accounting);
    if (!backward.has(accounting)) backward.set(accounting, crm);
    if (!backward.has(fold(accounting))) backward.set(fold(accounting), crm);
  }
  const look =
    (table: Map<string, string>): Step =>
    (value) =>
      table.get(value) ?? table.get(fold(value));
  return [look(forward), look(backward)];
}

const fold = (value: string) => value.trim().toLocaleLowerCase('en');

/** Regions that are not countries of ISO 3166-1, which Intl still names. */
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'XA', 'XB', 'ZZ']);

interface CountryNames {
  nameOf: Map<string, string>;
  /** Folded name (or code) -> code. */
  codeOf: Map<string, string>;
}

const countryNamesByLanguage = new Map<string, CountryNames>();

/** The country names of a language, from the runtime's ICU data, both ways. */
function countries(language: string): CountryNames {
  const known = countryNamesByLanguage.get(language);
  if (known) return known;
  let display: Intl.DisplayNames;
  try {
    display = new Intl.DisplayNames([language], { type: 'region', fallback: 'none' });
  } catch {
    throw new TransformError(`'${language}' is not a language tag`);
  }
  const names: CountryNames = { nameOf: new Map(), codeOf: new Map() };
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  for (const first of letters)
    for (const second of letters) {
      const code = first + second;
      if (NOT_COUNTRIES.has(code)) continue;
      // Withdrawn codes (DD, UK, YU) are read as the current ones ICU takes them for, never written.
      const current = /^und-([A-Z]{2})$/.exec(Intl.getCanonicalLocales(`und-${code}`)[0] ?? '')?.[1];
      if (current !== code) {
        if (current !== undefined) names.codeOf.set(fold(code), current);
        continue;
      }
      const name = display.of(code);
      if (name === undefined || name === code) continue;
      names.nameOf.set(code, name);
      if (!names.codeOf.has(fold(name))) names.codeOf.set(fold(name), code);
      names.codeOf.set(fold(code), code);
    }
  countryNamesByLanguage.set(language, names);
  return names;
}

function countrySteps(crm: 'name' | 'code', accounting: 'name' | 'code', language: string): [Step, Step] {
  const names = countries(language);
  const toCode: Step = (value) => names.codeOf.get(fold(value));
  const toName: Step = (value) => {
    const code = toCode(value);
    return code === undefined ? undefined : names.nameOf.get(code);
  };
  const to = (side: 'name' | 'code') => (side === 'code' ? toCode : toName);
  return [to(accounting), to(crm)];
}
