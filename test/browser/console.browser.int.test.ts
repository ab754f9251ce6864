/**
 * The console in a real browser (Debian's Chromium through playwright-core; no browser is ever
 * downloaded) against a daemon over both sandboxes: sign in, find a relation and see both sides,
 * make and resolve a conflict, edit a mapping with preview and save, undo a change, open the queue
 * board. Screenshots of each page go to test/artifacts/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor } from '../../src/util/net';
import { ACCOUNT_MANAGER, settle, startRig, type Rig } from '../support/harness';
import { requireServers } from '../support/servers';

/** Debian's Chromium; scripts/test-servers.sh installs it and checks the same path. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN = 'browser-admin-token-0123456789';
const ARTIFACTS = path.resolve(__dirname, '../artifacts');

jest.setTimeout(60_000);

describe('console in the browser', () => {
  let rig: Rig;
  let browser: Browser;
  let page: Page;
  let company: Awaited<ReturnType<Rig['linkedCompany']>>;
  /** What beforeAll started, undone in reverse order: it may fail before starting anything. */
  const started: Array<() => Promise<void>> = [];

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: false });
  const toast = (text: string | RegExp) => page.locator('#toast .msg', { hasText: text }).first().waitFor();

  beforeAll(async () => {
    await requireServers(['chromium']);
    mkdirSync(ARTIFACTS, { recursive: true });
    [rig, browser] = await Promise.all([
      startRig({
        adminTokens: { admin: [ADMIN], viewer: [] },
        accountingWebhooks: false,
        // Creating a customer from a contact takes the kind's default template.
        config: (base) => ({ ...base, templates: { customer: { default: { fields: { currencyCode: 'EUR' } } } } }),
        // A portal with a custom property of its own, as a real one has.
        hubspot: {
          properties: {
            companies: [ACCOUNT_MANAGER],
          },
        },
      }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    ]);
    started.push(
      () => rig.stop(),
      () => browser.close(),
    );
    company = await rig.linkedCompany(
      { name: 'Northwind Traders', phone: '+44 20 7000 0001', city: 'London', email: 'info@northwind.example' },
      ['customer'],
    );
    rig.bc.createVendor({ displayName: 'Tailspin Toys', email: 'ap@tailspin.example' });
    rig.hubspot.createCompany({ name: 'Tailspin Toys', tandem_email: 'ap@tailspin.example' });
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.setDefaultTimeout(8_000);
  });
  afterAll(async () => {
    for (const stop of started.reverse()) await stop();
  });

  const crmPhone = () => rig.hubspot.getCompany(company.hubspotId)?.properties.phone;
  const bcPhone = () => rig.bc.getCustomer(company.accounts.customer as string)?.phoneNumber;

  it('signs in, finds a relation and shows both sides', async () => {
    await page.goto(`${rig.daemon.url}/ui/relations`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await shot('login');
    await page.fill('#token', ADMIN);
    await page.click('button[type=submit]');
    await page.waitForURL('**/ui/relations');

    await page.fill('input[name=text]', 'northwind');
    await page.click('#filter button[type=submit]');
    await page.waitForURL(/text=northwind/);
    await page.locator('tbody tr', { hasText: 'Northwind Traders' }).waitFor();
    await shot('relations');
    await page.click('text=Open');
    await page.waitForURL(/\/ui\/relations\/[^/?]+$/);
    const phoneRow = page.locator('tbody tr', { hasText: 'phone' }).first();
    await expect(phoneRow.textContent()).resolves.toContain('+44 20 7000 0001');
    expect(((await phoneRow.textContent()) ?? '').split('+44 20 7000 0001').length).toBe(3); // both sides
  });

  it('shows a conflict made on both sides and applies the losing value', async () => {
    rig.hubspot.setWebhookTarget(null);
    rig.hubspot.updateCompany(company.hubspotId, { phone: '+44 20 7000 1111' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    rig.bc.updateCustomer(company.accounts.customer as string, { phoneNumber: '+44 20 7000 2222' });

    await page.click('#resync');
    await toast(/Sync enqueued/);
    await settle(rig);
    await page.goto(`${rig.daemon.url}/ui/conflicts`);
    const row = page.locator('tbody tr', { hasText: '+44 20 7000 1111' }).first();
    await row.waitFor();
    expect(await row.textContent()).toContain('+44 20 7000 2222');
    await waitFor(async () => crmPhone() === '+44 20 7000 2222', 10_000);
    await shot('conflicts');

    await row.locator('button.apply-loser').click();
    await toast(/Losing value applied/);
    await waitFor(async () => crmPhone() === '+44 20 7000 1111' && bcPhone() === '+44 20 7000 1111', 10_000);
    await settle(rig);
  });

  it('undoes a change from its audit entry', async () => {
    await page.goto(`${rig.daemon.url}/ui/audit?kind=fieldChange&field=phone`);
    const newest = page.locator('tbody tr', { hasText: '+44 20 7000 1111' }).first();
    await newest.waitFor();
    await shot('audit');
    // Columns: when, kind, relation, record, field, old, new, source.
    const oldValue = (await newest.locator('td').nth(5).textContent())?.trim();
    const source = (await newest.locator('td').nth(7).textContent()) ?? '';
    const undone = (await newest.textContent()) ?? '';
    await newest.locator('button.undo').click();
    await toast(/Change undone/);
    const written = source.includes('toCrm') ? crmPhone : bcPhone;
    await waitFor(async () => written() === oldValue, 10_000).catch((error: unknown) => {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}: undo of ${undone} left crm ${String(crmPhone())} and accounting ${String(bcPhone())}`,
      );
    });
    await settle(rig);
  });

  it('edits a mapping: validated while typing, previewed, then saved and in force', async () => {
    await page.goto(`${rig.daemon.url}/ui/config`);
    await page.click('#view-yaml');
    const editor = page.locator('#yaml');
    await editor.waitFor();
    const original = await editor.inputValue();
    expect(original).toContain('mappings');
    await editor.fill(original.replace(/direction: both/, 'direction: sideways'));
    await page.locator('#problems .problems', { hasText: 'direction' }).waitFor();
    expect(await page.locator('#save').isDisabled()).toBe(true);

    await editor.fill(original.replace(/direction: both/, 'direction: toAccounting'));
    await page.locator('#problems .valid').waitFor();
    await page.click('#preview');
    await page.locator('#preview-out', { hasText: 'relation(s) checked' }).waitFor();
    await shot('config');
    await page.fill('#comment', 'contact is the master of the first field');
    await page.click('#save');
    await toast(/Saved and applied as version 1/);
    await page.locator('#source', { hasText: 'stored version 1' }).waitFor();
    expect(rig.daemon.engine.config.mappings.customer?.some((mapping) => mapping.direction === 'toAccounting')).toBe(
      true,
    );
  });

  /** Saves what the mapping editor holds now, after a preview. */
  async function previewAndSave(comment: string, checkPreview?: () => Promise<void>) {
    await page.locator('#problems .valid').waitFor();
    await page.click('#preview');
    await page.locator('#preview-out', { hasText: 'relation(s) checked' }).waitFor();
    await checkPreview?.();
    await page.fill('#comment', comment);
    await page.click('#save');
    await toast(/Saved and applied as version \d+/);
  }

  it('maps a custom HubSpot property onto a Business Central field through the table, with a value table', async () => {
    // Set before the mapping exists: the preview must read the new property to show its write.
    rig.hubspot.updateCompany(company.hubspotId, { account_manager: 'Anna de Vries' });
    await page.goto(`${rig.daemon.url}/ui/config`);
    await page.locator('#mappings tr.mapping').first().waitFor();
    await page.click('#add-mapping');
    const row = page.locator('#mappings tr.mapping').last();
    await row.locator('select.contact').selectOption('custom.account_manager');
    await row.locator('select.account').selectOption('salespersonCode');
    await row.locator('textarea.values').fill('Anna de Vries = AV\nBram Jansen = BJ');
    await shot('mapping-table');
    await previewAndSave('account manager as salesperson code', async () => {
      const preview = page.locator('#preview-out');
      await preview.locator('td', { hasText: 'salespersonCode' }).first().waitFor();
      expect(await preview.textContent()).toContain('AV');
    });
    // The CRM's webhooks are off since the undo test: a poll finds the value set before the mapping.
    await rig.daemon.pollNow('crm');
    await waitFor(() => rig.bc.getCustomer(company.accounts.customer as string)?.salespersonCode === 'AV', 15_000);
    const mapped = rig.daemon.engine.config.mappings.customer?.find(
      (mapping) => mapping.contact === 'custom.account_manager',
    );
    expect(mapped).toMatchObject({
      account: 'salespersonCode',
      values: { 'Anna de Vries': 'AV', 'Bram Jansen': 'BJ' },
    });

    const customer = company.accounts.customer as string;
    rig.hubspot.updateCompany(company.hubspotId, { account_manager: 'Bram Jansen' });
    await rig.daemon.pollNow('crm');
    await waitFor(() => rig.bc.getCustomer(customer)?.salespersonCode === 'BJ', 15_000);
    await rig.flush();
    rig.bc.updateCustomer(customer, { salespersonCode: 'AV' });
    await rig.daemon.pollNow('accounting');
    await waitFor(
      () => rig.hubspot.getCompany(company.hubspotId)?.properties.account_manager === 'Anna de Vries',
      15_000,
    );
    await rig.flush();
  });

  it('adds a sync filter through the table, and a record it leaves out is left alone', async () => {
    await page.goto(`${rig.daemon.url}/ui/config`);
    await page.locator('#mappings tr.mapping').first().waitFor();
    await page.click('#add-account-condition');
    const condition = page.locator('#conditions tr.condition').last();
    await condition.locator('select.field').selectOption('custom.blocked');
    await condition.locator('select.operator').selectOption('empty');
    await previewAndSave('blocked customers are left alone');
    expect(rig.daemon.engine.config.filters.customer).toEqual({ account: [{ field: 'custom.blocked', empty: true }] });

    const customer = company.accounts.customer as string;
    rig.bc.updateCustomer(customer, { blocked: 'All' });
    const before = bcPhone();
    rig.hubspot.updateCompany(company.hubspotId, { phone: '+44 20 7000 0999' });
    await rig.flush();
    await rig.daemon.queues.enqueueChanges([
      { connector: 'crm', entity: 'contact', id: company.contactId, source: 'manual' },
    ]);
    await settle(rig);
    expect(bcPhone()).toBe(before);
    const relation = (await rig.store.findRelationsByContact(company.contactId))[0]?.id as string;
    await page.goto(`${rig.daemon.url}/ui/relations/${relation}`);
    await page.locator('#filtered', { hasText: 'filtered' }).waitFor();
    await shot('relation-filtered');
    rig.bc.updateCustomer(customer, { blocked: ' ' });
    await rig.daemon.pollNow('accounting');
    await waitFor(() => bcPhone() === '+44 20 7000 0999', 15_000);
  });

  it('shows the overview, the matching review and the queue board', async () => {
    const sweep = await rig.daemon.drift.runNow();
    await page.goto(`${rig.daemon.url}/ui`);
    await page.locator('[data-connector=crm]').waitFor();
    // The last drift sweep, with what it compared.
    await page.locator('[data-drift]', { hasText: `${sweep?.relations ?? -1} relations compared` }).waitFor();
    await shot('overview');
    await page.goto(`${rig.daemon.url}/ui/matches`);
    await page.locator('h2', { hasText: 'Unambiguous pairs' }).waitFor();
    await shot('matches');
    await page.goto(
      `${rig.daemon.url}/ui/relations/${(await rig.store.findRelationsByContact(company.contactId))[0]?.id}`,
    );
    await page.locator('h2', { hasText: 'History' }).waitFor();
    await shot('relation');
    await page.goto(`${rig.daemon.url}/ui/queues`);
    await page.getByText('write-accounting').first().waitFor();
    await shot('queues');
  });

  it('links and creates through pickers that search each system by name', async () => {
    const roasters = rig.hubspot.createCompany({
      name: 'Fourth Coffee Roasters',
      tandem_email: 'hello@fourthcoffee.example',
    });
    const vendor = rig.bc.createVendor({ displayName: 'Fourth Coffee', email: 'ap@fourthcoffee.example' });
    const importers = rig.bc.createCustomer({ displayName: 'Wide World Importers', city: 'Seattle' });
    const proseware = rig.hubspot.createCompany({ name: 'Proseware Inc', city: 'Dublin' });
    await page.goto(`${rig.daemon.url}/ui/relations`);

    // The contact picker marks a contact already linked, and finds by words in any order.
    const link = page.locator('#link');
    const contactText = link.locator('.picker[data-name=contactId] .picker-text');
    await contactText.fill('northwind');
    await link
      .locator('[role=option]', { hasText: 'Northwind Traders' })
      .locator('.pill', { hasText: 'customer' })
      .waitFor();
    await contactText.fill('roasters fourth');
    await link.locator('[role=option]', { hasText: 'Fourth Coffee Roasters' }).click();
    await link.locator('select[name=accountKind]').selectOption('vendor');
    const accountText = link.locator('.picker[data-name=accountId] .picker-text');
    await accountText.fill('fourth');
    // Keyboard: the first result is active, Enter picks it.
    await link
      .locator('.picker[data-name=accountId] [role=option][aria-selected=true]', { hasText: 'Fourth Coffee' })
      .waitFor();
    await shot('picker');
    await accountText.press('Enter');
    await expect(link.locator('.picker[data-name=accountId] .picker-chosen').textContent()).resolves.toContain(
      String(vendor.number),
    );
    await link.locator('button.primary').click();
    await page.waitForURL(/\/ui\/relations\/[^/?]+$/);
    expect(await rig.store.findRelationByAccount('vendor', String(vendor.id))).toMatchObject({
      contactId: `company-${roasters.id}`,
    });

    // Create a contact from an account picked by name.
    await page.goto(`${rig.daemon.url}/ui/relations`);
    const createContact = page.locator('#create-contact');
    await createContact.locator('.picker-text').fill('wide world');
    await createContact.locator('[role=option]', { hasText: 'Wide World Importers' }).click();
    await createContact.locator('button.primary').click();
    await page.waitForURL(/\/ui\/relations\/[^/?]+$/);
    const created = await rig.store.findRelationByAccount('customer', String(importers.id));
    expect(created?.origin).toBe('createdFromAccount');

    // Create an account from a contact picked by name; text that is not picked is taken as an id.
    await page.goto(`${rig.daemon.url}/ui/relations`);
    const createAccount = page.locator('#create-account');
    await createAccount.locator('.picker-text').fill('proseware');
    await createAccount.locator('[role=option]', { hasText: 'Proseware Inc' }).click();
    await createAccount.locator('button.primary').click();
    await page.waitForURL(/\/ui\/relations\/[^/?]+$/);
    const [made] = await rig.store.findRelationsByContact(`company-${proseware.id}`);
    expect(made).toMatchObject({ accountKind: 'customer', origin: 'createdFromContact' });
    expect(rig.bc.getCustomer(made!.accountId)?.displayName).toBe('Proseware Inc');
  });
});
