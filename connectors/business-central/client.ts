/**
 * Business Central's API v2.0 for one company, in canonical records: customers, vendors, bank
 * accounts and contacts. Every call goes through the kit's HTTP client (auth, retries, limits, errors).
 */
import type { AxiosRequestConfig } from 'axios';
import { z } from 'zod';
import type { AccountKind, Contact, FieldValue, SyncRecord } from '../../src/core/model';
import { cursorAfterPage, parseTimeCursor } from '../kit/cursor';
import { type ConnectorError, InvalidResponseError, NotFoundError, orNullIfNotFound } from '../kit/errors';
import { errorForStatus, type HttpClient } from '../kit/http';
import type { BatchItemResult, ChangedPage, RecordUpdate } from '../kit/types';
import { parseResponse } from '../kit/parse';
import { headerValue } from '../kit/webhook';
import { COLLECTIONS, fromContactType, fromFields, toAccount, toContact, type BcEntity } from './mappers';
import { odataGuid, odataString, withQuery } from './odata';
import { pageOf, recordSchema, type BcRecord } from './schemas';
import { parseTemplateValues } from './templates';

/** BC refuses a `$batch` with more than 100 operations. */
export const BATCH_LIMIT = 100;
/** Values per `$filter=x eq ... or ...` request, so the URL stays well under BC's length limit. */
const VALUES_PER_FILTER = 20;

const pageSchema = pageOf(recordSchema);

