/**
 * Version 11: console sessions that were signed out. A session cookie is checked by its MAC
 * alone, so signing out keeps the session's id here until the cookie would have expired; every
 * process of a deployment refuses it from then on, even when the cookie was copied before.
 */
export const REVOKED_SESSIONS = `
CREATE TABLE revoked_session (
  id text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_session_expires ON revoked_session (expires_at);
`;
