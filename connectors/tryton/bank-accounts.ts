/** Bank accounts: bank.account records with their numbers and owner parties. */
import type { FieldValue } from '../../src/core/model';
import { InvalidRequestError } from '../kit/errors';
import { BY_SEQUENCE, type AccountTable, type TrytonApi } from './client';
import { planBankAccountWrite, toBankAccount, type BankAccountData } from './mappers';
import { bankAccountNumberSchema, bankAccountSchema, idRowSchema, ownerSchema } from './schemas';

const STAMP_FIELDS = ['create_date', 'write_date'];
const ACCOUNT_FIELDS = ['owners', 'currency.code', 'bank.bic', '_timestamp', ...STAMP_FIELDS];
const NUMBER_FIELDS = ['account', 'type', 'number', 'number_compact', ...STAMP_FIELDS];
const accountRefSchema = idRowSchema.extend({ account: idRowSchema.shape.id });

/** Bank accounts with their numbers and owners. */
async function readBankAccounts(api: TrytonApi, ids: number[]): Promise<BankAccountData[]> {
  const accounts = await api.searchIn('bank.account', bankAccountSchema, ACCOUNT_FIELDS, ['id', ids]);
  const accountIds = accounts.map((account) => account.id);
  const numbers = await api.searchIn(
    'bank.account.number',
    bankAccountNumberSchema,
    NUMBER_FIELDS,
    ['account', accountIds],
    { order: BY_SEQUENCE },
  );
  const ownerIds = [...new Set(accounts.flatMap((account) => account.owners))];
  const owners = await api.searchIn('party.party', ownerSchema, ['name', ...STAMP_FIELDS], ['id', ownerIds], {
    context: { active_test: false },
  });
  return accounts.map((account) => ({
    account,
    numbers: numbers.filter((row) => row.account === account.id),
    owners: account.owners.flatMap((id) => owners.find((owner) => owner.id === id) ?? []),
  }));
}

/** The currency and bank that the canonical codes stand for. */
async function bankRefs(
  api: TrytonApi,
  { currencyCode, swiftCode }: Record<string, FieldValue>,
): Promise<{ currency?: number | null; bank?: number }> {
  const context = { active_test: false };
  const currency =
    currencyCode === undefined || currencyCode === null
      ? currencyCode
      : await api.lookupId(
          'currency.currency',
          [['code', '=', currencyCode.toUpperCase()]],
          `currency '${currencyCode}'`,
          context,
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
export function bankAccountTable(api: TrytonApi): AccountTable<BankAccountData> {
  return {
    model: 'bank.account',
    read: (ids) => readBankAccounts(api, ids),
    changedIds: (since) => api.changedIds('bank.account', since, ['numbers.', 'owners.']),
    toAccount: toBankAccount,
    row: (data) => data.account,

    /** The name is written to the first owner (a new owner party when there is none). */
    async plan(data, fields) {
      const values = planBankAccountWrite(data, fields, await bankRefs(api, fields));
      const { name = null } = fields;
      const [owner] = data.owners;
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
