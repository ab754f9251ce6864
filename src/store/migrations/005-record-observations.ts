/**
 * Version 5: what tandem observed of each record it read (see src/core/observe.ts): the record's
 * time at the newest observation, and per field its value and the window in which it changed to
 * it. Last-writer-wins credits a field with that window rather than with the record's latest time.
 * Times are kept as the ISO 8601 text the provider gave, as they are compared with its other times.
 */
export const RECORD_OBSERVATIONS = `
CREATE TABLE record_observation (
  connector_slot text NOT NULL CHECK (connector_slot IN ('crm', 'accounting')),
  entity text NOT NULL,
  record_id text NOT NULL,
  modified_at text NOT NULL,
  fields jsonb NOT NULL,
  observed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connector_slot, entity, record_id)
);
`;
