/**
 * Business Central's API v2.0 for one company, in canonical records: customers, vendors, bank
 * accounts and contacts. Every call goes through the shared HttpClient (auth, retries, errors).
 */
import type { Contact, FieldValue, SyncRecord } from '../../src/core/model';
import {
  ConnectorError,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  PreconditionFailedError,
  RateLimitedError,
  TransientError,
} from '../kit/errors';
import type { HttpClient } from '../kit/http';
import type { BatchItemResult, ChangedPage, CreatedDocument, DocumentType, RecordUpdate } from '../kit/types';
import { startDocument, type DocumentInput } from './documents';
import { COLLECTIONS, fromContactType, fromFields, toAccount, toContact, type BcEntity } from './mappers';
import { odataGuid, odataString, withQuery } from './odata';
import {
  bcBatchResponseSchema,
  bcErrorSchema,
  bcPageSchema,
  bcRecordSchema,
  parseResponse,
  type BcRecord,
} from './schemas';
import { parseTemplateValues } from './templates';

/** BC refuses a `$batch` with more than 100 operations. */
export const BATCH_LIMIT = 100;
/** Ids per `$filter=id eq ... or ...` request, so the URL stays well under BC's length limit. */
const IDS_PER_FILTER = 20;

/** Options of a create beyond the canonical fields. */
export interface BcCreateOptions {
  /**
   * BC properties written with the record, for example `paymentTermsId` or `number`; checked
   * against what BC accepts for the entity (see templates.ts). Canonical fields win over them.
   */
  extra?: Record<string, unknown>;
  /** For a contact: person or company (default company). */
  contactType?: Contact['type'];
}

/** Canonical access to one BC company. */
export class BusinessCentralApi {
  constructor(
    private readonly http: HttpClient,
    readonly companyId: string,
  ) {
    odataGuid(companyId);
  }

  /** The collection path of an entity, relative to the API base. */
  collectionPath(entity: BcEntity): string {
    return `companies(${this.companyId})/${COLLECTIONS[entity]}`;
  }

  private recordPath(entity: BcEntity, id: string): string {
    return `${this.collectionPath(entity)}(${odataGuid(id)})`;
  }

  /**
   * Pages of records modified after `cursor`. Ordered by lastModifiedDateTime so a saved cursor
   * never skips a record on a later page; see cursorAfterPage for ties at a page boundary.
   */
  async *listChanged(entity: BcEntity, cursor: string | null): AsyncIterable<ChangedPage> {
    // An empty cursor is what a first run over an empty collection saved: still "from the start".
    const since = cursor === null || cursor === '' ? null : new Date(cursor);
    if (since !== null && Number.isNaN(since.getTime()))
      throw new InvalidRequestError(`business-central: cursor '${cursor}' is not a date`);
    let url: string | undefined = withQuery(this.collectionPath(entity), {
      $filter: since === null ? undefined : `lastModifiedDateTime gt ${since.toISOString()}`,
      $orderby: 'lastModifiedDateTime asc',
    });
    let current = since === null ? null : since.toISOString();
    while (url !== undefined) {
      const page = await this.getPage(url, entity);
      url = page['@odata.nextLink'];
      current = cursorAfterPage(page.value, current, url === undefined);
      yield { records: await this.toRecords(entity, page.value), cursor: current ?? '' };
    }
  }

  /** One record, or null when BC no longer has it. */
  async get(entity: BcEntity, id: string): Promise<SyncRecord | null> {
    const raw = await this.getRaw(entity, id);
    return raw === null ? null : (await this.toRecords(entity, [raw]))[0]!;
  }

  /** Several records by id, read with `id eq ... or id eq ...` filters; missing ones left out. */
  async batchGet(entity: BcEntity, ids: string[]): Promise<SyncRecord[]> {
    const raws = await this.getRawMany(entity, ids);
    return this.toRecords(entity, raws);
  }

  /** Records whose `number` equals the given one (BC numbers are unique per entity). */
  async findByNumber(entity: BcEntity, number: string): Promise<SyncRecord | null> {
    const page = await this.getPage(
      withQuery(this.collectionPath(entity), { $filter: `number eq ${odataString(number)}` }),
      entity,
    );
    const first = page.value[0];
    return first === undefined ? null : (await this.toRecords(entity, [first]))[0]!;
  }

