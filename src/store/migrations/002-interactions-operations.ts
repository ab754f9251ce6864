/**
 * Version 2: the interaction log per contact, and the operations table that makes creating an
 * account or a contact idempotent across retries, double clicks and crashes.
 */
export const INTERACTIONS_AND_OPERATIONS = `
-- No foreign key: a contact lives in the CRM, and its log outlives its relations.
CREATE TABLE interaction (
  id text PRIMARY KEY,
  contact_id text NOT NULL,
  type text NOT NULL,
  description text NOT NULL,
  occurred_at timestamptz NOT NULL,
  who text NOT NULL,
  source text NOT NULL CHECK (source IN ('tandem', 'external')),
  relation_id text,
  details jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interaction_contact_idx ON interaction (contact_id, occurred_at DESC);

-- One row per idempotency key: the first caller claims it, later callers read its result.
CREATE TABLE relation_operation (
  key text PRIMARY KEY,
  kind text NOT NULL,
  state text NOT NULL CHECK (state IN ('started', 'done', 'failed')),
  result jsonb,
  error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
`;
