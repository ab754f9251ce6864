/** Demo data for the sandbox: a few European customers, vendors and a bank account. */

/** The collections a seed can fill. */
export const SEEDED_COLLECTIONS = ['customers', 'vendors', 'bankAccounts', 'contacts'] as const;

/** Records to load at start, as BC properties; `id` and `number` are kept when given. */
export type BusinessCentralSandboxSeed = {
  [Collection in (typeof SEEDED_COLLECTIONS)[number]]?: Array<Record<string, unknown>>;
};

/** Fixed ids of the demo records, so a demo can refer to them. */
export const SEED_IDS = {
  customers: {
    vanDijk: '6b0c1e2a-3f4d-4a5b-8c6d-7e8f9a0b1c01',
    lindqvist: '6b0c1e2a-3f4d-4a5b-8c6d-7e8f9a0b1c02',
    moreau: '6b0c1e2a-3f4d-4a5b-8c6d-7e8f9a0b1c03',
  },
  vendors: {
    brenner: '7c1d2f3b-4a5e-4b6c-9d7e-8f9a0b1c2d01',
    castellano: '7c1d2f3b-4a5e-4b6c-9d7e-8f9a0b1c2d02',
  },
  bankAccounts: {
    operating: '8d2e3a4c-5b6f-4c7d-ae8f-9a0b1c2d3e01',
  },
} as const;

/** The demo seed: 3 customers, 2 vendors, 1 bank account, numbered by their series (C00010, ...). */
export function businessCentralSandboxSeed(): BusinessCentralSandboxSeed {
  return {
    customers: [
      {
        id: SEED_IDS.customers.vanDijk,
        displayName: 'Van Dijk Installatietechniek B.V.',
        addressLine1: 'Keizersgracht 221',
        city: 'Amsterdam',
        postalCode: '1016 DV',
        country: 'NL',
        phoneNumber: '+31 20 624 1180',
        email: 'administratie@vandijk-installatie.nl',
        website: 'www.vandijk-installatie.nl',
        taxRegistrationNumber: 'NL859371204B01',
        currencyCode: 'EUR',
        salespersonCode: 'PS',
      },
      {
        id: SEED_IDS.customers.lindqvist,
        displayName: 'Lindqvist Möbler AB',
        addressLine1: 'Drottninggatan 54',
        city: 'Stockholm',
        postalCode: '111 21',
        country: 'SE',
        phoneNumber: '+46 8 411 2030',
        email: 'ekonomi@lindqvistmobler.se',
        website: 'www.lindqvistmobler.se',
        taxRegistrationNumber: 'SE556677889901',
        currencyCode: 'SEK',
        salespersonCode: 'JO',
      },
      {
        id: SEED_IDS.customers.moreau,
        displayName: 'Boulangerie Moreau SARL',
        addressLine1: '14 rue des Martyrs',
        city: 'Paris',
        postalCode: '75009',
        country: 'FR',
        phoneNumber: '+33 1 48 78 32 10',
        email: 'contact@boulangerie-moreau.fr',
        taxRegistrationNumber: 'FR40123456789',
        currencyCode: 'EUR',
        salespersonCode: 'PS',
      },
    ],
    vendors: [
      {
        id: SEED_IDS.vendors.brenner,
        displayName: 'Brenner Werkzeugbau GmbH',
        addressLine1: 'Industriestraße 7',
        city: 'Stuttgart',
        postalCode: '70565',
        state: 'BW',
        country: 'DE',
        phoneNumber: '+49 711 782 4410',
        email: 'buchhaltung@brenner-werkzeugbau.de',
        website: 'www.brenner-werkzeugbau.de',
        taxRegistrationNumber: 'DE287654321',
        currencyCode: 'EUR',
      },
      {
        id: SEED_IDS.vendors.castellano,
        displayName: 'Castellano Imballaggi S.r.l.',
        addressLine1: 'Via Emilia Ovest 120',
        city: 'Modena',
        postalCode: '41123',
        state: 'MO',
        country: 'IT',
        phoneNumber: '+39 059 827 3300',
        email: 'amministrazione@castellano-imballaggi.it',
        taxRegistrationNumber: 'IT01234567890',
        currencyCode: 'EUR',
      },
    ],
    bankAccounts: [
      {
        id: SEED_IDS.bankAccounts.operating,
        displayName: 'ING Bank Operating Account',
        bankAccountNumber: '0123456789',
        iban: 'NL91 INGB 0002 4455 88',
        currencyCode: 'EUR',
      },
    ],
  };
}
