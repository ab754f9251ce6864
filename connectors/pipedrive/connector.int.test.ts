/** The Pipedrive connector against its sandbox: persons, the poll cursor at v2's one-second precision, search, and every body held to the client's models. */
import { modelViolations } from '../../test/support/pipedrive/models';
import type { Connector } from '../kit/types';
import { createPipedriveConnector } from './connector';
import { startPipedriveSandbox, type PipedriveSandbox } from './sandbox';

let sandbox: PipedriveSandbox;
let connector: Connector;
beforeEach(async () => {
  sandbox = await startPipedriveSandbox();
  connector = createPipedriveConnector({
    name: 'crm',
    baseUrl: sandbox.url,
    apiToken: sandbox.apiToken,
    retry: { baseDelayMs: 1 },
  });
});
afterEach(async () => {
  const sent = sandbox.requests.flatMap((entry) => {
    const organizations = entry.path.startsWith('/organizations');
    if (entry.method === 'PATCH')
      return modelViolations(organizations ? 'UpdateOrganizationRequest' : 'UpdatePersonRequest', entry.requestBody);
    if (entry.method === 'POST')
      return modelViolations(organizations ? 'AddOrganizationRequest' : 'AddPersonRequest', entry.requestBody);
    return [];
  });
  await sandbox.close();
  expect(sent).toEqual([]);
});

const changes = async (cursor: string | null) => {
  const ids: string[] = [];
  let last = cursor ?? '';
  for await (const page of connector.listChanged!('contact', cursor)) {
    ids.push(...page.records.map((record) => record.id));
    last = page.cursor;
  }
  return { ids, cursor: last };
};

describe('Pipedrive connector', () => {
  it('reads a person with its organization, and writes its e-mail keeping the other entries', async () => {
    const organization = sandbox.createOrganization({ name: 'Boulangerie Moreau' });
    const person = sandbox.createPerson({
      name: 'Ada Moreau',
      org_id: organization.id,
      emails: [
        { value: 'ada.home@example.com', primary: false, label: 'home' },
        { value: 'ada@moreau.example', primary: true, label: 'work' },
      ],
    });
    const id = `person-${String(person.id)}`;
    expect(await connector.get('contact', id)).toMatchObject({
      companyId: `company-${String(organization.id)}`,
      fields: { email: 'ada@moreau.example' },
    });
    const updated = await connector.update!('contact', { id, fields: { email: 'ada@new.example' } });
    expect(updated.fields.email).toBe('ada@new.example');
    expect(sandbox.getPerson(person.id)?.emails).toEqual([
      { value: 'ada.home@example.com', primary: false, label: 'home' },
      { value: 'ada@new.example', primary: true, label: 'work' },
    ]);
  });

  it('hands on a change made within the second of the cursor, and nothing else again', async () => {
    const organization = sandbox.createOrganization({ name: 'Moreau', website: 'https://a.example' });
    sandbox.createPerson({ name: 'Ada' });
    const first = await changes(null);
    expect(first.ids).toEqual([`company-${String(organization.id)}`, 'person-1']);
    expect((await changes(first.cursor)).ids).toEqual([]);
    // Most likely within the same second as the first poll: v2 times cannot tell the two apart.
    sandbox.updateOrganization(organization.id, { website: 'https://b.example' });
    const second = await changes(first.cursor);
    expect(second.ids).toEqual([`company-${String(organization.id)}`]);
    expect((await changes(second.cursor)).ids).toEqual([]);
  });

  it('finds organizations and persons for the pickers, read whole', async () => {
    const organization = sandbox.createOrganization({ name: 'Boulangerie Moreau', website: 'https://moreau.example' });
    sandbox.createPerson({ name: 'Ada Moreau', org_id: organization.id });
    const found = await connector.search!('contact', 'moreau', 10);
    expect(found.map((record) => record.id).sort()).toEqual([`company-${String(organization.id)}`, 'person-1']);
    expect(found.find((record) => record.id.startsWith('company-'))?.fields).toMatchObject({
      homePage: 'https://moreau.example',
    });
  });

  it('creates a person in its organization once per idempotency key, and refuses one without a name before any call', async () => {
    const organization = sandbox.createOrganization({ name: 'Boulangerie Moreau' });
    const options = {
      idempotencyKey: 'demo-customer-1',
      extra: { type: 'person', companyId: `company-${String(organization.id)}` },
    };
    const created = await connector.create!('contact', { name: 'Ada Moreau', email: 'ada@moreau.example' }, options);
    expect(created).toMatchObject({
      type: 'person',
      companyId: `company-${String(organization.id)}`,
      fields: { email: 'ada@moreau.example' },
    });
    const again = await connector.create!('contact', { name: 'Ada Moreau', email: 'ada@moreau.example' }, options);
    expect(again.id).toBe(created.id);
    expect(sandbox.listPersons()).toHaveLength(1);
    expect(sandbox.listPersons()[0]?.custom_fields).toEqual({ tandem_idempotency_key: 'demo-customer-1' });
    sandbox.resetRequests();
    await expect(
      connector.create!('contact', { city: 'Paris' }, { idempotencyKey: 'k2', extra: { type: 'company' } }),
    ).rejects.toThrow(/requires a name/);
    expect(sandbox.countRequests({ method: 'POST' })).toBe(0);
  });

  it('refuses an id that is not one of its own before any call, and an update of a missing record', async () => {
    await expect(connector.get('contact', 'deal-1')).rejects.toThrow(/not a Pipedrive contact id/);
    await expect(connector.update!('contact', { id: 'person-404', fields: { name: 'X' } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(sandbox.countRequests({ method: 'PATCH' })).toBe(0);
  });
});
