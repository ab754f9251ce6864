import nock from 'nock';
import { InvalidRequestError } from '../kit/errors';
import type { Connector } from '../kit/types';
import { API, COMPANY, tenantConnector, tokenOnce, tenantApi } from '../../test/support/business-central/nock-tenant';
import { acceptedExtraKeys, parseTemplateValues } from './templates';

// Every body the connector sends and every canned answer are held to the APIV2 manifest.
const manifestViolations: string[] = [];
const bcApi = (options?: nock.Options) => tenantApi(manifestViolations, options);
afterEach(() => expect(manifestViolations.splice(0)).toEqual([]));

const CUSTOMERS = `${API}/companies(${COMPANY})/customers`;
const BANK_ACCOUNTS = `${API}/companies(${COMPANY})/bankAccounts`;
const ID = '130bbd17-dbb9-4790-9b12-2b0e9c9d22c3';
const PAYMENT_TERMS = '3bb5b4b6-ea4c-43ca-ba1c-3b69e29a6668';
const PAYMENT_METHOD = '5d115c9c-44e3-ea11-bb43-000d3a2feca1';

const connector = (): Connector => tenantConnector();

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const token = () => tokenOnce();

describe('template values on create', () => {
  it('passes a customer template through, typed as BC wants it', async () => {
    token();
    const body = {
      paymentTermsId: PAYMENT_TERMS,
      paymentMethodId: PAYMENT_METHOD,
      taxLiable: true,
      creditLimit: 5000,
      blocked: 'Ship',
      currencyCode: 'EUR',
      displayName: 'Fabrikam',
    };
    const api = bcApi().post(CUSTOMERS, body).reply(201, {
      id: ID,
      number: 'C00040',
      displayName: 'Fabrikam',
      currencyCode: 'EUR',
      lastModifiedDateTime: '2024-05-06T08:00:00Z',
    });
    const extra = {
      paymentTermsId: PAYMENT_TERMS,
      paymentMethodId: PAYMENT_METHOD,
      taxLiable: 'true',
      creditLimit: '5000',
      blocked: 'Ship',
      currencyCode: 'EUR',
      shipmentMethodId: null,
    };
    const record = await connector().create!('customer', { name: 'Fabrikam' }, { idempotencyKey: 'k', extra });
    expect(record).toMatchObject({ id: ID, number: 'C00040', fields: { name: 'Fabrikam', currencyCode: 'EUR' } });
    api.done();
  });

  it('sends a bank account’s number and IBAN from the canonical fields, with its template', async () => {
    token();
    const api = bcApi()
      .post(BANK_ACCOUNTS, {
        intercompanyEnabled: false,
        displayName: 'Rabobank EUR',
        bankAccountNumber: '3300 4455 66',
        iban: 'NL20 RABO 0300 0653 35',
      })
      .reply(201, {
        id: ID,
        number: 'B00020',
        displayName: 'Rabobank EUR',
        bankAccountNumber: '3300 4455 66',
        iban: 'NL20 RABO 0300 0653 35',
        lastModifiedDateTime: '2024-05-06T08:00:00Z',
      });
    const record = await connector().create!(
      'bankAccount',
      { name: 'Rabobank EUR', bankAccountNo: '3300 4455 66', iban: 'NL20 RABO 0300 0653 35' },
      { idempotencyKey: 'k', extra: { intercompanyEnabled: false } },
    );
    expect(record.fields).toMatchObject({ bankAccountNo: '3300 4455 66', iban: 'NL20 RABO 0300 0653 35' });
    api.done();
  });

  it.each([
    ['customer', { paymentTerms: '30 DAYS' }, /'paymentTerms' is not a property BC accepts/],
    ['customer', { paymentTermsId: '30 DAYS' }, /'paymentTermsId' must be a GUID/],
    ['customer', { blocked: 'Payment' }, /'blocked'/],
    ['customer', { creditLimit: 'a lot' }, /'creditLimit'/],
    ['vendor', { shipmentMethodId: PAYMENT_TERMS }, /'shipmentMethodId' is not a property BC accepts/],
    ['bankAccount', { swiftCode: 'RABONL2U' }, /'swiftCode' is not a property BC accepts/],
    ['customer', { number: 'C'.repeat(21) }, /'number'/],
  ] as const)('refuses a %s template with %j before any request', async (entity, extra, message) => {
    const auth = token();
    const attempt = connector().create!(entity, { name: 'Fabrikam' }, { idempotencyKey: 'k', extra });
    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(attempt).rejects.toThrow(message);
    expect(auth.isDone()).toBe(false);
  });

  it('names the accepted keys in the refusal', () => {
    expect(() => parseTemplateValues('vendor', { paymentTerms: 'x' })).toThrow(
      /accepted: number, currencyId, currencyCode, irs1099Code, paymentTermsId, paymentMethodId, taxLiable, blocked, displayName/,
    );
    expect(acceptedExtraKeys('bankAccount')).toEqual([
      'number',
      'bankAccountNumber',
      'iban',
      'currencyId',
      'currencyCode',
      'blocked',
      'intercompanyEnabled',
      'displayName',
    ]);
  });
});
