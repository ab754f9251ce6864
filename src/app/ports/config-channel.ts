/**
 * How processes tell each other that a config version was saved from the console, so each one
 * reloads it from the store (Redis pub/sub in the daemon: src/queue/config-channel.ts).
 */

/** A subscription to saved versions. */
export interface ConfigSubscription {
  /** Stops hearing announcements. */
  close(): Promise<void>;
}

/** Announces saved config versions to every process and hears the announcements of others. */
export interface ConfigVersionChannel {
  /** Tells every process (this one included) that `version` was saved. */
  announce(version: number): Promise<void>;
  /** Calls `onAnnounced` for every version announced from now on, until the subscription is closed. */
  subscribe(onAnnounced: (version: number) => void): Promise<ConfigSubscription>;
}
