import nock from 'nock';
import {
  apiv2Manifest,
  bodyViolations,
  entitySetOf,
  exchangeViolations,
  getViolations,
  manifestEntity,
  requestLogViolations,
  watchedByManifest,
} from './manifest';

/** A customer with every field of the manifest, as BC's GET answers it. */
function fullCustomer(): Record<string, unknown> {
  return {
    '@odata.etag': 'W/"x"',
    ...Object.fromEntries(manifestEntity('customers').fields.map((field) => [field.name, ''])),
  };
}

/** A vendor with every field of the manifest. */
function fullVendor(): Record<string, unknown> {
  return Object.fromEntries(manifestEntity('vendors').fields.map((field) => [field.name, '']));
}

describe('the APIV2 manifest', () => {
  it('is the vendored copy, with the entity sets tandem uses', () => {
    const entities = apiv2Manifest().entities;
    for (const set of [
      'customers',
      'vendors',
      'bankAccounts',
      'contacts',
      'salesQuotes',
      'salesOrders',
      'purchaseOrders',
    ])
      expect(entities[set]?.fields.length).toBeGreaterThan(5);
    expect(manifestEntity('customers').fields.find((field) => field.name === 'balanceDue')).toMatchObject({
      editable: false,
    });
  });
});

describe('bodyViolations', () => {
  it('takes editable fields and annotations', () => {
    expect(bodyViolations('customers', 'POST', { displayName: 'Fabrikam', '@odata.etag': 'W/"x"' })).toEqual([]);
    expect(bodyViolations('salesQuoteLines', 'POST', { documentId: 'x', sequence: 10000 })).toEqual([]);
  });

  it('names a property the entity does not have, and a part sent as a deep insert', () => {
    expect(bodyViolations('bankAccounts', 'PATCH', { email: 'x' })).toEqual([
      "PATCH bankAccounts: 'email' is not a property of bankAccounts",
    ]);
    expect(bodyViolations('salesOrders', 'POST', { salesOrderLines: [] })).toEqual([
      "POST salesOrders: 'salesOrderLines' is a part (a deep insert), not a field",
    ]);
  });

  it('names a field that is not editable', () => {
    expect(bodyViolations('customers', 'POST', { balanceDue: 10, id: 'x' })).toEqual([
      "POST customers: 'balanceDue' is not editable",
      "POST customers: 'id' is not editable",
    ]);
    expect(bodyViolations('salesQuotes', 'PATCH', { number: 'SQ1' })).toEqual([
      "PATCH salesQuotes: 'number' is not editable",
    ]);
  });

  it('names an insert-only field on a PATCH, not on a POST', () => {
    expect(bodyViolations('salesOrderLines', 'PATCH', { sequence: 20000 })).toEqual([
      "PATCH salesOrderLines: 'sequence' may only be set on insert",
    ]);
    expect(bodyViolations('salesOrderLines', 'POST', { sequence: 20000 })).toEqual([]);
  });

  it('names a write the page does not allow at all', () => {
    expect(bodyViolations('customerFinancialDetails', 'POST', {})).toEqual([
      'POST customerFinancialDetails: the page does not allow inserts',
    ]);
    expect(bodyViolations('companyInformation', 'PATCH', { displayName: 'x' })).toEqual([]);
    expect(bodyViolations('contactsInformation', 'PATCH', {})).toEqual([
      'PATCH contactsInformation: the page does not allow modifications',
    ]);
    expect(bodyViolations('companies', 'PATCH', { name: 'x' })).toEqual([
      'PATCH companies: companies are read-only (documented: GET only)',
    ]);
  });
});

describe('getViolations', () => {
  it('takes exactly the fields with @odata.etag', () => {
    expect(getViolations('customers', fullCustomer())).toEqual([]);
  });

  it('names an extra property, a missing field and a part without $expand', () => {
    const { taxAreaDisplayName: _left, ...missing } = fullCustomer();
    expect(getViolations('customers', { ...missing, name2: 'x' })).toEqual([
      "GET customers: 'name2' is not a property of customers",
      "GET customers: 'taxAreaDisplayName' is missing",
    ]);
    expect(getViolations('customers', { ...fullCustomer(), picture: {} })).toEqual([
      "GET customers: part 'picture' without $expand",
    ]);
    expect(getViolations('customers', { ...fullCustomer(), picture: {} }, { expand: ['picture'] })).toEqual([]);
  });

  it('lets a canned answer leave fields out, not invent them', () => {
    expect(getViolations('customers', { id: 'x', displayName: 'y' }, { exact: false })).toEqual([]);
    expect(getViolations('customers', { id: 'x', name2: 'y' }, { exact: false })).toEqual([
      "GET customers: 'name2' is not a property of customers",
    ]);
  });

  it('holds companies to their documented property names', () => {
    const documented = apiv2Manifest().notInSource.companies.documentedProperties;
    expect(getViolations('companies', Object.fromEntries(documented.map((name) => [name, ''])))).toEqual([]);
    expect(getViolations('companies', { id: 'x' })).toContain("GET companies: 'name' is missing");
  });
});

