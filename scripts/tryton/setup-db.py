"""Seeds a freshly activated trytond 6.0 database with what the tryton connector expects.

    /usr/bin/python3 setup-db.py <trytond.conf> <database>

Party categories Customer and Supplier, currencies EUR and USD, countries DE, FR, GB, US (with
one subdivision each for the county field), a company "Tandem Demo" in EUR that the admin user
belongs to, and a bank "Tandem Bank" (BIC TANDDEFFXXX) for new bank accounts.
"""
import sys
from decimal import Decimal

from trytond.config import config

config.update_etc(sys.argv[1])

from trytond.pool import Pool  # noqa: E402
from trytond.transaction import Transaction  # noqa: E402

database = sys.argv[2]
Pool.start()
pool = Pool(database)
pool.init()

with Transaction().start(database, 0, context={'active_test': False}) as transaction:
    Category = pool.get('party.category')
    Party = pool.get('party.party')
    Currency = pool.get('currency.currency')
    Country = pool.get('country.country')
    Subdivision = pool.get('country.subdivision')
    Company = pool.get('company.company')
    User = pool.get('res.user')
    Bank = pool.get('bank')

    for name in ('Customer', 'Supplier'):
        if not Category.search([('name', '=', name)]):
            Category.create([{'name': name}])

    currencies = {}
    for code, name, symbol in (('EUR', 'Euro', '€'), ('USD', 'US Dollar', '$')):
        found = Currency.search([('code', '=', code)])
        currencies[code] = found[0] if found else Currency.create([{
            'code': code, 'name': name, 'symbol': symbol, 'rounding': Decimal('0.01'), 'digits': 2,
        }])[0]

    for code, name, subdivision in (
            ('DE', 'Germany', ('DE-BY', 'Bayern')),
            ('FR', 'France', ('FR-IDF', 'Île-de-France')),
            ('GB', 'United Kingdom', ('GB-KEN', 'Kent')),
            ('US', 'United States', ('US-CA', 'California'))):
        found = Country.search([('code', '=', code)])
        country = found[0] if found else Country.create([{'code': code, 'name': name}])[0]
        if not Subdivision.search([('code', '=', subdivision[0])]):
            Subdivision.create([{
                'country': country.id, 'code': subdivision[0], 'name': subdivision[1],
                'type': 'state',
            }])

    # Countries without subdivisions, so parties across Europe and North America can have addresses.
    for code, name in (
            ('AT', 'Austria'), ('BE', 'Belgium'), ('CA', 'Canada'), ('CH', 'Switzerland'),
            ('DK', 'Denmark'), ('ES', 'Spain'), ('FI', 'Finland'), ('IE', 'Ireland'),
            ('IT', 'Italy'), ('LU', 'Luxembourg'), ('NL', 'Netherlands'), ('NO', 'Norway'),
            ('PL', 'Poland'), ('PT', 'Portugal'), ('SE', 'Sweden')):
        if not Country.search([('code', '=', code)]):
            Country.create([{'code': code, 'name': name}])

    if not Company.search([]):
        party, = Party.create([{'name': 'Tandem Demo', 'code': 'COMPANY'}])
        company, = Company.create([{'party': party.id, 'currency': currencies['EUR'].id}])
        admin, = User.search([('login', '=', 'admin')])
        User.write([admin], {'companies': [('add', [company.id])], 'company': company.id})

    if not Bank.search([]):
        party, = Party.create([{'name': 'Tandem Bank', 'code': 'BANK'}])
        Bank.create([{'party': party.id, 'bic': 'TANDDEFFXXX'}])

    transaction.commit()
print('tandem: database %s ready' % database)
