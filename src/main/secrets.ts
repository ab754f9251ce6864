/**
 * Secrets a connector rotates (Xero's refresh token) are kept in the store, so a restart uses the
 * newest one instead of the long-spent one in the environment.
 */
import type { Store } from '../app/ports/store';
import type { ConnectorSlot } from '../core/model';

/** The rotated secrets per connector slot, as the connector factory takes them. */
export async function loadRotatedSecrets(
  store: Store,
): Promise<Partial<Record<ConnectorSlot, Record<string, string>>>> {
  const loaded: Partial<Record<ConnectorSlot, Record<string, string>>> = {};
  for (const secret of await store.listRotatedSecrets())
    loaded[secret.slot] = { ...loaded[secret.slot], [secret.name]: secret.value };
  return loaded;
}
