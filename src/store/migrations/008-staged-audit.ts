/**
 * Version 8: audit entries staged before a plan's writes go out. A planner killed after its writes
 * and before it recorded them would otherwise leave writes (and the conflicts they decided) that
 * the audit log never shows; the next plan of the contact settles what is staged by the outcome
 * of each write job (see app/apply-plan.ts).
 */
export const STAGED_AUDIT = `
CREATE TABLE staged_audit (
  plan_id text PRIMARY KEY,
  contact_id text NOT NULL,
  job_ids jsonb NOT NULL,
  entries jsonb NOT NULL,
  staged_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staged_audit_contact ON staged_audit (contact_id);
`;
