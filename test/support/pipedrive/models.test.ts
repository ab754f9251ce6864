/** The checker built on the pipedrive package's models finds what a request body gets wrong. */
import { modelViolations } from './models';

describe('Pipedrive model checker', () => {
  it('accepts a body the models allow', () => {
    expect(
      modelViolations('AddOrganizationRequest', {
        name: 'Moreau SARL',
        address: { value: '1 rue de la Paix', postal_code: '75002', locality: 'Paris', country: 'France' },
        website: null,
        custom_fields: { abc123: 'FR123' },
      }),
    ).toEqual([]);
    expect(
      modelViolations('UpdatePersonRequest', {
        emails: [{ value: 'ada@example.com', primary: true, label: 'work' }],
        org_id: 7,
        marketing_status: 'subscribed',
      }),
    ).toEqual([]);
  });

  it('refuses a property the model does not have, at any depth', () => {
    expect(modelViolations('AddOrganizationRequest', { name: 'Moreau', phone: '+33 1' })).toEqual([
      'AddOrganizationRequest.phone: not a property of AddOrganizationRequest',
    ]);
    expect(modelViolations('UpdateOrganizationRequest', { address: { city: 'Paris' } })).toEqual([
      'UpdateOrganizationRequest.address.city: not a property of OrganizationItemAddress',
    ]);
    expect(modelViolations('UpdatePersonRequest', { emails: [{ value: 'a@b.c', kind: 'work' }] })).toEqual([
      'UpdatePersonRequest.emails[0].kind: not a property of PersonItemEmail',
    ]);
  });

  it('refuses a wrong type, a value outside an enum, null where none is allowed and a missing required property', () => {
    expect(modelViolations('UpdatePersonRequest', { org_id: '7' })).toEqual([
      'UpdatePersonRequest.org_id: expected a number',
    ]);
    expect(modelViolations('UpdatePersonRequest', { marketing_status: 'maybe' })).toHaveLength(1);
    expect(modelViolations('UpdatePersonRequest', { name: null })).toEqual([
      'UpdatePersonRequest.name: null is not string',
    ]);
    expect(modelViolations('AddOrganizationRequest', {})).toEqual([
      'AddOrganizationRequest.name: required by AddOrganizationRequest, missing',
    ]);
  });
});
