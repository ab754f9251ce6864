import {
  companyDomain,
  DEFAULT_MATCH_RULES,
  hasMatchKey,
  matchKeys,
  normalizeName,
  normalizeVat,
  planMatches,
  scorePair,
  type MatchAccount,
  type MatchContact,
  type MatchFields,
  type MatchPlan,
  type ScoredPair,
} from './match';

const rules = DEFAULT_MATCH_RULES;

describe('normalization', () => {
  it('drops case, accents, punctuation and legal forms from names', () => {
    expect(normalizeName('Fabrikam B.V.')).toBe('fabrikam');
    expect(normalizeName('  FABRIKAM  bv ')).toBe('fabrikam');
    expect(normalizeName('Müller GmbH')).toBe('muller');
    expect(normalizeName('Nordisk Design A/S')).toBe('nordisk design');
    expect(normalizeName('Contoso, Ltd.')).toBe('contoso');
    expect(normalizeName('Alpine Ski House Inc')).toBe('alpine ski house');
    expect(normalizeName('Les Vins SARL')).toBe('les vins');
    expect(normalizeName('Acme LLC')).toBe('acme');
    expect(normalizeName('AB')).toBe('ab');
  });

  it('reads VAT numbers without spaces or dots, with or without the country prefix', () => {
    expect(normalizeVat('NL 8123.45.678 B01')).toEqual({ country: 'NL', number: '812345678B01' });
    expect(normalizeVat('812345678b01')).toEqual({ country: null, number: '812345678B01' });
    expect(normalizeVat('  ')).toBeNull();
  });

  it('ignores free-mail domains', () => {
    expect(companyDomain('Anna@Fabrikam.com')).toBe('fabrikam.com');
    for (const email of [
      'a@gmail.com',
      'a@outlook.com',
      'a@hotmail.com',
      'a@yahoo.com',
      'a@icloud.com',
      'a@gmx.de',
      'a@gmx.net',
    ])
      expect(companyDomain(email)).toBeNull();
  });
});

describe('scorePair', () => {
  it('gives each rule its score and a pair its best rule', () => {
    expect(scorePair({ vatRegistrationNo: 'NL812345678B01' }, { vatRegistrationNo: '8123 4567 8B01' }, rules)).toEqual({
      score: 100,
      rule: 'vatRegistrationNo',
    });
    expect(scorePair({ vatRegistrationNo: 'DE123456789' }, { vatRegistrationNo: 'FR123456789' }, rules)).toBeNull();
    expect(scorePair({ email: 'INFO@fabrikam.com' }, { email: 'info@fabrikam.com' }, rules)).toEqual({
      score: 90,
      rule: 'email',
    });
    expect(scorePair({ email: 'sales@fabrikam.com' }, { email: 'info@fabrikam.com' }, rules)).toEqual({
      score: 60,
      rule: 'emailDomain',
    });
    expect(scorePair({ email: 'a@gmail.com' }, { email: 'b@gmail.com' }, rules)).toBeNull();
    expect(
      scorePair({ name: 'Fabrikam B.V.', postCode: '1011 AB' }, { name: 'fabrikam', postCode: '1011ab' }, rules),
    ).toEqual({ score: 80, rule: 'namePostCode' });
    expect(
      scorePair({ name: 'Fabrikam B.V.', postCode: '1011 AB' }, { name: 'fabrikam', postCode: '2000' }, rules),
    ).toBeNull();
    expect(
      scorePair(
        { name: 'Fabrikam', postCode: '1', email: 'x@f.com', vatRegistrationNo: '1' },
        { name: 'Fabrikam', postCode: '1', email: 'x@f.com', vatRegistrationNo: '1' },
        rules,
      ),
    ).toEqual({ score: 100, rule: 'vatRegistrationNo' });
  });

  it('uses only the configured rules', () => {
    expect(
      scorePair({ email: 'sales@fabrikam.com' }, { email: 'info@fabrikam.com' }, [{ rule: 'email', score: 90 }]),
    ).toBeNull();
  });
});

