/**
 * Pure mappers between Dataverse rows and canonical contacts: accounts become contacts of type
 * `company`, contacts become contacts of type `person` belonging to their parentcustomerid account.
 */
import { type Contact, type ContactField, type FieldValue, normalizeValue } from '../../src/core/model';
import {
  type ColumnMap,
  contactTypeOf,
  DEFAULT_ACCOUNT_MAP,
  DEFAULT_CONTACT_MAP,
  type DataverseTable,
  fromContactId,
  PARENT_ACCOUNT_BIND,
  PARENT_VALUE,
  PERSON_NAME_COLUMNS,
  SYSTEM_COLUMNS,
  TABLES,
  toContactId,
} from './fields';
import { type DataverseRow, deletedRowSchema } from './schemas';

/** The mapping in force, per table: each canonical field and the columns that hold it. */
export type DataverseMapping = Record<DataverseTable, ReadonlyMap<ContactField, readonly string[]>>;

/** Builds the mapping in force from the defaults and the config's overrides per contact type. */
export function resolveMapping(fieldMap: { company?: ColumnMap; person?: ColumnMap } = {}): DataverseMapping {
  const build = (defaults: ColumnMap, override: ColumnMap = {}) => {
    const map = new Map<ContactField, readonly string[]>();
    for (const [field, column] of Object.entries({ ...defaults, ...override }) as [ContactField, string | null][])
      if (column) map.set(field, [column]);
    return map;
  };
  const contact = build(DEFAULT_CONTACT_MAP, fieldMap.person);
  // An explicit `name` (a column, or null to leave names alone) replaces the split.
  if (!(fieldMap.person && 'name' in fieldMap.person)) contact.set('name', PERSON_NAME_COLUMNS);
  return { account: build(DEFAULT_ACCOUNT_MAP, fieldMap.company), contact };
}

/** The canonical fields a mapping reads and writes, over both tables. */
export function supportedFields(mapping: DataverseMapping): string[] {
  return [...new Set([...mapping.account.keys(), ...mapping.contact.keys()])];
}

/** The columns to `$select` so that every mapped field comes back, with the id, the change time and a person's parent. */
export function columnsToSelect(table: DataverseTable, mapping: DataverseMapping): string[] {
  const parent = table === 'contact' ? [PARENT_VALUE] : [];
  return [...new Set([TABLES[table].idColumn, ...SYSTEM_COLUMNS, ...parent, ...[...mapping[table].values()].flat()])];
}

/** A Dataverse time (ISO 8601, UTC) as ISO 8601 with milliseconds; an unreadable one is the epoch, so it never wins a conflict. */
export function isoTime(raw: unknown): string {
  const millis = typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
  return new Date(Number.isNaN(millis) ? 0 : millis).toISOString();
}

/** Joins the parts of a name with a space, skipping empty ones. */
export function joinPersonName(...parts: unknown[]): FieldValue {
  return normalizeValue(
    parts
      .map((part) => normalizeValue(part))
      .filter((part) => part !== null)
      .join(' '),
  );
}

/**
 * Splits a full name on its last space: "Anna van Dijk" -> "Anna van" + "Dijk". A single word is
 * the last name, which Dataverse requires of every contact (ApplicationRequired).
 */
export function splitPersonName(name: FieldValue): { firstname: string | null; lastname: string | null } {
  const text = normalizeValue(name);
  if (text === null) return { firstname: null, lastname: null };
  const cut = text.lastIndexOf(' ');
  if (cut === -1) return { firstname: null, lastname: text };
  return { firstname: text.slice(0, cut).trim(), lastname: text.slice(cut + 1) };
}

/**
 * Maps an account or contact row to a canonical contact. Only columns present in the row become
 * fields, so a partial answer does not read as cleared fields. `modifiedon` is the record's time
 * and `@odata.etag` its version (what If-Match compares).
 */
export function toContact(table: DataverseTable, row: DataverseRow, mapping: DataverseMapping): Contact {
  const fields: Contact['fields'] = {};
  for (const [field, columns] of mapping[table]) {
    if (!columns.some((column) => column in row)) continue;
    fields[field] = joinPersonName(...columns.map((column) => row[column]));
  }
  const parent = table === 'contact' ? normalizeValue(row[PARENT_VALUE]) : null;
  // A contact's parentcustomerid may name another contact: only an account is a company contact.
  const parentIsAccount = row[`${PARENT_VALUE}@Microsoft.Dynamics.CRM.lookuplogicalname`] !== 'contact';
  return {
    entity: 'contact',
    id: toContactId(table, String(row[TABLES[table].idColumn])),
    type: contactTypeOf(table),
    companyId: parent !== null && parentIsAccount ? toContactId('account', parent) : null,
    fields,
    modifiedAt: isoTime(row.modifiedon),
    ...(row['@odata.etag'] !== undefined && { version: row['@odata.etag'] }),
  };
}

/**
 * Canonical fields as the columns of a POST or PATCH body. Fields the table does not map are left
 * out; an empty value is null, which is how the Web API clears a column. A person's company is set
 * through parentcustomerid's navigation property, never by the lookup column itself.
 */
export function toDataverseColumns(
  table: DataverseTable,
  fields: Readonly<Record<string, FieldValue | undefined>>,
  mapping: DataverseMapping,
  companyId?: string | null,
): Record<string, string | null> {
  const written: Record<string, string | null> = {};
  for (const [field, [column, ...rest]] of mapping[table]) {
    const value = fields[field];
    if (value === undefined || column === undefined) continue;
    Object.assign(written, rest.length > 0 ? splitPersonName(value) : { [column]: normalizeValue(value) });
  }
  const company = companyId === undefined || companyId === null ? null : fromContactId(companyId);
  if (table === 'contact' && company?.table === 'account')
    written[PARENT_ACCOUNT_BIND] = `/${TABLES.account.entitySet}(${company.rowId})`;
  return written;
}

/** A delta page's rows split into changed rows and the ids of deleted ones (`$deletedEntity`). */
export function splitDeltaRows(rows: readonly Record<string, unknown>[]): {
  changed: Record<string, unknown>[];
  deleted: string[];
} {
  const changed: Record<string, unknown>[] = [];
  const deleted: string[] = [];
  for (const row of rows) {
    const removed = deletedRowSchema.safeParse(row);
    if (removed.success) deleted.push(removed.data.id.toLowerCase());
    else changed.push(row);
  }
  return { changed, deleted };
}

/** OData string literal: single quotes, an embedded quote doubled. */
export function odataString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The `$filter` a picker's search sends for one word (the kit filters and ranks the rest): the
 * word in the name or e-mail columns the mapping reads, with OData's `contains()` and the quotes
 * doubled. A contact's name is searched in fullname, the read-only column Dataverse joins it in.
 * https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows
 */
export function searchFilter(table: DataverseTable, word: string, mapping: DataverseMapping): string {
  const nameColumns = mapping[table].get('name') ?? [];
  const names = table === 'contact' && nameColumns.length > 1 ? ['fullname'] : nameColumns;
  const columns = [...new Set([...names, ...(mapping[table].get('email') ?? [])])];
  const literal = odataString(word);
  return columns.map((column) => `contains(${column},${literal})`).join(' or ');
}
