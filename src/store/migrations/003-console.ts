/**
 * Version 3: what the web console remembers. Rejected match proposals, so a pair an operator
 * turned down is not proposed again, and the saved versions of the config's editable sections,
 * the newest of which is in force in every process.
 */
export const CONSOLE_TABLES = `
CREATE TABLE match_rejection (
  contact_id text NOT NULL,
  account_kind text NOT NULL CHECK (account_kind IN ('customer', 'vendor', 'bankAccount')),
  account_id text NOT NULL,
  rejected_by text NOT NULL,
  rejected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (contact_id, account_kind, account_id)
);

-- Append only in practice: restoring an old version saves it again as a new one.
CREATE TABLE config_version (
  version serial PRIMARY KEY,
  saved_at timestamptz NOT NULL DEFAULT now(),
  saved_by text NOT NULL,
  comment text,
  yaml text NOT NULL
);

-- The console's "apply the losing value" and "undo" entries point at the entry they act on.
CREATE INDEX audit_log_overrides_idx ON audit_log ((details->>'overrides'));
CREATE INDEX audit_log_undoes_idx ON audit_log ((details->>'undoes'));
`;
