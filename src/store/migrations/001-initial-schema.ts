/**
 * Version 1: relations, their shadow, connector cursors, processed webhook events, and the
 * append-only audit log. Plain Postgres, so the same text runs on a server and on PGlite.
 */
export const INITIAL_SCHEMA = `
CREATE TABLE business_relation (
  id text PRIMARY KEY,
  contact_id text NOT NULL,
  account_kind text NOT NULL CHECK (account_kind IN ('customer', 'vendor', 'bankAccount')),
  account_id text NOT NULL,
  relation_code text NOT NULL,
  origin text NOT NULL
    CHECK (origin IN ('linked', 'createdFromContact', 'createdFromAccount', 'automatic')),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- A contact holds at most one relation per kind (one customer, one vendor, one bank account).
  CONSTRAINT business_relation_contact_kind_key UNIQUE (contact_id, account_kind),
  -- An account belongs to at most one contact.
  CONSTRAINT business_relation_account_key UNIQUE (account_kind, account_id)
);
-- The (contact_id, account_kind) unique index already serves lookups by contact_id; an explicit
-- index keeps the intent visible and survives a later change to that constraint.
CREATE INDEX business_relation_contact_id_idx ON business_relation (contact_id);

CREATE TABLE relation_shadow (
  relation_id text NOT NULL REFERENCES business_relation (id) ON DELETE CASCADE,
  side text NOT NULL CHECK (side IN ('contact', 'account')),
  field text NOT NULL,
  value text,
  source_modified_at timestamptz NOT NULL,
  synced_at timestamptz NOT NULL,
  PRIMARY KEY (relation_id, side, field)
);

CREATE TABLE connector_cursor (
  connector text NOT NULL,
  entity text NOT NULL,
  cursor text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connector, entity)
);

CREATE TABLE processed_event (
  source text NOT NULL,
  event_id text NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, event_id)
);
CREATE INDEX processed_event_seen_at_idx ON processed_event (seen_at);

-- No foreign key to business_relation: the history of a relation outlives the relation.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL
    CHECK (kind IN ('fieldChange', 'conflict', 'link', 'unlink', 'create', 'delete')),
  relation_id text,
  contact_id text,
  account_kind text CHECK (account_kind IN ('customer', 'vendor', 'bankAccount')),
  account_id text,
  field text,
  old_value text,
  new_value text,
  direction text CHECK (direction IN ('toAccounting', 'toCrm')),
  source_system text CHECK (source_system IN ('crm', 'accounting', 'tandem')),
  source_modified_at timestamptz,
  job_id text,
  details jsonb,
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_contact_id_idx ON audit_log (contact_id);
CREATE INDEX audit_log_account_idx ON audit_log (account_kind, account_id);
CREATE INDEX audit_log_relation_id_idx ON audit_log (relation_id);
CREATE INDEX audit_log_applied_at_idx ON audit_log (applied_at);

-- The store has no update or delete for the audit log; the trigger also stops anyone with SQL
-- access from rewriting history. TRUNCATE (row triggers do not fire) stays possible for an
-- operator who deliberately discards the whole log.
CREATE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'object_not_in_prerequisite_state';
END
$$;
CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change();
`;