describe('exchanges', () => {
  it('finds the entity set of a path', () => {
    expect(entitySetOf('/v2.0/t/production/api/v2.0/companies(abc)/customers(def)?$x=1')).toEqual({
      entitySet: 'customers',
      single: true,
    });
    expect(entitySetOf('companies(abc)/salesQuotes')).toEqual({ entitySet: 'salesQuotes', single: false });
  });

  it('checks the writes inside a $batch and the records it answers', () => {
    const violations = exchangeViolations({
      method: 'POST',
      path: '$batch',
      requestBody: {
        requests: [
          { id: '0', method: 'PATCH', url: 'companies(c)/vendors(v)', body: { balance: 1 } },
          { id: '1', method: 'GET', url: 'companies(c)/customers(k)' },
        ],
      },
      status: 200,
      responseBody: {
        responses: [
          { id: '0', status: 400, body: { error: { code: 'BadRequest', message: 'x' } } },
          { id: '1', status: 200, body: { id: 'k' } },
        ],
      },
    });
    expect(violations).toContain("$batch 0: PATCH vendors: 'balance' is not editable (answered 400)");
    expect(violations).toContain("$batch 1: GET customers: 'displayName' is missing");
  });

  it('judges only accepted bodies for tests that send refused ones on purpose', () => {
    const refused = { method: 'POST', path: 'companies(c)/vendors', requestBody: { balance: 1 }, status: 400 };
    expect(requestLogViolations([refused])).toEqual([
      "POST companies(c)/vendors: POST vendors: 'balance' is not editable (answered 400)",
    ]);
    expect(requestLogViolations([refused], { acceptedBodiesOnly: true })).toEqual([]);
    expect(
      requestLogViolations([{ ...refused, status: 201, responseBody: fullVendor() }], { acceptedBodiesOnly: true }),
    ).toEqual(["POST companies(c)/vendors: POST vendors: 'balance' is not editable"]);
  });

  it('checks every record of a page, and skips subscriptions and the token', () => {
    const log = [
      { method: 'POST', path: 'token', status: 200, responseBody: { access_token: 'x' } },
      { method: 'POST', path: 'subscriptions', requestBody: { notificationUrl: 'x' }, status: 201 },
      { method: 'GET', path: 'companies(c)/customers', query: '?$top=1', status: 200, responseBody: { value: [{}] } },
      { method: 'PATCH', path: 'companies(c)/widgets(w)', requestBody: {}, status: 200 },
    ];
    const violations = requestLogViolations(log);
    expect(violations).toContain("GET companies(c)/customers: GET customers: 'displayName' is missing");
    expect(violations).toContain(
      "PATCH companies(c)/widgets(w): PATCH companies(c)/widgets(w): 'widgets' is not an entity set of the manifest",
    );
    expect(violations.filter((violation) => /subscriptions|token/.test(violation))).toEqual([]);
  });

  it('watches what a connector sends through nock', async () => {
    nock.disableNetConnect();
    const violations: string[] = [];
    const scope = watchedByManifest(nock('https://api.businesscentral.dynamics.com'), violations)
      .post('/v2.0/t/production/api/v2.0/companies(c)/customers')
      .reply(201, { id: 'k', displayName: 'x', name2: 'y' });
    try {
      await fetch('https://api.businesscentral.dynamics.com/v2.0/t/production/api/v2.0/companies(c)/customers', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ displayName: 'x', balanceDue: 3 }),
      });
      scope.done();
      // nock tells of the reply just after the answer is handed over.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(violations).toEqual([
        "POST customers: 'balanceDue' is not editable",
        "GET customers: 'name2' is not a property of customers",
      ]);
    } finally {
      nock.cleanAll();
      nock.enableNetConnect();
    }
  });
});
