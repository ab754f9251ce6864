/**
 * Version 9: the order interactions were made in. Those of one moment were listed newest first
 * by the time their statement ran, and statements run within the same tick of the clock tie
 * (PGlite's clock moves in milliseconds): a number drawn per row in insertion order decides.
 */
export const INTERACTION_ORDER = `
ALTER TABLE interaction ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
DROP INDEX interaction_contact_idx;
CREATE INDEX interaction_contact_idx ON interaction (contact_id, occurred_at DESC, seq DESC);
`;
