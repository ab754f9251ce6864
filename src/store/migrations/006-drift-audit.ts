/**
 * Version 6: the audit log records what the drift sweep found (kind `drift`: which fields of a
 * relation drifted, what each side and the shadow held, and why), beside the changes that repaired it.
 */
export const DRIFT_AUDIT = `
ALTER TABLE audit_log DROP CONSTRAINT audit_log_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_kind_check
  CHECK (kind IN ('fieldChange', 'conflict', 'link', 'unlink', 'create', 'delete', 'drift'));
`;
