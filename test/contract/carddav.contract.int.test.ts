/** The CardDAV connector against a real Radicale (Debian's), held to the connector contract (contacts). */
import { randomUUID } from 'node:crypto';
import { carddav } from '../../connectors/carddav';
import { carddavConfig } from '../../connectors/carddav/config';
import { startRadicale } from '../support/radicale/radicale';
import { describeConnectorContract } from './connector.contract';

jest.setTimeout(60_000);

describeConnectorContract('carddav', async () => {
  const radicale = await startRadicale();
  const settings = {
    ...carddavConfig.parse({ credentials: { username: radicale.username, password: radicale.password } }),
    baseUrl: radicale.addressBookUrl,
  };
  const connector = carddav.create(settings, { name: 'crm', retry: { baseDelayMs: 1 } });
  /** A request as another CardDAV client (a phone, Nextcloud) makes it. */
  const client = (method: string, name: string, headers: Record<string, string>, body?: string) =>
    fetch(`${radicale.addressBookUrl}${name}`, {
      method,
      headers: { authorization: radicale.authorization, ...headers },
      ...(body === undefined ? {} : { body }),
    });
  const vcard = (uid: string, name: string, phone: string) =>
    `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\nTEL;TYPE=WORK,VOICE:${phone}\r\nX-PHONE-APP:kept\r\nEND:VCARD\r\n`;
  const put = async (name: string, body: string) => {
    const answer = await client('PUT', name, { 'content-type': 'text/vcard' }, body);
    if (answer.status >= 300) throw new Error(`PUT ${name} answered ${String(answer.status)}`);
  };
  const createCard = async (name: string, phone: string) => {
    const uid = randomUUID();
    await put(`${uid}.vcf`, vcard(uid, name, phone));
    return `${uid}.vcf`;
  };
  return {
    connector,
    entity: 'contact',
    field: 'phone',
    missingId: 'missing.vcf',
    createRecord: (value) => createCard('Contract Person', value),
    changeRecord: async (id, value) => {
      const answer = await client('GET', id, {});
      const text = await answer.text();
      await put(id, text.replace(/^TEL[^\r\n]*$/m, `TEL;TYPE=WORK,VOICE:${value}`));
    },
    idempotentCreate: () => ({ extra: { type: 'person' } }),
    cleanup: async () => {
      await connector.close?.();
      await radicale.stop();
    },
  };
});
