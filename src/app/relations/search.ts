/**
 * The pickers' search: records of one side found by name, e-mail, number or VAT no. through the
 * connector's own search (see connectors/kit/search.ts), each with the relations it is in, so the
 * admin sees which are free to link.
 */
import { searchText, SEARCH_MAX_RESULTS } from '../../../connectors/kit/search';
import { InvalidRequestError } from '../../../connectors/kit/errors';
import type { AccountKind } from '../../core/model';
import { ConflictProblem, InvalidInputProblem } from '../ports/problems';
import type { SearchHit } from '../ports/relations';
import { KIND_WORDS, upstream, type RelationContext } from './context';

/** How many records a search shows unless asked for another number. */
export const DEFAULT_SEARCH_RESULTS = 10;

/** Finds records of `entity` on its system for `text`, at most `limit` (1 to SEARCH_MAX_RESULTS). */
export async function searchRecords(
  { engine }: RelationContext,
  input: { entity: 'contact' | AccountKind; text: string; limit?: number },
): Promise<SearchHit[]> {
  const { entity } = input;
  const connector = entity === 'contact' ? engine.crm : engine.accounting;
  const words = entity === 'contact' ? 'contact' : KIND_WORDS[entity];
  if (!connector.entities.includes(entity))
    throw new InvalidInputProblem('entity', `${connector.name} keeps no ${words}s`);
  if (!connector.search)
    throw new ConflictProblem('NOT_SUPPORTED', `${connector.name} cannot search ${words}s: give the record's id`);
  let text: string;
  try {
    text = searchText(connector.name, input.text);
  } catch (error) {
    if (error instanceof InvalidRequestError) throw new InvalidInputProblem('text', error.message);
    throw error;
  }
  const limit = input.limit ?? DEFAULT_SEARCH_RESULTS;
  if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_MAX_RESULTS)
    throw new InvalidInputProblem('limit', `must be a whole number from 1 to ${SEARCH_MAX_RESULTS}`);
  const search = connector.search.bind(connector);
  const records = await upstream(`searching ${words}s for '${text}'`, () => search(entity, text, limit));
  return Promise.all(
    records.map(async (record): Promise<SearchHit> => {
      const relations =
        record.entity === 'contact'
          ? await engine.store.findRelationsByContact(record.id)
          : [await engine.store.findRelationByAccount(record.entity, record.id)].flatMap((found) => found ?? []);
      const { fields } = record;
      return {
        entity: record.entity,
        id: record.id,
        name: fields.name ?? null,
        type: record.entity === 'contact' ? record.type : null,
        number: record.entity === 'contact' ? null : record.number,
        email: fields.email ?? null,
        vatRegistrationNo: fields.vatRegistrationNo ?? null,
        city: fields.city ?? null,
        relations,
      };
    }),
  );
}
