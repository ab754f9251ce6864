/**
 * Errors of the SQL store itself; the errors of the `Store` contract are declared with it (src/app/ports/store.ts).
 */

/** A row read from the database does not have the shape the schema promises. */
export class InvalidStoredRowError extends Error {
  readonly code = 'STORE_INVALID_ROW';
  constructor(
    readonly table: string,
    detail: string,
  ) {
    super(`unexpected row in ${table}: ${detail}`);
    this.name = 'InvalidStoredRowError';
  }
}

/** A Postgres schema name that is not a plain lower-case identifier. */
export class InvalidSchemaNameError extends Error {
  readonly code = 'STORE_INVALID_SCHEMA_NAME';
  constructor(readonly schema: string) {
    super(`schema name must be a lower-case identifier ([a-z_][a-z0-9_]*), got '${schema}'`);
    this.name = 'InvalidSchemaNameError';
  }
}
