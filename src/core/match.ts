/**
 * Matching: pairs unlinked contacts with unlinked accounts by configurable rules (VAT
 * registration no., e-mail, e-mail domain, normalized name plus post code). Pure: the caller
 * reads the records and links the pairs. A pair is proposed for linking only when it is
 * unambiguous from both ends; every tie goes to a review list and is never linked automatically.
 */
import type { AccountKind, FieldValue } from './model';

/** The rules a pair can match by. */
export type MatchRuleName = 'vatRegistrationNo' | 'email' | 'emailDomain' | 'namePostCode';

/** A rule and the score a pair gets when it matches. */
export interface MatchRule {
  rule: MatchRuleName;
  score: number;
}

/** The matching rules used when the config names none: the strongest evidence scores highest. */
export const DEFAULT_MATCH_RULES: MatchRule[] = [
  { rule: 'vatRegistrationNo', score: 100 },
  { rule: 'email', score: 90 },
  { rule: 'namePostCode', score: 80 },
  { rule: 'emailDomain', score: 60 },
];

/** The fields matching reads, in canonical names. */
export type MatchFields = Partial<Record<'name' | 'postCode' | 'email' | 'vatRegistrationNo', FieldValue>>;

/** An unlinked company contact. */
export interface MatchContact {
  id: string;
  fields: MatchFields;
}

/** An unlinked account. */
export interface MatchAccount {
  kind: AccountKind;
  id: string;
  fields: MatchFields;
}

/** A scored pair. */
export interface ScoredPair {
  contactId: string;
  accountKind: AccountKind;
  accountId: string;
  score: number;
  rule: MatchRuleName;
}

/** Unambiguous pairs, and the ties that need a person to decide. */
export interface MatchPlan {
  pairs: ScoredPair[];
  review: Array<{ reason: string; candidates: ScoredPair[] }>;
}

// Free-mail providers: sharing one says nothing about being the same company.
const FREE_MAIL = new Set([
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'yahoo.com',
  'icloud.com',
  'me.com',
  'aol.com',
  'web.de',
  't-online.de',
  'proton.me',
  'protonmail.com',
]);
const FREE_MAIL_PREFIXES = ['gmx.', 'yahoo.', 'hotmail.', 'outlook.'];

// Legal forms dropped from the end of a name (after dots and slashes are removed: B.V. -> bv, A/S -> as).
const LEGAL_FORMS = new Set([
  'bv',
  'nv',
  'bvba',
  'vof',
  'gmbh',
  'ag',
  'kg',
  'ohg',
  'ug',
  'ev',
  'ltd',
  'limited',
  'plc',
  'llp',
  'ab',
  'sarl',
  'sa',
  'sas',
  'as',
  'aps',
  'asa',
  'oy',
  'oyj',
  'inc',
  'incorporated',
  'llc',
  'corp',
  'corporation',
  'co',
  'company',
  'spa',
  'srl',
  'sl',
  'kft',
  'sro',
  'spzoo',
  'zoo',
  'sp',
]);

/** A name for comparison: lower case, no accents or punctuation, no legal-form suffix. */
export function normalizeName(name: FieldValue | undefined): string | null {
  if (!name) return null;
  const plain = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[./]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
  const tokens = plain.split(' ').filter((token) => token !== '');
  while (tokens.length > 1 && LEGAL_FORMS.has(tokens[tokens.length - 1] as string)) tokens.pop();
  return tokens.length === 0 ? null : tokens.join(' ');
}

/** A post code for comparison: upper case, no spaces or dashes. */
export function normalizePostCode(postCode: FieldValue | undefined): string | null {
  const plain = postCode?.toUpperCase().replace(/[\s-]+/g, '') ?? '';
  return plain === '' ? null : plain;
}

/** A VAT registration no. split into an optional country prefix and the number itself. */
export function normalizeVat(vat: FieldValue | undefined): { country: string | null; number: string } | null {
  const plain = vat?.toUpperCase().replace(/[^A-Z0-9]/g, '') ?? '';
  if (plain === '') return null;
  const prefixed = /^([A-Z]{2})(\d.*)$/.exec(plain);
  return prefixed
    ? { country: prefixed[1] as string, number: prefixed[2] as string }
    : { country: null, number: plain };
}

/** An e-mail address for comparison. */
export function normalizeEmail(email: FieldValue | undefined): string | null {
  const plain = email?.trim().toLowerCase() ?? '';
  return /^[^@\s]+@[^@\s]+$/.test(plain) ? plain : null;
}

