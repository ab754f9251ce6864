import { companyDomain, DEFAULT_MATCH_RULES, normalizeName, normalizeVat, planMatches, scorePair } from './match';

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
