/**
 * The SOQL the connector writes: literals escaped as Salesforce documents (a backslash and a
 * single quote are escaped with a backslash; in LIKE, % and _ as well), dates and times as UTC.
 * https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
 */

/** A string literal: the text in single quotes, with \ and ' escaped. */
export function soqlString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A LIKE pattern for text anywhere in the value: % and _ in the text match themselves. */
export function soqlContains(text: string): string {
  const escaped = text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/%/g, '\\%').replace(/_/g, '\\_');
  return `'%${escaped}%'`;
}

/** A dateTime literal in UTC, to the second (SOQL's form: 2024-05-01T10:00:00Z). */
export function soqlDateTime(millis: number): string {
  return `${new Date(Math.floor(millis / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** The ids of an IN clause. Salesforce ids are letters and digits only, which the connector's id pattern guarantees. */
export function soqlIds(ids: readonly string[]): string {
  return `(${ids.map(soqlString).join(', ')})`;
}
