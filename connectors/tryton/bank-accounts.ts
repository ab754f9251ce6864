/** Bank accounts: bank.account records with their numbers and owner parties. */
import { z } from 'zod';
import type { FieldValue } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import type { AccountTable, TrytonApi } from './client';
import { planBankAccountWrite, toBankAccount } from './mappers';
import { BANK_ACCOUNT_FIELDS, bankAccountSchema, idRowSchema, type BankAccount } from './schemas';

const accountRefSchema = z.object({ account: z.number().int() });

/** The currency and bank that the canonical codes stand for. */
async function bankRefs(
  api: TrytonApi,
  { currencyCode, swiftCode }: Record<string, FieldValue>,
): Promise<{ currency?: number | null; bank?: number }> {
  const currency =
    currencyCode === undefined || currencyCode === null
      ? currencyCode
      : await api.lookupId(
          'currency.currency',
          [['code', '=', currencyCode.toUpperCase()]],
          `currency '${currencyCode}'`,
          {
            active_test: false,
          },
        );
  const bank =
    swiftCode === undefined || swiftCode === null
      ? undefined
      : await api.lookupId('bank', [['bic', '=', swiftCode.toUpperCase()]], `bank with BIC '${swiftCode}'`);
  return { currency, bank };
}

/** The only bank there is, for a new bank account that names none. */
async function onlyBank(api: TrytonApi): Promise<number> {
  const banks = await api.search('bank', idRowSchema, ['id']);
  const [bank] = banks;
  if (bank === undefined || banks.length > 1)
    throw new InvalidRequestError(
      `tryton: a new bank account needs a bank: give swiftCode (the bank's BIC) or extra.bank (there are ${banks.length} banks)`,
    );
  return bank.id;
}

/** The one party named `name`, else a new party of that name. */
async function ownerFor(api: TrytonApi, name: string): Promise<number> {
  const named = await api.search('party.party', idRowSchema, ['id'], { domain: [['name', '=', name]] });
  const [owner] = named;
  return owner !== undefined && named.length === 1 ? owner.id : await api.create('party.party', { name });
}

/** The bank accounts of a database. */
export function bankAccountTable(api: TrytonApi): AccountTable<BankAccount> {
  return {
    model: 'bank.account',
    children: ['numbers', 'owners'],
    search: (domain) => api.search('bank.account', bankAccountSchema, BANK_ACCOUNT_FIELDS, { domain }),
    toAccount: toBankAccount,

    /** The name is written to the first owner (a new owner party when there is none). */
    async plan(account, fields) {
      const values = planBankAccountWrite(account, fields, await bankRefs(api, fields));
      const { name = null } = fields;
      const [owner] = account['owners.'];
      if (owner !== undefined && name !== null && owner.name !== name)
        await api.rpc.model('party.party', 'write', [[owner.id], { name }]);
      if (owner === undefined && name !== null) values.owners = [['add', [await ownerFor(api, name)]]];
      return values;
    },

    /**
     * A new bank account, or the one that already has the IBAN. The bank is the one with the BIC
     * in `swiftCode`, else `extra.bank`, else the only bank there is. The owner is `extra.owner`
     * (a party id), else the one party named `name`, else a new party of that name.
     */
    async create(fields, extra) {
      const { iban = null, name = null } = fields;
      if (iban !== null) {
        const domain = [
          ['type', '=', 'iban'],
          ['number', '=', iban],
        ];
        const [existing] = await api.search('bank.account.number', accountRefSchema, ['account'], { domain });
        if (existing !== undefined) return existing.account;
      }
      const refs = await bankRefs(api, fields);
      const bank = refs.bank ?? extra.bank ?? (await onlyBank(api));
      const owner = extra.owner ?? (name === null ? undefined : await ownerFor(api, name));
      const values = { ...planBankAccountWrite(null, fields, refs), bank };
      return await api.create('bank.account', {
        ...values,
        ...(owner !== undefined && { owners: [['add', [owner]]] }),
      });
    },
  };
}