/** The properties a picker's search looks in: name, number, e-mail and VAT no.; for bank accounts their numbers. */
const SEARCHED_PROPERTIES: Record<AccountKind, readonly string[]> = {
  customer: ['displayName', 'number', 'email', 'taxRegistrationNumber'],
  vendor: ['displayName', 'number', 'email', 'taxRegistrationNumber'],
  bankAccount: ['displayName', 'number', 'bankAccountNumber', 'iban'],
};
/** One answer of a JSON `$batch`, by the id of its request. */
const batchItemSchema = z.object({
  id: z.string(),
  status: z.number().int(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
});
type BatchItem = z.infer<typeof batchItemSchema>;
const batchSchema = z.object({ responses: z.array(batchItemSchema) });
/** OData's error body: `{ error: { code, message } }`. */
const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Canonical access to one BC company. */
export class BusinessCentralApi {
  constructor(
    readonly http: HttpClient,
    readonly companyId: string,
    /** The properties the mappings in force name as custom fields, per account kind. */
    private readonly customFields: (entity: AccountKind) => readonly string[] = () => [],
  ) {
    odataGuid(companyId);
  }

  private collectionPath(entity: BcEntity): string {
    return `companies(${this.companyId})/${COLLECTIONS[entity]}`;
  }

  private recordPath(entity: BcEntity, id: string): string {
    return `${this.collectionPath(entity)}(${odataGuid(id)})`;
  }

  /**
   * Pages of records modified after `cursor`, ordered by lastModifiedDateTime so a saved cursor
   * never skips a record on a later page (see cursorAfterPage for ties at a page boundary).
   */
  async *listChanged(entity: BcEntity, cursor: string | null): AsyncIterable<ChangedPage> {
    const since = parseTimeCursor(cursor, 'business-central');
    const url = withQuery(this.collectionPath(entity), {
      $filter: since === null ? undefined : `lastModifiedDateTime gt ${since}`,
      $orderby: 'lastModifiedDateTime asc',
    });
    let current = since;
    for await (const { value, last } of this.pages(url)) {
      const times = value.map((raw) => raw.lastModifiedDateTime);
      current = cursorAfterPage(times, current, last);
      yield { records: await this.toRecords(entity, value), cursor: current ?? '' };
    }
  }

  /** One record, or null when BC no longer has it. */
  async get(entity: BcEntity, id: string): Promise<SyncRecord | null> {
    const raw = await this.getRaw(entity, id);
    return raw && this.toRecord(entity, raw);
  }

  /**
   * At most BATCH_LIMIT records by id (the kit chunks larger sets) as GETs in one JSON `$batch`: a
   * filter of ids would have to stay under BC's URL length, about 20 ids a call. Missing ones (404)
   * are left out; a throttled or failed item fails the call, as the same GET on its own would.
   */
  async batchGet(entity: BcEntity, ids: readonly string[]): Promise<SyncRecord[]> {
    const answers = await this.batch(ids, (id) => ({ method: 'GET', url: this.recordPath(entity, id) }));
    const raws = answers.flatMap(({ entry: id, item }) => {
      if (item.status === 404) return [];
      const failure = itemFailure(entity, id, item);
      if (failure) throw failure;
      return [parseResponse(recordSchema, item.body, `business-central: ${entity} ${id} in $batch`)];
    });
    return this.toRecords(entity, raws);
  }

  /**
   * Creates a record with BC properties from `extra` (a template's `paymentTermsId`, `number`, ...,
   * checked by templates.ts; canonical fields win over them), a contact as `contactType`. When
   * `extra.number` is given, a record with that number is looked up first and returned instead of
   * creating a duplicate: that is the only idempotency BC allows.
   */
  async create(
    entity: BcEntity,
    fields: Record<string, FieldValue>,
    options: { extra?: Record<string, unknown>; contactType?: Contact['type'] } = {},
  ): Promise<SyncRecord> {
    const extra = parseTemplateValues(entity, options.extra);
    // Mapped before any request, so an unknown canonical field fails without a lookup either.
    const data: Record<string, unknown> = { ...extra, ...fromFields(entity, fields) };
    if (entity === 'contact' && options.contactType !== undefined) data.type = fromContactType(options.contactType);
    if (typeof extra.number === 'string' && extra.number !== '') {
      const [existing] = await this.where(entity, 'number', [odataString(extra.number)]);
      if (existing !== undefined) return this.toRecord(entity, existing);
    }
    return this.send(entity, { method: 'POST', url: this.collectionPath(entity), data });
  }

  /**
   * Writes fields with If-Match. Without a planned version the current one is read first, so a
   * write never goes out with `*` and silently overwrites a concurrent edit made after that read.
   */
  async update(entity: BcEntity, update: RecordUpdate): Promise<SyncRecord> {
    const headers = { 'If-Match': update.ifMatch ?? (await this.currentEtag(entity, update.id)) };
    const url = this.recordPath(entity, update.id);
    return this.send(entity, { method: 'PATCH', url, headers, data: fromFields(entity, update.fields) });
  }

  /**
   * Writes at most BATCH_LIMIT records (the kit chunks larger sets) through one JSON `$batch`, each
   * with its If-Match; one result per update BC answered. `$batch` is not transactional here: each
   * item succeeds or fails on its own.
   */
  async batchUpdate(entity: BcEntity, updates: readonly RecordUpdate[]): Promise<BatchItemResult[]> {
    // Mapped before any request. A field the entity lacks, or a record that is gone, fails the
    // call: the kit then writes the updates one by one, so only that one fails.
    const bodies = updates.map((update) => fromFields(entity, update.fields));
    const unplanned = updates.flatMap((update) => (update.ifMatch === undefined ? [odataGuid(update.id)] : []));
    const etags = new Map((await this.where(entity, 'id', unplanned)).map((raw) => [raw.id, raw['@odata.etag']]));
    const answers = await this.batch(updates, (update, index) => {
      const ifMatch = update.ifMatch ?? etags.get(update.id);
      if (ifMatch === undefined) throw new NotFoundError(`business-central: ${entity} ${update.id} not found`);
      const headers = { 'Content-Type': 'application/json', 'If-Match': ifMatch };
      return { method: 'PATCH', url: this.recordPath(entity, update.id), headers, body: bodies[index] };
    });
    // An item the answer leaves out (or names wrongly) the kit fails on its own.
    return Promise.all(answers.map(({ entry, item }) => this.batchResult(entity, entry.id, item)));
  }

  /** One `$batch` item as a result: its record, or its failure. */
  private async batchResult(entity: BcEntity, id: string, item: BatchItem): Promise<BatchItemResult> {
    const failure = itemFailure(entity, id, item);
    if (failure) return { id, ok: false, error: failure };
    try {
      const raw = parseResponse(recordSchema, item.body, `business-central: ${entity} ${id} in $batch`);
      return { id, ok: true, record: await this.toRecord(entity, raw) };
    } catch (error) {
      if (!(error instanceof InvalidResponseError)) throw error;
      return { id, ok: false, error };
    }
  }

  /**
   * Sends one JSON `$batch` of a request per entry, each with its index as id, and pairs the
   * answers BC gave with their entries, in the order BC answered.
   */
  private async batch<T>(
    entries: readonly T[],
    request: (entry: T, index: number) => { method: string; url: string; headers?: object; body?: unknown },
  ): Promise<{ entry: T; item: BatchItem }[]> {
    const requests = entries.map((entry, index) => ({ id: String(index), ...request(entry, index) }));
    const { responses } = await this.http.json(batchSchema, { method: 'POST', url: '$batch', data: { requests } });
    return responses.flatMap((item) => {
      const entry = entries[Number(item.id)];
      return entry === undefined ? [] : [{ entry, item }];
    });
  }

  private async currentEtag(entity: BcEntity, id: string): Promise<string> {
    const raw = await this.getRaw(entity, id);
    if (raw === null) throw new NotFoundError(`business-central: ${entity} ${id} not found`);
    if (raw['@odata.etag'] === undefined)
      throw new InvalidResponseError(`business-central: ${entity} ${id} has no @odata.etag`);
    return raw['@odata.etag'];
  }

  /** Sends a write and reads the record BC answers with. */
  private async send(entity: BcEntity, request: AxiosRequestConfig): Promise<SyncRecord> {
    return this.toRecord(entity, await this.http.json(recordSchema, request));
  }

  private getRaw(entity: BcEntity, id: string): Promise<BcRecord | null> {
    return orNullIfNotFound(this.http.json(recordSchema, { url: this.recordPath(entity, id) }));
  }

  /** The pages of a collection query, following `@odata.nextLink`. */
  private async *pages(url: string): AsyncGenerator<{ value: BcRecord[]; last: boolean }> {
    for (let next: string | undefined = url; next !== undefined;) {
      const page: z.infer<typeof pageSchema> = await this.http.json(pageSchema, { url: next });
      next = page['@odata.nextLink'];
      yield { value: page.value, last: next === undefined };
    }
  }

  /**
   * Records one of whose searched properties contains `text` (BC's filters compare without case
   * on its default collation), at most `top` per property: one request per property, since BC's
   * OData does not OR filters on two different fields.
   * https://learn.microsoft.com/dynamics365/business-central/dev-itpro/webservices/use-filter-expressions-in-odata-uris
   */
  async search(entity: AccountKind, text: string, top: number): Promise<SyncRecord[]> {
    const literal = odataString(text);
    const found = await Promise.all(
      SEARCHED_PROPERTIES[entity].map(async (property) => {
        const url = withQuery(this.collectionPath(entity), {
          $filter: `contains(${property},${literal})`,
          $top: String(top),
        });
        return (await this.http.json(pageSchema, { url })).value;
      }),
    );
    return this.toRecords(entity, found.flat());
  }

  /** Records whose `property` equals one of `literals` (OData literals), VALUES_PER_FILTER per request. */
  private async where(entity: BcEntity, property: string, literals: readonly string[]): Promise<BcRecord[]> {
    const found: BcRecord[] = [];
    const unique = [...new Set(literals)];
    for (let start = 0; start < unique.length; start += VALUES_PER_FILTER) {
      const terms = unique.slice(start, start + VALUES_PER_FILTER).map((literal) => `${property} eq ${literal}`);
      const url = withQuery(this.collectionPath(entity), { $filter: terms.join(' or ') });
      for await (const page of this.pages(url)) found.push(...page.value);
    }
    return found;
  }

  private async toRecords(entity: BcEntity, raws: readonly BcRecord[]): Promise<SyncRecord[]> {
    return raws.map(await this.mapperFor(entity, raws));
  }

  private async toRecord(entity: BcEntity, raw: BcRecord): Promise<SyncRecord> {
    return (await this.mapperFor(entity, [raw]))(raw);
  }

  /** How raw records of an entity become canonical; for contacts, with each person's company number resolved to its id. */
  private async mapperFor(entity: BcEntity, raws: readonly BcRecord[]): Promise<(raw: BcRecord) => SyncRecord> {
    if (entity !== 'contact') {
      const custom = this.customFields(entity);
      return (raw) => toAccount(entity, raw, custom);
    }
    const companyIds = new Map<string, string>();
    for (const raw of raws) if (raw.type === 'Company' && raw.number) companyIds.set(raw.number, raw.id);
    const unresolved = raws.flatMap((raw) =>
      raw.type === 'Person' && raw.companyNumber && !companyIds.has(raw.companyNumber)
        ? [odataString(raw.companyNumber)]
        : [],
    );
    for (const company of await this.where('contact', 'number', unresolved))
      if (company.number) companyIds.set(company.number, company.id);
    return (raw) => toContact(raw, companyIds);
  }
}

/** A failed `$batch` item as the error the HTTP client names its status with; undefined for a 2xx. */
function itemFailure(entity: BcEntity, id: string, item: BatchItem): ConnectorError | undefined {
  if (item.status >= 200 && item.status < 300) return undefined;
  const odata = errorSchema.safeParse(item.body);
  const detail = odata.success ? `: ${odata.data.error.code}: ${odata.data.error.message}` : '';
  const message = `business-central: ${entity} ${id} in $batch answered ${item.status}${detail}`;
  return errorForStatus(item.status, message, headerValue(item.headers ?? {}, 'retry-after'));
}