/** The company domain of an e-mail address; null for free-mail providers. */
export function companyDomain(email: FieldValue | undefined): string | null {
  const address = normalizeEmail(email);
  const domain = address?.split('@')[1] ?? null;
  if (domain === null || FREE_MAIL.has(domain) || FREE_MAIL_PREFIXES.some((prefix) => domain.startsWith(prefix)))
    return null;
  return domain;
}

/** A record's match keys: its fields normalized once, for comparing and for indexing. */
export interface MatchKeys {
  vat: { country: string | null; number: string } | null;
  email: string | null;
  /** The company domain of the e-mail address (null for free mail). */
  domain: string | null;
  /** Normalized name and post code together, or null when either is missing. */
  namePostCode: string | null;
}

/** Normalizes the fields a rule compares, once per record. */
export function matchKeys(fields: MatchFields): MatchKeys {
  const name = normalizeName(fields.name);
  const postCode = normalizePostCode(fields.postCode);
  return {
    vat: normalizeVat(fields.vatRegistrationNo),
    email: normalizeEmail(fields.email),
    domain: companyDomain(fields.email),
    // Neither part can hold a line feed, so the pair reads back unambiguously.
    namePostCode: name !== null && postCode !== null ? `${name}\n${postCode}` : null,
  };
}

/** True when any rule could compare the record: without a key, it cannot be matched. */
export function hasMatchKey(keys: MatchKeys): boolean {
  return keys.vat !== null || keys.email !== null || keys.domain !== null || keys.namePostCode !== null;
}

/** True when two records' keys match by one rule. */
export function keysMatch(rule: MatchRuleName, a: MatchKeys, b: MatchKeys): boolean {
  switch (rule) {
    case 'vatRegistrationNo': {
      const { vat: left } = a;
      const { vat: right } = b;
      if (!left || !right || left.number !== right.number) return false;
      // One side may leave out the country prefix; two different prefixes are two registrations.
      return left.country === null || right.country === null || left.country === right.country;
    }
    case 'email':
      return a.email !== null && a.email === b.email;
    case 'emailDomain':
      return a.domain !== null && a.domain === b.domain;
    case 'namePostCode':
      return a.namePostCode !== null && a.namePostCode === b.namePostCode;
  }
}

/** True when two records match by one rule. */
export function matchesRule(rule: MatchRuleName, a: MatchFields, b: MatchFields): boolean {
  return keysMatch(rule, matchKeys(a), matchKeys(b));
}

/** The best rule two records' keys match by, or null. */
export function scoreKeys(
  contact: MatchKeys,
  account: MatchKeys,
  rules: readonly MatchRule[],
): { score: number; rule: MatchRuleName } | null {
  let best: { score: number; rule: MatchRuleName } | null = null;
  for (const { rule, score } of rules) {
    if ((best === null || score > best.score) && keysMatch(rule, contact, account)) best = { score, rule };
  }
  return best;
}

/** The best rule two records match by, or null. */
export function scorePair(
  contact: MatchFields,
  account: MatchFields,
  rules: readonly MatchRule[],
): { score: number; rule: MatchRuleName } | null {
  return scoreKeys(matchKeys(contact), matchKeys(account), rules);
}

/** A contact by its keys only: what matching keeps of a record. */
export interface KeyedContact {
  id: string;
  keys: MatchKeys;
}

/** An account by its keys only. */
export interface KeyedAccount {
  kind: AccountKind;
  id: string;
  keys: MatchKeys;
}

/** The key a rule indexes a record by: pairs can only match by the rule when they share it. */
function indexKey(rule: MatchRuleName, keys: MatchKeys): string | null {
  switch (rule) {
    case 'vatRegistrationNo':
      // The number alone: the country prefixes are compared when the pair is scored.
      return keys.vat?.number ?? null;
    case 'email':
      return keys.email;
    case 'emailDomain':
      return keys.domain;
    case 'namePostCode':
      return keys.namePostCode;
  }
}

/** The contacts sharing each rule's key, by position in the input. */
function indexContacts(contacts: readonly KeyedContact[], rules: readonly MatchRule[]) {
  const byRule = new Map<MatchRuleName, Map<string, number[]>>();
  for (const { rule } of rules) {
    if (byRule.has(rule)) continue;
    const index = new Map<string, number[]>();
    contacts.forEach((contact, position) => {
      const key = indexKey(rule, contact.keys);
      if (key === null) return;
      const list = index.get(key);
      if (list) list.push(position);
      else index.set(key, [position]);
    });
    byRule.set(rule, index);
  }
  return byRule;
}

/**
 * Scores the pairs that share at least one rule's key, in the order all pairs would be visited
 * (accounts, then contacts, as given), so the plan does not depend on how it was found.
 */