  /**
   * Creates a record. When `extra.number` is given, a record with that number is looked up first
   * and returned instead of creating a duplicate: that is the only idempotency BC allows.
   */
  async create(
    entity: BcEntity,
    fields: Record<string, FieldValue>,
    options: BcCreateOptions = {},
  ): Promise<SyncRecord> {
    const extra = parseTemplateValues(entity, options.extra);
    // Mapped before any request, so an unknown canonical field fails without a lookup either.
    const mapped = fromFields(entity, fields);
    const number = extra.number;
    if (typeof number === 'string' && number !== '') {
      const existing = await this.findByNumber(entity, number);
      if (existing !== null) return existing;
    }
    const body: Record<string, unknown> = { ...extra, ...mapped };
    if (entity === 'contact' && options.contactType !== undefined) body.type = fromContactType(options.contactType);
    const response = await this.http.request({
      method: 'POST',
      url: this.collectionPath(entity),
      data: body,
      headers: { 'Content-Type': 'application/json' },
    });
    const raw = parseResponse(bcRecordSchema, response.data, `${entity} create response`);
    return (await this.toRecords(entity, [raw]))[0]!;
  }

  /** Starts a sales quote or order for a customer; see documents.ts for how retries find it. */
  async createDocument(type: DocumentType, input: DocumentInput): Promise<CreatedDocument> {
    return startDocument(this.http, this.companyId, type, input);
  }

  /**
   * Writes fields with If-Match. Without a planned version the current one is read first, so a
   * write never goes out with `*` and silently overwrites a concurrent edit made after that read.
   */
  async update(entity: BcEntity, update: RecordUpdate): Promise<SyncRecord> {
    const ifMatch = update.ifMatch ?? (await this.currentEtag(entity, update.id));
    const response = await this.http.request({
      method: 'PATCH',
      url: this.recordPath(entity, update.id),
      data: fromFields(entity, update.fields),
      headers: { 'Content-Type': 'application/json', 'If-Match': ifMatch },
    });
    const raw = parseResponse(bcRecordSchema, response.data, `${entity} update response`);
    return (await this.toRecords(entity, [raw]))[0]!;
  }

  /** Writes several records through JSON `$batch`, 100 operations per call; one result per update. */
  async batchUpdate(entity: BcEntity, updates: RecordUpdate[]): Promise<BatchItemResult[]> {
    const results: BatchItemResult[] = [];
    for (let start = 0; start < updates.length; start += BATCH_LIMIT) {
      results.push(...(await this.batchChunk(entity, updates.slice(start, start + BATCH_LIMIT))));
    }
    return results;
  }

  private async batchChunk(entity: BcEntity, updates: RecordUpdate[]): Promise<BatchItemResult[]> {
    const missing = updates.filter((update) => update.ifMatch === undefined).map((update) => update.id);
    const etags = new Map<string, string>();
    for (const raw of await this.getRawMany(entity, missing)) {
      if (raw['@odata.etag'] !== undefined) etags.set(raw.id, raw['@odata.etag']);
    }
    const results = new Map<number, BatchItemResult>();
    const requests: Array<Record<string, unknown>> = [];
    for (const [index, update] of updates.entries()) {
      const ifMatch = update.ifMatch ?? etags.get(update.id);
      if (ifMatch === undefined) {
        results.set(index, {
          id: update.id,
          ok: false,
          error: new NotFoundError(`business-central: ${entity} ${update.id} not found`),
        });
        continue;
      }
      let body: Record<string, string>;
      try {
        body = fromFields(entity, update.fields);
      } catch (error) {
        results.set(index, { id: update.id, ok: false, error: asError(error) });
        continue;
      }
      requests.push({
        method: 'PATCH',
        id: String(index),
        url: this.recordPath(entity, update.id),
        headers: { 'Content-Type': 'application/json', 'If-Match': ifMatch },
        body,
      });
    }
    if (requests.length > 0) {
      const response = await this.http.request({
        method: 'POST',
        url: '$batch',
        data: { requests },
        headers: { 'Content-Type': 'application/json' },
      });
      const batch = parseResponse(bcBatchResponseSchema, response.data, '$batch response');
      const byId = new Map(batch.responses.map((item) => [item.id, item]));
      for (const request of requests) {
        const index = Number(request.id);
        const update = updates[index]!;
        const item = byId.get(String(request.id));
        if (item === undefined) {
          results.set(index, {
            id: update.id,
            ok: false,
            error: new InvalidResponseError(`business-central: $batch response lacks item ${String(request.id)}`),
          });
        } else if (item.status >= 200 && item.status < 300) {
          try {
            const raw = parseResponse(bcRecordSchema, item.body, `${entity} $batch item`);
            results.set(index, { id: update.id, ok: true, record: (await this.toRecords(entity, [raw]))[0]! });
          } catch (error) {
            results.set(index, { id: update.id, ok: false, error: asError(error) });
          }
        } else {
          results.set(index, {
            id: update.id,
            ok: false,
            error: batchItemError(item.status, item.headers, item.body, `${entity} ${update.id}`),
          });
        }
      }
    }
    return updates.map((_, index) => results.get(index)!);
  }

