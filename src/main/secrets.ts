/**
 * Secrets a connector rotates (Xero's refresh token) are kept in the store, so a restart uses the
 * newest one instead of the long-spent one in the environment.
 */
import type { Store } from '../app/ports/store';
import { CONNECTOR_SLOTS, type ConnectorSlot } from '../core/model';

/** The rotated secrets per connector slot, as the connector factory takes them. */
export async function loadRotatedSecrets(
  store: Store,
): Promise<Partial<Record<ConnectorSlot, Record<string, string>>>> {
  const loaded: Partial<Record<ConnectorSlot, Record<string, string>>> = {};
  for (const slot of CONNECTOR_SLOTS) {
    for (const name of ROTATED_SECRETS) {
      const value = await store.getCursor(secretKey(slot), name);
      if (value) loaded[slot] = { ...loaded[slot], [name]: value };
    }
  }
  return loaded;
}

/** Keeps a secret a connector rotated. */
export async function saveRotatedSecret(store: Store, slot: ConnectorSlot, name: string, value: string): Promise<void> {
  await store.setCursor(secretKey(slot), name, value);
}

const ROTATED_SECRETS = ['refreshToken'] as const;
const secretKey = (slot: ConnectorSlot) => `secret-${slot}`;
