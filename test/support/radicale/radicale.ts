/**
 * A real Radicale (Debian's `radicale`) for integration tests: started on a free loopback port with
 * a fresh storage folder in the OS temp directory, htpasswd authentication (plain passwords) and
 * one empty address book made with an extended MKCOL (RFC 5689, as RFC 6352 section 6.3.1 allows).
 * It starts in about a second; stop() ends it and removes the folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../../../src/util/net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireServers } from '../servers';

const USERNAME = 'tandem';
const PASSWORD = 'tandem-carddav';

/** A running Radicale with one empty address book. */
export interface RadicaleInstance {
  /** The server's root, e.g. http://127.0.0.1:PORT */
  url: string;
  /** The address book's URL, ending in a slash. */
  addressBookUrl: string;
  username: string;
  password: string;
  /** The Authorization header for the test user, for requests the tests make themselves. */
  authorization: string;
  /** The temporary folder with the configuration, the users file and the storage. */
  dir: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The extended MKCOL body that makes a collection an address book (RFC 6352 section 6.3.1). */
const MKCOL_ADDRESS_BOOK = `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>
    <D:displayname>tandem tests</D:displayname>
  </D:prop></D:set>
</D:mkcol>`;

/** Starts Radicale with a fresh address book; fails with TestServerMissingError when Radicale is missing. */
export async function startRadicale(): Promise<RadicaleInstance> {
  await requireServers(['radicale']);
  const dir = mkdtempSync(join(tmpdir(), 'tandem-radicale-'));
  const port = await freePort();
  const users = join(dir, 'users');
  writeFileSync(users, `${USERNAME}:${PASSWORD}\n`);
  const conf = join(dir, 'radicale.conf');
  // https://radicale.org/v3.html#configuration: owner_only lets the user reach /tandem/ only.
  writeFileSync(
    conf,
    [
      '[server]',
      `hosts = 127.0.0.1:${port}`,
      '[auth]',
      'type = htpasswd',
      `htpasswd_filename = ${users}`,
      'htpasswd_encryption = plain',
      '[rights]',
      'type = owner_only',
      '[storage]',
      `filesystem_folder = ${join(dir, 'collections')}`,
      '[web]',
      'type = none',
      '[logging]',
      'level = warning',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('radicale', ['--config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (running()) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const authorization = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64')}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`radicale exited with ${String(child.exitCode)}: ${stderr}`);
    try {
      // Any answer means it listens; the principal's folder is made on the first authenticated request.
      await fetch(`${url}/${USERNAME}/`, { method: 'PROPFIND', headers: { authorization, depth: '0' } });
      break;
    } catch {
      if (attempt > 150) {
        await stop();
        throw new Error(`radicale did not answer on ${url} within 30 s: ${stderr}`);
      }
      await sleep(200);
    }
  }
  const addressBookUrl = `${url}/${USERNAME}/contacts/`;
  const made = await fetch(addressBookUrl, {
    method: 'MKCOL',
    headers: { authorization, 'content-type': 'application/xml; charset=utf-8' },
    body: MKCOL_ADDRESS_BOOK,
  });
  if (made.status !== 201) {
    await stop();
    throw new Error(`radicale: MKCOL of the address book answered ${String(made.status)}: ${await made.text()}`);
  }
  return { url, addressBookUrl, username: USERNAME, password: PASSWORD, authorization, dir, stop };
}
