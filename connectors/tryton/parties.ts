/**
 * Customers and vendors: party.party records in the configured categories, read with their
 * contact mechanisms, addresses and identifiers (see schemas.ts).
 */
import type { z } from 'zod';
import type { FieldValue } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { AccountTable, TrytonApi } from './client';
import type { trytonConfig } from './config';
import { planPartyWrite, toPartyAccount, type ResolvedRefs } from './mappers';
import { idRowSchema, PARTY_FIELDS, partySchema, type Party } from './schemas';

/** Which parties are customers and vendors, and how VAT numbers are stored (the connector's config). */
type PartyRules = Pick<z.output<typeof trytonConfig>, 'customerCategory' | 'supplierCategory' | 'vatIdentifierType'>;

/** Looks up the ids canonical codes stand for; unknown codes are refused with the code named. */
async function resolveRefs(
  api: TrytonApi,
  { countryCode, county, languageCode }: Record<string, FieldValue>,
  current: Party | null,
): Promise<ResolvedRefs> {
  const refs: ResolvedRefs = {};
  if (countryCode !== undefined)
    refs.country =
      countryCode === null
        ? null
        : await api.lookupId('country.country', [['code', '=', countryCode.toUpperCase()]], `country '${countryCode}'`);
  if (county !== undefined) {
    const countryId = refs.country === undefined ? current?.['addresses.'][0]?.['country.']?.id : refs.country;
    const within = countryId == null ? [] : [['country', '=', countryId]];
    const named = ['OR', [['name', '=', county]], [['code', '=', county]]];
    refs.subdivision =
      county === null ? null : await api.lookupId('country.subdivision', [...within, named], `subdivision '${county}'`);
  }
  if (languageCode !== undefined) {
    const domain = [['code', '=', languageCode]];
    refs.lang =
      languageCode === null
        ? null
        : await api.lookupId('ir.lang', domain, `language '${languageCode}'`, { active_test: false });
  }
  return refs;
}

/** The customers or the vendors of a database. */
export function partyTable(api: TrytonApi, rules: PartyRules, kind: 'customer' | 'vendor'): AccountTable<Party> {
  const [name, key] =
    kind === 'customer' ? [rules.customerCategory, 'customerCategory'] : [rules.supplierCategory, 'supplierCategory'];
  const ofKind = [['categories.name', '=', name]];
  let categoryId: number | undefined;
  const category = async () => {
    const [row] = await api.search('party.category', idRowSchema, ['id'], { domain: [['name', '=', name]] });
    if (row === undefined)
      throw new InvalidRequestError(
        `tryton: no party category '${name}' for ${kind}s: create it in Tryton or set the connector's ${key}`,
      );
    return row.id;
  };
  return {
    model: 'party.party',
    children: ['contact_mechanisms', 'addresses', 'identifiers'],
    search: (domain) => api.search('party.party', partySchema, PARTY_FIELDS, { domain: [...ofKind, ...domain] }),
    toAccount: (data) => toPartyAccount(kind, data, rules.vatIdentifierType),
    plan: async (party, fields) =>
      planPartyWrite(party, fields, await resolveRefs(api, fields, party), rules.vatIdentifierType),

    /** A new party of the kind, or the one whose code is `number`, given the kind's category. */
    async create(fields, { number }) {
      categoryId ??= await category();
      const categories = [['add', [categoryId]]];
      if (number !== undefined) {
        const domain = [['code', '=', number]];
        const [existing] = await api.search('party.party', idRowSchema, ['id'], {
          domain,
          context: { active_test: false },
        });
        if (existing !== undefined) {
          // A lost response already created it, or it exists as the other kind: make it this kind too.
          await api.rpc.model('party.party', 'write', [[existing.id], { categories }]);
          return existing.id;
        }
      }
      const values = planPartyWrite(null, fields, await resolveRefs(api, fields, null), rules.vatIdentifierType);
      return await api.create('party.party', { ...values, categories, ...(number !== undefined && { code: number }) });
    },
  };
}
