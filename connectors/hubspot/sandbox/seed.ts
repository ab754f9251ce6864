/** Demo data for the sandbox: four companies and three people who work for them. */

/** Records to load into an empty sandbox. */
export interface HubSpotSandboxSeed {
  companies?: Array<Record<string, string>>;
  /**
   * People. `associatedcompanyid` may be a company id, or `#<n>` for the n-th (0-based) company
   * of the same seed, whose id is only known once it is created.
   */
  contacts?: Array<Record<string, string>>;
}

/** A small demo portal: a Dutch wholesaler, a German supplier, a Danish bank and a UK retailer. */
export function hubspotSandboxSeed(): HubSpotSandboxSeed {
  return {
    companies: [
      {
        name: 'Van der Meer Groothandel B.V.',
        address: 'Keizersgracht 241',
        zip: '1016 EA',
        city: 'Amsterdam',
        state: 'Noord-Holland',
        country: 'NL',
        phone: '+31 20 624 1190',
        website: 'https://www.vandermeer-groothandel.nl',
        tandem_vat_registration_no: 'NL812345678B01',
        tandem_currency_code: 'EUR',
        tandem_language_code: 'NLD',
      },
      {
        name: 'Schröder Industriebedarf GmbH',
        address: 'Hafenstraße 12',
        zip: '20457',
        city: 'Hamburg',
        country: 'DE',
        phone: '+49 40 3808 2200',
        website: 'https://www.schroeder-industriebedarf.de',
        tandem_vat_registration_no: 'DE284512397',
        tandem_currency_code: 'EUR',
        tandem_language_code: 'DEU',
      },
      {
        name: 'Nordhavn Sparekasse A/S',
        address: 'Strandboulevarden 88',
        zip: '2100',
        city: 'København Ø',
        country: 'DK',
        phone: '+45 33 12 45 60',
        website: 'https://www.nordhavn-sparekasse.dk',
        tandem_currency_code: 'DKK',
        tandem_language_code: 'DAN',
      },
      {
        name: 'Whitfield & Hale Retail Ltd',
        address: '14 King Street',
        address2: 'Unit 3',
        zip: 'M2 4LQ',
        city: 'Manchester',
        state: 'Greater Manchester',
        country: 'GB',
        phone: '+44 161 496 0732',
        website: 'https://www.whitfieldhale.co.uk',
        tandem_vat_registration_no: 'GB314159265',
        tandem_currency_code: 'GBP',
        tandem_language_code: 'ENG',
      },
    ],
    contacts: [
      {
        firstname: 'Annelies',
        lastname: 'de Vries',
        email: 'a.devries@vandermeer-groothandel.nl',
        phone: '+31 20 624 1191',
        mobilephone: '+31 6 4123 8890',
        jobtitle: 'Inkoopmanager',
        associatedcompanyid: '#0',
      },
      {
        firstname: 'Jörg',
        lastname: 'Albrecht',
        email: 'j.albrecht@schroeder-industriebedarf.de',
        phone: '+49 40 3808 2214',
        jobtitle: 'Vertriebsleiter',
        associatedcompanyid: '#1',
      },
      {
        firstname: 'Eleanor',
        lastname: 'Hale',
        email: 'eleanor.hale@whitfieldhale.co.uk',
        phone: '+44 161 496 0733',
        mobilephone: '+44 7700 900412',
        jobtitle: 'Finance Director',
        associatedcompanyid: '#3',
      },
    ],
  };
}
