/** Demo data for the sandbox: four Accounts, three Contacts who work for them, and a VAT number field. */
import type { CustomFieldDefinition } from './objects';
import type { SalesforceSandboxSeed } from './server';

/** The custom field the demo config maps the VAT registration no. onto (`fieldMap.company.vatRegistrationNo`). */
export const DEMO_VAT_FIELD: CustomFieldDefinition = {
  name: 'VAT_Number__c',
  label: 'VAT Number',
  type: 'string',
  updateable: true,
};

/** A small demo org: a Dutch wholesaler, a German supplier, a Danish bank and a UK retailer. */
export function salesforceSandboxSeed(): SalesforceSandboxSeed {
  return {
    accounts: [
      {
        Name: 'Van der Meer Groothandel B.V.',
        BillingStreet: 'Keizersgracht 241',
        BillingPostalCode: '1016 EA',
        BillingCity: 'Amsterdam',
        BillingState: 'Noord-Holland',
        BillingCountry: 'NL',
        Phone: '+31 20 624 1190',
        Website: 'https://www.vandermeer-groothandel.nl',
        VAT_Number__c: 'NL812345678B01',
      },
      {
        Name: 'Schröder Industriebedarf GmbH',
        BillingStreet: 'Hafenstraße 12',
        BillingPostalCode: '20457',
        BillingCity: 'Hamburg',
        BillingCountry: 'DE',
        Phone: '+49 40 3808 2200',
        Website: 'https://www.schroeder-industriebedarf.de',
        VAT_Number__c: 'DE284512397',
      },
      {
        Name: 'Nordhavn Sparekasse A/S',
        BillingStreet: 'Strandboulevarden 88',
        BillingPostalCode: '2100',
        BillingCity: 'København Ø',
        BillingCountry: 'DK',
        Phone: '+45 33 12 45 60',
        Website: 'https://www.nordhavn-sparekasse.dk',
      },
      {
        Name: 'Whitfield & Hale Retail Ltd',
        BillingStreet: '14 King Street',
        BillingPostalCode: 'M2 4LQ',
        BillingCity: 'Manchester',
        BillingState: 'Greater Manchester',
        BillingCountry: 'GB',
        Phone: '+44 161 496 0321',
        Website: 'https://www.whitfieldhale.co.uk',
        VAT_Number__c: 'GB123456789',
      },
    ],
    contacts: [
      {
        FirstName: 'Anna',
        LastName: 'van der Meer',
        Email: 'anna@vandermeer-groothandel.nl',
        Phone: '+31 20 624 1191',
        AccountId: '#0',
      },
      { FirstName: 'Jonas', LastName: 'Schröder', Email: 'j.schroeder@schroeder-industriebedarf.de', AccountId: '#1' },
      {
        FirstName: 'Emily',
        LastName: 'Hale',
        Email: 'emily.hale@whitfieldhale.co.uk',
        MobilePhone: '+44 7700 900123',
        AccountId: '#3',
      },
    ],
  };
}
