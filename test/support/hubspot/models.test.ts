import { exchangeViolations, modelViolations } from './models';

describe("HubSpot's generated models as a checker", () => {
  it('accepts what HubSpot documents: a search with filter groups and sort objects, a batch update, an answer', () => {
    expect(
      modelViolations('PublicObjectSearchRequest', {
        filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: '1' }] }],
        sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }, 'name'],
        properties: ['name'],
        limit: 100,
        after: '200',
      }),
    ).toEqual([]);
    expect(
      exchangeViolations({
        method: 'POST',
        path: '/crm/v3/objects/contacts/batch/update',
        requestBody: { inputs: [{ id: '1', properties: { city: 'Utrecht' } }] },
        status: 207,
        responseBody: {
          status: 'COMPLETE',
          results: [
            {
              id: '1',
              properties: { city: 'Utrecht' },
              createdAt: '2024-05-01T00:00:00Z',
              updatedAt: '2024-05-01T00:00:00Z',
              archived: false,
            },
          ],
          errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'gone', context: { ids: ['2'] } }],
          startedAt: '2024-05-01T00:00:00Z',
          completedAt: '2024-05-01T00:00:01Z',
        },
      }),
    ).toEqual([]);
  });

  it('names an unknown property, a wrong nesting, a wrong type and an operator outside the enum', () => {
    expect(
      modelViolations('PublicObjectSearchRequest', {
        filterGroups: [{ filters: [{ propertyName: 'name', operator: 'CONTAINS', value: 'x', colour: 'red' }] }],
        limit: '10',
        sorts: [{ propertyName: 'name', direction: 'UP' }],
      }),
    ).toEqual([
      'PublicObjectSearchRequest.filterGroups[0].filters[0].operator: "CONTAINS" is not one of FilterOperatorEnum',
      'PublicObjectSearchRequest.filterGroups[0].filters[0].colour: not a property of Filter',
      'PublicObjectSearchRequest.limit: expected a number, got string',
      'PublicObjectSearchRequest.sorts[0].direction: "UP" is not ASCENDING or DESCENDING',
    ]);
    // Properties one level too high: a create puts them under `properties`.
    expect(modelViolations('SimplePublicObjectInputForCreate', { name: 'Acme' })).toEqual([
      'SimplePublicObjectInputForCreate.name: not a property of SimplePublicObjectInputForCreate',
    ]);
    expect(modelViolations('SimplePublicObjectInput', { properties: { city: 3 } })).toEqual([
      'SimplePublicObjectInput.properties.city: expected a string, got number',
    ]);
    expect(exchangeViolations({ method: 'DELETE', path: '/crm/v3/objects/companies/1', status: 204 })).toEqual([
      'DELETE /crm/v3/objects/companies/1: not a route the models cover',
    ]);
  });
});
