/**
 * zod schemas of the Dataverse Web API answers tandem reads: rows, and pages of collection and
 * delta queries (deleted rows come back in a delta page as `$deletedEntity`).
 * https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-data-web-api
 * https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems
 */
import { z } from 'zod';

/** A row: columns by logical name, lookups as `_<column>_value`, `@odata.etag` for If-Match. */
export const rowSchema = z
  .object({ '@odata.etag': z.string().optional(), modifiedon: z.string().nullable().optional() })
  .catchall(z.unknown());
/** One row as the Web API answers it. */
export type DataverseRow = z.infer<typeof rowSchema>;

/** A row deleted since a delta token: `{"@odata.context": ".../$deletedEntity", "id": <guid>, "reason": "deleted"}`. */
export const deletedRowSchema = z.object({
  '@odata.context': z.string().regex(/\$deletedEntity$/),
  id: z.string(),
  reason: z.string().optional(),
});

/** One page of a collection or delta query: rows, and a next link or (on the last page) a delta link. */
export const pageSchema = z.object({
  value: z.array(z.record(z.string(), z.unknown())),
  '@odata.nextLink': z.string().optional(),
  '@odata.deltaLink': z.string().optional(),
});
/** One page of a collection or delta query. */
export type DataversePage = z.infer<typeof pageSchema>;