  private async currentEtag(entity: BcEntity, id: string): Promise<string> {
    const raw = await this.getRaw(entity, id);
    if (raw === null) throw new NotFoundError(`business-central: ${entity} ${id} not found`);
    if (raw['@odata.etag'] === undefined)
      throw new InvalidResponseError(`business-central: ${entity} ${id} has no @odata.etag`);
    return raw['@odata.etag'];
  }

  private async getRaw(entity: BcEntity, id: string): Promise<BcRecord | null> {
    try {
      const response = await this.http.request({ method: 'GET', url: this.recordPath(entity, id) });
      return parseResponse(bcRecordSchema, response.data, entity);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  private async getRawMany(entity: BcEntity, ids: string[]): Promise<BcRecord[]> {
    const records: BcRecord[] = [];
    const unique = [...new Set(ids)];
    for (let start = 0; start < unique.length; start += IDS_PER_FILTER) {
      const filter = unique
        .slice(start, start + IDS_PER_FILTER)
        .map((id) => `id eq ${odataGuid(id)}`)
        .join(' or ');
      let url: string | undefined = withQuery(this.collectionPath(entity), { $filter: filter });
      while (url !== undefined) {
        const page = await this.getPage(url, entity);
        records.push(...page.value);
        url = page['@odata.nextLink'];
      }
    }
    return records;
  }

  private async getPage(url: string, entity: BcEntity) {
    const response = await this.http.request({ method: 'GET', url });
    return parseResponse(bcPageSchema, response.data, `${entity} page`);
  }

  /** Maps raw records; for contacts, resolves each person's company number to its contact id. */
  private async toRecords(entity: BcEntity, raws: BcRecord[]): Promise<SyncRecord[]> {
    if (entity !== 'contact') return raws.map((raw) => toAccount(entity, raw));
    const companyIds = new Map<string, string>();
    for (const raw of raws) {
      if (raw.type === 'Company' && raw.number) companyIds.set(raw.number, raw.id);
    }
    const unresolved = [
      ...new Set(
        raws
          .filter((raw) => raw.type === 'Person' && raw.companyNumber && !companyIds.has(raw.companyNumber))
          .map((raw) => raw.companyNumber!),
      ),
    ];
    for (let start = 0; start < unresolved.length; start += IDS_PER_FILTER) {
      const filter = unresolved
        .slice(start, start + IDS_PER_FILTER)
        .map((number) => `number eq ${odataString(number)}`)
        .join(' or ');
      let url: string | undefined = withQuery(this.collectionPath('contact'), { $filter: filter });
      while (url !== undefined) {
        const page = await this.getPage(url, 'contact');
        for (const company of page.value) if (company.number) companyIds.set(company.number, company.id);
        url = page['@odata.nextLink'];
      }
    }
    return raws.map((raw) => toContact(raw, companyIds));
  }
}

/**
 * The cursor to save after a page. On the last page it is the highest lastModifiedDateTime seen.
 * On an earlier page, records sharing the page's last timestamp may continue on the next page,
 * and `gt` would skip them on resume, so the cursor stops just below that timestamp.
 */
export function cursorAfterPage(
  records: readonly { lastModifiedDateTime: string }[],
  previous: string | null,
  lastPage: boolean,
): string | null {
  const times = records.map((record) => Date.parse(record.lastModifiedDateTime)).filter((time) => !Number.isNaN(time));
  if (times.length === 0) return previous;
  const highest = Math.max(...times);
  const safe = lastPage ? highest : Math.max(-Infinity, ...times.filter((time) => time < highest));
  if (!Number.isFinite(safe)) return previous;
  const previousTime = previous === null ? -Infinity : Date.parse(previous);
  return safe > previousTime ? new Date(safe).toISOString() : previous;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Translates one `$batch` item's failure the way the HttpClient translates a whole response. */
function batchItemError(
  status: number,
  headers: Record<string, string> | undefined,
  body: unknown,
  what: string,
): ConnectorError {
  const parsed = bcErrorSchema.safeParse(body);
  const message = `business-central: ${what} answered ${status}${parsed.success ? `: ${parsed.data.error.code}: ${parsed.data.error.message}` : ''}`;
  if (status === 412) return new PreconditionFailedError(message);
  if (status === 404) return new NotFoundError(message);
  if (status === 429) {
    const retryAfter = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === 'retry-after')?.[1];
    return new RateLimitedError(message, Math.max(1000, Number(retryAfter ?? 1) * 1000 || 1000));
  }
  if (status >= 500) return new TransientError(message, status);
  return new InvalidRequestError(message, status);
}