function scoreSharedKeys(
  contacts: readonly KeyedContact[],
  accounts: readonly KeyedAccount[],
  rules: readonly MatchRule[],
): ScoredPair[] {
  const index = indexContacts(contacts, rules);
  const scored: ScoredPair[] = [];
  for (const account of accounts) {
    const candidates = new Set<number>();
    for (const [rule, byKey] of index) {
      const key = indexKey(rule, account.keys);
      if (key !== null) for (const position of byKey.get(key) ?? []) candidates.add(position);
    }
    for (const position of [...candidates].sort((a, b) => a - b)) {
      const contact = contacts[position] as KeyedContact;
      const match = scoreKeys(contact.keys, account.keys, rules);
      if (match) scored.push({ contactId: contact.id, accountKind: account.kind, accountId: account.id, ...match });
    }
  }
  return scored;
}

/** A plan of normalized records, with the records that had at least one scored candidate. */
export interface KeyedMatchPlan extends MatchPlan {
  candidates: { contacts: Set<string>; accounts: Set<string> };
}

/** Splits records that are already normalized into links and reviews; see planMatches. */
export function planKeyedMatches(input: {
  contacts: readonly KeyedContact[];
  accounts: readonly KeyedAccount[];
  rules: readonly MatchRule[];
  minScore: number;
}): KeyedMatchPlan {
  const rules = input.rules.filter((rule) => rule.score >= input.minScore);
  const scored = scoreSharedKeys(input.contacts, input.accounts, rules);
  return {
    ...splitScored(scored),
    candidates: {
      contacts: new Set(scored.map((pair) => pair.contactId)),
      accounts: new Set(scored.map((pair) => pair.accountId)),
    },
  };
}

/**
 * Pairs contacts with accounts of each kind and splits them into links and reviews. Each record
 * is normalized once and only pairs sharing a rule's key are scored, so the work grows with the
 * records and their candidates, not with every contact times every account.
 */
export function planMatches(input: {
  contacts: readonly MatchContact[];
  accounts: readonly MatchAccount[];
  rules: readonly MatchRule[];
  minScore: number;
}): MatchPlan {
  const { pairs, review } = planKeyedMatches({
    contacts: input.contacts.map((contact) => ({ id: contact.id, keys: matchKeys(contact.fields) })),
    accounts: input.accounts.map((account) => ({
      kind: account.kind,
      id: account.id,
      keys: matchKeys(account.fields),
    })),
    rules: input.rules,
    minScore: input.minScore,
  });
  return { pairs, review };
}

/** The pairs unambiguous from both ends, and every tie for review. */
function splitScored(scored: readonly ScoredPair[]): MatchPlan {
  const topOf = (key: (pair: ScoredPair) => string) => {
    const tops = new Map<string, ScoredPair[]>();
    for (const pair of scored) {
      const current = tops.get(key(pair));
      if (!current || (current[0] as ScoredPair).score < pair.score) tops.set(key(pair), [pair]);
      else if ((current[0] as ScoredPair).score === pair.score) current.push(pair);
    }
    return tops;
  };
  // A contact holds one relation per kind, so its candidates are compared within a kind.
  const contactTops = topOf((pair) => `${pair.accountKind}|${pair.contactId}`);
  const accountTops = topOf((pair) => `${pair.accountKind}|${pair.accountId}`);

  const pairs: ScoredPair[] = [];
  for (const [, top] of contactTops) {
    if (top.length !== 1) continue;
    const pair = top[0] as ScoredPair;
    const accountTop = accountTops.get(`${pair.accountKind}|${pair.accountId}`) ?? [];
    if (accountTop.length === 1 && accountTop[0]?.contactId === pair.contactId) pairs.push(pair);
  }

  const review: MatchPlan['review'] = [];
  const seen = new Set<string>();
  const addReview = (reason: string, candidates: ScoredPair[]) => {
    const signature = candidates
      .map((pair) => `${pair.contactId}|${pair.accountKind}|${pair.accountId}`)
      .sort()
      .join(',');
    if (seen.has(signature)) return;
    seen.add(signature);
    review.push({ reason, candidates });
  };
  for (const [key, top] of contactTops) {
    if (top.length > 1)
      addReview(
        `contact ${key.split('|')[1] ?? ''} has ${top.length} ${top[0]?.accountKind ?? ''} candidates scoring ${top[0]?.score ?? 0}`,
        top,
      );
  }
  for (const [key, top] of accountTops) {
    if (top.length > 1)
      addReview(
        `${top[0]?.accountKind ?? ''} ${key.split('|')[1] ?? ''} has ${top.length} contact candidates scoring ${top[0]?.score ?? 0}`,
        top,
      );
  }
  return { pairs, review };
}
