/**
 * Version 4: secrets a connector rotates (Xero's refresh token) get a table of their own. They
 * were kept in connector_cursor under `secret-<slot>`; those rows move here, so a restart keeps
 * using the newest token.
 */
export const ROTATED_SECRETS = `
CREATE TABLE rotated_secret (
  connector_slot text NOT NULL CHECK (connector_slot IN ('crm', 'accounting')),
  name text NOT NULL,
  value text NOT NULL,
  rotated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connector_slot, name)
);

INSERT INTO rotated_secret (connector_slot, name, value, rotated_at)
  SELECT substring(connector FROM 8), entity, cursor, updated_at
  FROM connector_cursor
  WHERE connector IN ('secret-crm', 'secret-accounting');
DELETE FROM connector_cursor WHERE connector IN ('secret-crm', 'secret-accounting');
`;