describe('planMatches', () => {
  it('proposes pairs unambiguous from both ends, per kind', () => {
    const plan = planMatches({
      contacts: [
        { id: 'c1', fields: { vatRegistrationNo: 'NL1' } },
        { id: 'c2', fields: { email: 'info@contoso.com' } },
      ],
      accounts: [
        { kind: 'customer', id: 'a1', fields: { vatRegistrationNo: 'NL1' } },
        { kind: 'vendor', id: 'v1', fields: { vatRegistrationNo: 'NL1' } },
        { kind: 'customer', id: 'a2', fields: { email: 'info@contoso.com' } },
      ],
      rules,
      minScore: 60,
    });
    expect(plan.pairs).toEqual(
      expect.arrayContaining([
        { contactId: 'c1', accountKind: 'customer', accountId: 'a1', score: 100, rule: 'vatRegistrationNo' },
        { contactId: 'c1', accountKind: 'vendor', accountId: 'v1', score: 100, rule: 'vatRegistrationNo' },
        { contactId: 'c2', accountKind: 'customer', accountId: 'a2', score: 90, rule: 'email' },
      ]),
    );
    expect(plan.pairs).toHaveLength(3);
    expect(plan.review).toEqual([]);
  });

  it('sends ties to review and never proposes them', () => {
    const plan = planMatches({
      contacts: [
        { id: 'c1', fields: { email: 'info@fabrikam.com' } },
        { id: 'c2', fields: { email: 'info@fabrikam.com' } },
        { id: 'c3', fields: { email: 'anna@tailspin.com' } },
      ],
      accounts: [
        { kind: 'customer', id: 'a1', fields: { email: 'info@fabrikam.com' } },
        { kind: 'customer', id: 'a3', fields: { email: 'bob@tailspin.com' } },
        { kind: 'customer', id: 'a4', fields: { email: 'carl@tailspin.com' } },
      ],
      rules,
      minScore: 60,
    });
    expect(plan.pairs).toEqual([]);
    expect(plan.review).toHaveLength(2);
    const byAccount = plan.review.find((entry) => entry.reason.startsWith('customer a1'));
    const byContact = plan.review.find((entry) => entry.reason.startsWith('contact c3'));
    expect(byAccount?.candidates.map((pair) => pair.contactId).sort()).toEqual(['c1', 'c2']);
    expect(byContact?.candidates.map((pair) => pair.accountId).sort()).toEqual(['a3', 'a4']);
    expect(byContact?.reason).toContain('has 2 customer candidates');
  });

  it('prefers a better score over a tie lower down, and honours minScore', () => {
    const plan = planMatches({
      contacts: [
        { id: 'c1', fields: { vatRegistrationNo: '1', email: 'a@x.com' } },
        { id: 'c2', fields: { email: 'b@x.com' } },
      ],
      accounts: [{ kind: 'customer', id: 'a1', fields: { vatRegistrationNo: '1', email: 'c@x.com' } }],
      rules,
      minScore: 60,
    });
    expect(plan.pairs).toEqual([
      { contactId: 'c1', accountKind: 'customer', accountId: 'a1', score: 100, rule: 'vatRegistrationNo' },
    ]);
    expect(plan.review).toEqual([]);
    const strict = planMatches({
      contacts: [{ id: 'c2', fields: { email: 'b@x.com' } }],
      accounts: [{ kind: 'customer', id: 'a1', fields: { email: 'c@x.com' } }],
      rules,
      minScore: 70,
    });
    expect(strict.pairs).toEqual([]);
  });
});

