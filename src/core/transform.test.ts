import fc from 'fast-check';
import { inStep, translation, TransformError, type ValueMap } from './transform';

const across = (map: ValueMap) => {
  const { toAccounting, toCrm } = translation(map);
  return { toAccounting: (value: string | null) => toAccounting(value), toCrm: (value: string | null) => toCrm(value) };
};

describe('value maps, both ways', () => {
  it('leaves values as they are without a value map', () => {
    const map = across({});
    expect(map.toAccounting(' Mixed Case ')).toEqual({ value: ' Mixed Case ' });
    expect(map.toCrm(null)).toEqual({ value: null });
  });

  it('trims, upper-cases and lower-cases in both directions, an emptied value becoming empty', () => {
    expect(across({ transform: { name: 'trim' } }).toAccounting('  a b  ')).toEqual({ value: 'a b' });
    expect(across({ transform: { name: 'trim' } }).toCrm('   ')).toEqual({ value: null });
    expect(across({ transform: { name: 'upper' } }).toCrm('nl')).toEqual({ value: 'NL' });
    expect(across({ transform: { name: 'lower' } }).toAccounting('Info@Example.COM')).toEqual({
      value: 'info@example.com',
    });
  });

  it('spells a country as its name in the CRM and its ISO code in accounting, in any language ICU knows', () => {
    const english = across({ transform: { name: 'country', crm: 'name', accounting: 'code', language: 'en' } });
    expect(english.toAccounting('Netherlands')).toEqual({ value: 'NL' });
    expect(english.toAccounting(' netherlands ')).toEqual({ value: 'NL' });
    expect(english.toAccounting('NL')).toEqual({ value: 'NL' });
    expect(english.toCrm('DE')).toEqual({ value: 'Germany' });
    expect(english.toCrm('gb')).toEqual({ value: 'United Kingdom' });
    expect(english.toAccounting('UK')).toEqual({ value: 'GB' });
    const dutch = across({ transform: { name: 'country', crm: 'name', accounting: 'code', language: 'nl' } });
    expect(dutch.toCrm('DE')).toEqual({ value: 'Duitsland' });
    expect(dutch.toAccounting('Duitsland')).toEqual({ value: 'DE' });
    // Codes on both sides: only the spelling of the code is made canonical.
    expect(
      across({ transform: { name: 'country', crm: 'code', accounting: 'code', language: 'en' } }).toCrm('nl'),
    ).toEqual({
      value: 'NL',
    });
  });

  it('writes phone numbers as E.164 with a default region for national numbers', () => {
    const phone = across({ transform: { name: 'phone-e164', region: 'NL' } });
    expect(phone.toAccounting('020 555 0101')).toEqual({ value: '+31205550101' });
    expect(phone.toCrm('+31 (0)20 555 0101')).toEqual({ value: '+31205550101' });
    expect(phone.toAccounting('+1 415 555 2671')).toEqual({ value: '+14155552671' });
    // Not a number of the region: the rule decides (keep by default).
    expect(phone.toAccounting('call reception')).toEqual({ value: 'call reception' });
  });

  it('translates by table, back by the first CRM value of an accounting value, ignoring case and spaces', () => {
    const tiers = across({ values: { Gold: 'G', Goud: 'G', Silver: 'S' } });
    expect(tiers.toAccounting('Gold')).toEqual({ value: 'G' });
    expect(tiers.toAccounting(' goud')).toEqual({ value: 'G' });
    expect(tiers.toCrm('G')).toEqual({ value: 'Gold' });
    expect(tiers.toCrm('s')).toEqual({ value: 'Silver' });
  });

  it('keeps, blanks or holds a value without an entry, as the rule says', () => {
    expect(across({ values: { Gold: 'G' } }).toAccounting('Platinum')).toEqual({ value: 'Platinum' });
    expect(across({ values: { Gold: 'G' }, unmapped: 'blank' }).toAccounting('Platinum')).toEqual({ value: null });
    expect(across({ values: { Gold: 'G' }, unmapped: 'hold' }).toCrm('P')).toEqual({ held: true, value: 'P' });
    expect(
      across({
        transform: { name: 'country', crm: 'name', accounting: 'code', language: 'en' },
        unmapped: 'hold',
      }).toAccounting('Atlantis'),
    ).toEqual({
      held: true,
      value: 'Atlantis',
    });
    // An empty value is empty on both sides, whatever the rule.
    expect(across({ values: { Gold: 'G' }, unmapped: 'hold' }).toAccounting(null)).toEqual({ value: null });
  });

  it('runs the table before the transform on the way to accounting, and after it on the way back', () => {
    const map = across({ values: { Holland: 'nl' }, transform: { name: 'upper' } });
    expect(map.toAccounting('Holland')).toEqual({ value: 'NL' });
    expect(map.toCrm('nl')).toEqual({ value: 'Holland' });
  });

  it('refuses a region or language it does not know', () => {
    expect(() => translation({ transform: { name: 'phone-e164', region: 'XX' } })).toThrow(TransformError);
    expect(() =>
      translation({ transform: { name: 'country', crm: 'name', accounting: 'code', language: '!!' } }),
    ).toThrow(TransformError);
  });

  it('says whether both sides agree under the map, and when the account value is held', () => {
    const map: ValueMap = { values: { Gold: 'G' }, unmapped: 'hold' };
    expect(inStep(map, 'Gold', 'G')).toBe(true);
    expect(inStep(map, 'Gold', 'S')).toBe('held');
    expect(inStep({ values: { Gold: 'G', Silver: 'S' } }, 'Gold', 'S')).toBe(false);
  });
});

describe('a value that went across once comes back as itself (no ping-pong)', () => {
  const settings = { numRuns: 300, seed: 20261203 };
  const maps: Array<[string, ValueMap, fc.Arbitrary<string>]> = [
    ['trim', { transform: { name: 'trim' } }, fc.string()],
    ['upper', { transform: { name: 'upper' } }, fc.string()],
    [
      'country',
      { transform: { name: 'country', crm: 'name', accounting: 'code', language: 'en' } },
      fc.oneof(fc.constantFrom('Netherlands', 'germany', 'NL', 'United States', 'Côte d’Ivoire'), fc.string()),
    ],
    [
      'phone-e164',
      { transform: { name: 'phone-e164', region: 'NL' } },
      fc.oneof(fc.constantFrom('020 555 0101', '+1 415 555 2671', '06 12345678'), fc.string()),
    ],
    [
      'table',
      { values: { Gold: 'G', Goud: 'G', Silver: 'S' }, unmapped: 'blank' },
      fc.constantFrom('Gold', 'Goud', 'gold', 'Silver', 'x'),
    ],
  ];

  it.each(maps)('%s: to accounting and back and across again changes nothing more', (_name, map, values) => {
    const { toAccounting, toCrm } = translation(map);
    fc.assert(
      fc.property(values, (value) => {
        const there = toAccounting(value).value;
        const back = toCrm(there).value;
        // Sent again, the value the CRM got back is spelled in accounting as before.
        expect(toAccounting(back).value).toBe(there);
        // And the accounting value is stable under its own round trip.
        expect(toAccounting(toCrm(there).value).value).toBe(there);
      }),
      settings,
    );
  });
});
