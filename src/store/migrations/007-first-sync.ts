/**
 * Version 7: the first sync's runs and their items. A real run stores its plan (the pairs to
 * link and the accounts to create contacts for) before it writes anything, and settles each item
 * as its batch is done, so a run stopped or crashed half-way resumes at its first unsettled item
 * instead of reading both systems and linking everything again.
 */
export const FIRST_SYNC = `
CREATE TABLE first_sync_run (
  id text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('linking', 'done')),
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  -- The options and the plan's counts (FirstSyncOptions, FirstSyncCounts, ...), and the final report.
  plan jsonb NOT NULL,
  report jsonb
);
-- At most one run is unfinished: the one a restart resumes.
CREATE UNIQUE INDEX first_sync_run_open_idx ON first_sync_run (state) WHERE state = 'linking';

CREATE TABLE first_sync_item (
  run_id text NOT NULL REFERENCES first_sync_run (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  action text NOT NULL CHECK (action IN ('link', 'create')),
  contact_id text,
  account_kind text NOT NULL CHECK (account_kind IN ('customer', 'vendor', 'bankAccount')),
  account_id text NOT NULL,
  score integer,
  rule text,
  outcome text CHECK (outcome IN ('linked', 'created', 'alreadyLinked', 'failed')),
  reason text,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX first_sync_item_pending_idx ON first_sync_item (run_id, seq) WHERE outcome IS NULL;
`;
