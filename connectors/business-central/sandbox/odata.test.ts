import { compileFilter, compileOrderBy, FilterSyntaxError } from './odata';

const rows = [
  { id: 'a', number: 'C00010', displayName: "O'Neil Ltd", lastModifiedDateTime: '2024-05-01T10:00:00.000Z' },
  { id: 'b', number: 'C00020', displayName: 'Fabrikam', lastModifiedDateTime: '2024-05-02T10:00:00.000Z' },
  { id: 'c', number: 'C00030', displayName: 'Contoso', lastModifiedDateTime: '2024-05-03T10:00:00.000Z' },
];
const ids = (filter: string) => rows.filter(compileFilter(filter)).map((row) => row.id);

describe('sandbox $filter', () => {
  it('compares datetimes', () => {
    expect(ids('lastModifiedDateTime gt 2024-05-01T10:00:00Z')).toEqual(['b', 'c']);
    expect(ids('lastModifiedDateTime ge 2024-05-01T10:00:00Z')).toEqual(['a', 'b', 'c']);
    expect(ids('lastModifiedDateTime lt 2024-05-02T10:00:00Z')).toEqual(['a']);
  });

  it('combines eq with and/or and parentheses, strings without case', () => {
    expect(ids("number eq 'c00020' or displayName eq 'O''Neil Ltd'")).toEqual(['a', 'b']);
    expect(ids("(id eq 'a' or id eq 'b') and lastModifiedDateTime gt 2024-05-02T00:00:00Z")).toEqual(['b']);
    expect(ids("(number eq 'C00010' or number eq 'C00030') and lastModifiedDateTime gt 2024-05-02T00:00:00Z")).toEqual([
      'c',
    ]);
  });

  it('reads contains, startswith and endswith without case, quotes doubled', () => {
    expect(ids("contains(displayName,'NEIL')")).toEqual(['a']);
    expect(ids("contains(displayName, 'o''neil')")).toEqual(['a']);
    expect(ids("startswith(number,'c000') and endswith(displayName, 'oso')")).toEqual(['c']);
    expect(ids("contains(displayName,'%') or contains(displayName,'*')")).toEqual([]);
    expect(ids("contains(nothing,'a')")).toEqual([]);
    expect(() => compileFilter('contains(displayName)')).toThrow(FilterSyntaxError);
    expect(() => compileFilter("contains(displayName,'a'")).toThrow(FilterSyntaxError);
    expect(() => compileFilter("contains(displayName 'a')")).toThrow(FilterSyntaxError);
  });

  it('refuses what it cannot read', () => {
    expect(() => compileFilter('startswith(displayName, 1)')).toThrow(FilterSyntaxError);
    expect(() => compileFilter("number eq 'open")).toThrow(FilterSyntaxError);
  });

  it('orders by a property', () => {
    expect([...rows].sort(compileOrderBy('lastModifiedDateTime desc')).map((row) => row.id)).toEqual(['c', 'b', 'a']);
  });
});
