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

/** True when two records match by one rule. */
export function matchesRule(rule: MatchRuleName, a: MatchFields, b: MatchFields): boolean {
  switch (rule) {
    case 'vatRegistrationNo': {
      const left = normalizeVat(a.vatRegistrationNo);
      const right = normalizeVat(b.vatRegistrationNo);
      if (!left || !right || left.number !== right.number) return false;
      // One side may leave out the country prefix; two different prefixes are two registrations.
      return left.country === null || right.country === null || left.country === right.country;
    }
    case 'email': {
      const left = normalizeEmail(a.email);
      return left !== null && left === normalizeEmail(b.email);
    }
    case 'emailDomain': {
      const left = companyDomain(a.email);
      return left !== null && left === companyDomain(b.email);
    }
    case 'namePostCode': {
      const name = normalizeName(a.name);
      const postCode = normalizePostCode(a.postCode);
      return (
        name !== null &&
        postCode !== null &&
        name === normalizeName(b.name) &&
        postCode === normalizePostCode(b.postCode)
      );
    }
  }
}

/** The best rule two records match by, or null. */
export function scorePair(
  contact: MatchFields,
  account: MatchFields,
  rules: readonly MatchRule[],
): { score: number; rule: MatchRuleName } | null {
  let best: { score: number; rule: MatchRuleName } | null = null;
  for (const { rule, score } of rules) {
    if ((best === null || score > best.score) && matchesRule(rule, contact, account)) best = { score, rule };
  }
  return best;
}

/** Scores every contact-account pair of each kind and splits them into links and reviews. */
export function planMatches(input: {
  contacts: readonly MatchContact[];
  accounts: readonly MatchAccount[];
  rules: readonly MatchRule[];
  minScore: number;
}): MatchPlan {
  const rules = input.rules.filter((rule) => rule.score >= input.minScore);
  const scored: ScoredPair[] = [];
  for (const account of input.accounts) {
    for (const contact of input.contacts) {
      const match = scorePair(contact.fields, account.fields, rules);
      if (match) scored.push({ contactId: contact.id, accountKind: account.kind, accountId: account.id, ...match });
    }
  }
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
