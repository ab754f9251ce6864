/** The sandbox's SOQL subset: the queries the connector sends, Salesforce's escapes, and its refusals. */
import { parseSoql, runSoql, SoqlError } from './soql';

const KNOWN = ['Id', 'Name', 'Phone', 'SystemModstamp', 'IsDeleted'];
const records = [
  { Id: 'a', Name: "O'Brien & Sons", Phone: '1', SystemModstamp: '2024-05-01T10:00:00.000+0000', IsDeleted: false },
  { Id: 'b', Name: '100% Cotton_Co', Phone: null, SystemModstamp: '2024-05-01T10:00:01.000+0000', IsDeleted: false },
  { Id: 'c', Name: 'Back\\slash Ltd', Phone: '3', SystemModstamp: '2024-05-01T10:00:01.000+0000', IsDeleted: false },
];
const run = (query: string) => runSoql(parseSoql(query), records, KNOWN).map((record) => record.Id);

test('change detection: SystemModstamp from an instant, ordered by time then id, limited', () => {
  expect(
    run('SELECT Id FROM Account WHERE SystemModstamp >= 2024-05-01T10:00:00.500Z ORDER BY SystemModstamp, Id'),
  ).toEqual(['b', 'c']);
  expect(run('SELECT Id FROM Account ORDER BY SystemModstamp DESC, Id DESC LIMIT 2')).toEqual(['c', 'b']);
  expect(run("SELECT Id FROM Account WHERE Id IN ('a', 'c') AND Phone != null")).toEqual(['a', 'c']);
});

test("LIKE ignores case, and \\' \\\\ \\% \\_ stand for the characters themselves", () => {
  expect(run("SELECT Id FROM Account WHERE Name LIKE '%o\\'brien%'")).toEqual(['a']);
  expect(run("SELECT Id FROM Account WHERE Name LIKE '%100\\%%'")).toEqual(['b']);
  expect(run("SELECT Id FROM Account WHERE Name LIKE '%n\\_c%'")).toEqual(['b']);
  // Unescaped, % and _ are wildcards: _ matches any one character.
  expect(run("SELECT Id FROM Account WHERE Name LIKE '%n_c%' OR Name LIKE '%k\\\\s%'")).toEqual(['b', 'c']);
  expect(run("SELECT Id FROM Account WHERE NOT Name LIKE '%ltd' AND (Phone = '1' OR Phone = null)")).toEqual([
    'a',
    'b',
  ]);
});

test('a query outside the subset or naming an unknown field is refused as Salesforce refuses it', () => {
  const refusal = (query: string) => {
    try {
      run(query);
    } catch (error) {
      return error instanceof SoqlError ? error.errorCode : 'other';
    }
    return 'none';
  };
  expect(refusal('SELECT Id FROM Account WHERE Fax = null')).toBe('INVALID_FIELD');
  expect(refusal("SELECT Id FROM Account WHERE Name = 'unterminated")).toBe('MALFORMED_QUERY');
  expect(refusal("SELECT Id FROM Account WHERE Name LIKE '\\x'")).toBe('MALFORMED_QUERY');
  expect(refusal('SELECT Id FROM Account GROUP BY Name')).toBe('MALFORMED_QUERY');
  expect(() => parseSoql('SELECT FROM Account')).toThrow(SoqlError);
});
