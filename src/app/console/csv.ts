/** The audit log as RFC 4180 CSV, safe to open in a spreadsheet. */
import type { AuditEntry } from '../ports/store';

/** The columns, in order. */
export const AUDIT_CSV_COLUMNS = [
  'id',
  'appliedAt',
  'kind',
  'relationId',
  'contactId',
  'accountKind',
  'accountId',
  'field',
  'oldValue',
  'newValue',
  'direction',
  'sourceSystem',
  'sourceModifiedAt',
  'jobId',
  'details',
] as const;

/**
 * One cell. A value starting with = + - @ (or a tab or carriage return) would run as a formula
 * in a spreadsheet, so it gets a leading apostrophe (OWASP, "CSV Injection"); a value with a
 * comma, quote or line break is quoted, quotes doubled (RFC 4180, 2.6 and 2.7).
 */
export function csvCell(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The entries as CSV, header first, CRLF line ends. */
export function auditToCsv(entries: readonly AuditEntry[]): string {
  const lines = [AUDIT_CSV_COLUMNS.join(',')];
  for (const entry of entries) {
    const cells: Array<string | null | undefined> = [
      entry.id,
      entry.appliedAt,
      entry.kind,
      entry.relationId,
      entry.contactId,
      entry.accountKind,
      entry.accountId,
      entry.field,
      entry.oldValue,
      entry.newValue,
      entry.direction,
      entry.sourceSystem,
      entry.sourceModifiedAt,
      entry.jobId,
      entry.details == null ? null : JSON.stringify(entry.details),
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