/** The straightforward plan: every pair scored, as matching worked before the index. */
function allPairsPlan(input: Parameters<typeof planMatches>[0]): MatchPlan {
  const active = input.rules.filter((rule) => rule.score >= input.minScore);
  const scored: ScoredPair[] = [];
  for (const account of input.accounts)
    for (const contact of input.contacts) {
      const match = scorePair(contact.fields, account.fields, active);
      if (match) scored.push({ contactId: contact.id, accountKind: account.kind, accountId: account.id, ...match });
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
  const contactTops = topOf((pair) => `${pair.accountKind}|${pair.contactId}`);
  const accountTops = topOf((pair) => `${pair.accountKind}|${pair.accountId}`);
  const pairs = [...contactTops.values()]
    .filter((top) => top.length === 1)
    .map((top) => top[0] as ScoredPair)
    .filter((pair) => {
      const other = accountTops.get(`${pair.accountKind}|${pair.accountId}`) ?? [];
      return other.length === 1 && other[0]?.contactId === pair.contactId;
    });
  const review: MatchPlan['review'] = [];
  const seen = new Set<string>();
  for (const [key, top] of [...contactTops, ...accountTops]) {
    if (top.length < 2) continue;
    const signature = top
      .map((pair) => `${pair.contactId}|${pair.accountKind}|${pair.accountId}`)
      .sort()
      .join(',');
    if (seen.has(signature)) continue;
    seen.add(signature);
    review.push({ reason: key, candidates: top });
  }
  return { pairs, review };
}

/** A small deterministic generator (mulberry32), so a failing case can be replayed by its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fields drawn from a small vocabulary, so that shared keys, ties and near misses are frequent. */
function randomFields(next: () => number): MatchFields {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
  const fields: MatchFields = {};
  if (next() < 0.5) fields.vatRegistrationNo = pick(['NL123', '123', 'DE123', 'nl 123', 'FR9', '9', '']);
  if (next() < 0.6)
    fields.email = pick(['info@a.com', 'INFO@a.com', 'sales@a.com', 'x@b.com', 'y@gmail.com', 'z@gmx.de', 'bad']);
  if (next() < 0.6) fields.name = pick(['Fabrikam B.V.', 'fabrikam', 'Contoso Ltd', 'Müller GmbH', 'muller', '']);
  if (next() < 0.6) fields.postCode = pick(['1011 AB', '1011ab', '2000', '']);
  return fields;
}

describe('the key index', () => {
  it('plans exactly what scoring every pair plans, on random small inputs', () => {
    const kinds = ['customer', 'vendor'] as const;
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed);
      const contacts: MatchContact[] = Array.from({ length: 1 + Math.floor(next() * 12) }, (_, i) => ({
        id: `c${i}`,
        fields: randomFields(next),
      }));
      const accounts: MatchAccount[] = Array.from({ length: 1 + Math.floor(next() * 12) }, (_, i) => ({
        kind: kinds[Math.floor(next() * kinds.length)] as (typeof kinds)[number],
        id: `a${i}`,
        fields: randomFields(next),
      }));
      const minScore = [1, 60, 85, 95][Math.floor(next() * 4)] as number;
      const ruleSet = seed % 3 === 0 ? [{ rule: 'emailDomain' as const, score: 90 }, ...rules] : rules;
      const input = { contacts, accounts, rules: ruleSet, minScore };
      const plan = planMatches(input);
      const reference = allPairsPlan(input);
      expect({ seed, pairs: plan.pairs }).toEqual({ seed, pairs: reference.pairs });
      expect({ seed, review: plan.review.map((entry) => entry.candidates) }).toEqual({
        seed,
        review: reference.review.map((entry) => entry.candidates),
      });
    }
  });

  it('normalizes each record once and leaves records without a key out', () => {
    expect(matchKeys({ name: 'Fabrikam B.V.', postCode: '1011 ab', email: 'Info@Fabrikam.com' })).toEqual({
      vat: null,
      email: 'info@fabrikam.com',
      domain: 'fabrikam.com',
      namePostCode: 'fabrikam\n1011AB',
    });
    expect(hasMatchKey(matchKeys({ name: 'Fabrikam' }))).toBe(false);
    expect(hasMatchKey(matchKeys({ email: 'a@gmail.com' }))).toBe(true);
  });
});
