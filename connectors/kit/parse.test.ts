import { z } from 'zod';
import { InvalidRequestError, InvalidResponseError } from './errors';
import { parseJsonCursor, parseRequest, parseResponse } from './parse';

const page = z.object({ results: z.array(z.object({ id: z.string() })), total: z.number() });

describe('parsing at the boundary', () => {
  it('returns what the schema allows', () => {
    expect(parseResponse(page, { results: [{ id: '1' }], total: 1 }, 'crm: search')).toEqual({
      results: [{ id: '1' }],
      total: 1,
    });
  });

  it('names what was read and where it went wrong, in one format', () => {
    const read = () => parseResponse(page, { results: [{ id: 1 }] }, 'crm: POST /search');
    expect(read).toThrow(InvalidResponseError);
    expect(read).toThrow(
      'crm: POST /search: unexpected answer (results.0.id: Invalid input: expected string, received number; total: Invalid input: expected number, received undefined)',
    );
    expect(() => parseRequest(z.enum(['company', 'person']), 'robot', 'crm: create options')).toThrow(
      new InvalidRequestError(
        'crm: create options: unexpected input ((root): Invalid option: expected one of "company"|"person")',
      ),
    );
  });

  it('reads a JSON cursor, null and empty as the beginning, anything else as a refused cursor', () => {
    const cursor = z.object({ since: z.string() });
    expect(parseJsonCursor(cursor, '{"since":"2024-05-01"}', 'crm')).toEqual({ since: '2024-05-01' });
    expect(parseJsonCursor(cursor, null, 'crm')).toBeNull();
    expect(parseJsonCursor(cursor, '', 'crm')).toBeNull();
    expect(() => parseJsonCursor(cursor, 'yesterday', 'crm')).toThrow(
      new InvalidRequestError('crm: unexpected cursor (not JSON: yesterday)'),
    );
    expect(() => parseJsonCursor(cursor, '{"until":1}', 'crm')).toThrow(/^crm: unexpected cursor \(since: /);
  });
});
