/**
 * A thin typed client for one QuickBooks Online company (realm) on the kit's HTTP client: reads by
 * id, the query language, change data capture, creates, sparse updates and the batch endpoint,
 * every call with the pinned minorversion, every answer parsed, and QBO's Faults as named errors.
 * https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api
 */
import { createHash, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { AccountKind } from '../../src/core/model';
import type { ConnectorSettings, ConnectTools } from '../kit/define';
import {
  ConnectorError,
  InvalidRequestError,
  NotFoundError,
  PreconditionFailedError,
  RateLimitedError,
} from '../kit/errors';
import type { HttpClient } from '../kit/http';
import { RequestLimiter, type Limiter } from '../kit/limiter';
import { IntuitRefreshTokenProvider } from './auth';
import type { quickbooksConfig } from './config';
import { MergedNames } from './merges';
import {
  batchAnswerSchema,
  cdcAnswerSchema,
  entityAnswerSchema,
  qboFaultSchema,
  queryAnswerSchema,
  type QboEntityName,
  type QboFault,
} from './schemas';

/**
 * The minor version every call asks for, so that QBO answers in one known shape whatever its
 * current default is. https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/minor-versions
 */
export const MINOR_VERSION = '75';

/** The most records one query answers (QBO's maxresults ceiling). */
export const QUERY_MAX_RESULTS = 1000;

/**
 * Items per batch request: the strictest of Intuit's published figures. The batch operation's page
 * says "up to 10 payloads"; the limits page recommends at most 30, the .NET and PHP SDKs refuse
 * more than 25. A batch QBO refused would fail every write in it, where a smaller one only costs
 * calls (40 batches a minute still carry 400 updates).
 * https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/batch
 * https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles
 */
export const BATCH_LIMIT = 10;

/** Batch requests a minute per realm and app, counted apart from the 500 requests a minute. */
export const BATCH_REQUESTS_PER_MINUTE = 40;

/** QBO's Fault codes tandem acts on. https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes */
const FAULT = { objectNotFound: '610', staleObject: '5010', duplicateName: '6240' } as const;

/**
 * A DisplayName another customer, vendor or employee of the company already has. QBO keeps one
 * name space for all three and tandem never renames on its own ("Name 1"): someone decides, so the
 * write fails for good and the relation shows why until it is resolved.
 */
export class DuplicateDisplayNameError extends InvalidRequestError {
  constructor(
    readonly displayName: string,
    detail: string,
  ) {
    super(
      `quickbooks: the name '${displayName}' is already used by another customer, vendor or employee of this ` +
        `QuickBooks company, and QuickBooks allows each name once among all three (error 6240: ${detail}). ` +
        `Rename one of them (in QuickBooks, or the contact in the CRM), then retry the relation.`,
      400,
    );
  }
}

/** The Fault a failed call carried, read back from the kit's error (it quotes the answer's body). */
export function faultOf(error: unknown): QboFault | undefined {
  if (!(error instanceof ConnectorError)) return undefined;
  const json = error.message.indexOf('{"Fault"');
  if (json >= 0) {
    try {
      const parsed = qboFaultSchema.safeParse((JSON.parse(error.message.slice(json)) as { Fault?: unknown }).Fault);
      if (parsed.success) return parsed.data;
    } catch {
      // Cut short (the kit quotes 300 characters): read the code alone.
    }
  }
  const code = /"code"\s*:\s*"(\d+)"/.exec(error.message)?.[1];
  return code === undefined ? undefined : { Error: [{ code, Message: null, Detail: null, element: null }], type: null };
}

/** The named error of a Fault: unknown id, stale SyncToken, taken DisplayName; undefined for the others. */
export function faultError(
  fault: QboFault | undefined,
  what: string,
  displayName?: string,
): ConnectorError | undefined {
  const [first] = fault?.Error ?? [];
  const detail = first?.Detail ?? first?.Message ?? '';
  switch (first?.code) {
    case FAULT.objectNotFound:
      return new NotFoundError(`${what}: QuickBooks has no such record (610 ${detail})`);
    case FAULT.staleObject:
      return new PreconditionFailedError(`${what}: the record changed since it was read (5010 Stale Object Error)`);
    case FAULT.duplicateName:
      return new DuplicateDisplayNameError(displayName ?? '(unknown)', detail);
    default:
      return first === undefined ? undefined : new InvalidRequestError(`${what}: ${first.code ?? ''} ${detail}`, 400);
  }
}

/**
 * After a 429 Intuit asks for 60 seconds before the next try; a 429 that outlived the client's own
 * retries goes back to the queue for at least that long, whatever shorter wait its header named.
 */
export const THROTTLED_WAIT_MS = 60_000;

/** Runs a call and turns the Faults tandem acts on into their named errors. */
async function translated<T>(pending: Promise<T>, what: string, displayName?: string): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof RateLimitedError && error.retryAfterMs < THROTTLED_WAIT_MS)
      throw new RateLimitedError(`${error.message}; QuickBooks asks for 60 s after a 429`, THROTTLED_WAIT_MS);
    throw faultError(faultOf(error), what, displayName) ?? error;
  }
}

/** A string literal of the query language: single quotes, a quote or backslash inside escaped with \. */
export function queryString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** QBO's requestid (at most 50 characters): the same key gives the same id, and QBO answers a repeat as the first. */
export function requestIdFor(key: string): string {
  return `tandem-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32)}`;
}

/** Typed calls to one QBO company. */
export function qboApi(http: HttpClient, realmId: string, batchLimiter: Limiter) {
  const path = (rest: string) => `/${realmId}${rest}`;
  const params = (extra: Record<string, string | number> = {}) => ({ minorversion: MINOR_VERSION, ...extra });
  const resource = (entity: QboEntityName) => `/${entity.toLowerCase()}`;

  return {
    realmId,
    /** One entity by id, or null when QBO does not know it (610). */
    async read<S extends z.ZodType>(entity: QboEntityName, schema: S, id: string): Promise<z.output<S> | null> {
      try {
        return await translated(
          http.json(entityAnswerSchema(entity, schema), {
            url: path(`${resource(entity)}/${encodeURIComponent(id)}`),
            params: params(),
          }),
          `quickbooks: reading ${entity} ${id}`,
        );
      } catch (error) {
        if (error instanceof NotFoundError) return null;
        throw error;
      }
    },
    /** The records a query selects (`select * from <entity> <rest>`). */
    query: <S extends z.ZodType>(entity: QboEntityName, schema: S, rest: string): Promise<z.output<S>[]> =>
      translated(
        http.json(queryAnswerSchema(entity, schema), {
          url: path('/query'),
          params: params({ query: `select * from ${entity} ${rest}`.trim() }),
        }),
        `quickbooks: querying ${entity}`,
      ),
    /** What changed since `changedSince` (at most 30 days back, 1,000 objects): records and deleted ids. */
    changes: <S extends z.ZodType>(entity: QboEntityName, schema: S, changedSince: string) =>
      translated(
        http.json(cdcAnswerSchema(entity, schema), {
          url: path('/cdc'),
          params: params({ entities: entity, changedSince }),
        }),
        `quickbooks: change data capture of ${entity}`,
      ),
    /** Creates an entity; a repeat with the same key is answered as the first (requestid). */
    create: <S extends z.ZodType>(entity: QboEntityName, schema: S, body: Record<string, unknown>, key: string) =>
      translated(
        http.json(entityAnswerSchema(entity, schema), {
          method: 'POST',
          url: path(resource(entity)),
          params: params({ requestid: requestIdFor(key) }),
          data: body,
        }),
        `quickbooks: creating a ${entity}`,
        typeof body.DisplayName === 'string' ? body.DisplayName : undefined,
      ),
    /**
     * A sparse update held to the body's SyncToken: a stale one is PreconditionFailedError. A retry
     * carries the same requestid, so a lost answer is given again rather than written twice.
     */
    update: <S extends z.ZodType>(entity: QboEntityName, schema: S, body: Record<string, unknown>) =>
      translated(
        http.json(entityAnswerSchema(entity, schema), {
          method: 'POST',
          url: path(resource(entity)),
          params: params({ operation: 'update', requestid: requestIdFor(randomUUID()) }),
          data: { ...body, sparse: true },
        }),
        `quickbooks: updating ${entity} ${String(body.Id)}`,
        typeof body.DisplayName === 'string' ? body.DisplayName : undefined,
      ),
    /** Sparse updates of many in one batch request (at most BATCH_LIMIT), paced to 40 batches a minute. */
    updateMany: <S extends z.ZodType>(entity: QboEntityName, schema: S, bodies: Record<string, unknown>[]) =>
      translated(
        batchLimiter.run(() =>
          http.json(batchAnswerSchema(entity, schema), {
            method: 'POST',
            url: path('/batch'),
            params: params({ requestid: requestIdFor(randomUUID()) }),
            data: {
              BatchItemRequest: bodies.map((body, index) => ({
                bId: String(index),
                operation: 'update',
                [entity]: { ...body, sparse: true },
              })),
            },
          }),
        ),
        `quickbooks: batch update of ${entity}`,
      ),
  };
}

export type QboApi = ReturnType<typeof qboApi>;

/** Builds what the handlers share, once per connector; the webhook is set when configured. */
export function connectQuickBooks(
  settings: ConnectorSettings<typeof quickbooksConfig>,
  { context, http }: ConnectTools,
) {
  const { webhookVerifierToken, ...credentials } = settings.credentials;
  // Intuit rotates the refresh token: the one kept from an earlier run wins over the config's.
  const refreshToken = context.storedSecrets?.refreshToken ?? credentials.refreshToken;
  const auth = new IntuitRefreshTokenProvider({ ...credentials, refreshToken }, (token) =>
    context.saveSecret?.('refreshToken', token),
  );
  // Batch requests count against their own 40 a minute besides the 500 a minute of every request.
  const batchLimiter = new RequestLimiter(
    { requests: { max: BATCH_REQUESTS_PER_MINUTE, perMs: 60_000 }, maxWaitMs: 60_000 },
    context.limiterClock,
  );
  const merges = new MergedNames();
  return {
    name: context.name,
    pageSize: settings.pageSize,
    merges,
    api: qboApi(http({ baseURL: settings.baseUrl.replace(/\/+$/, ''), auth }), settings.realmId, batchLimiter),
    webhook:
      webhookVerifierToken === undefined
        ? undefined
        : {
            verifierToken: webhookVerifierToken,
            realmId: settings.realmId,
            onMerge: (kind: AccountKind, from: string, survivor: string) => merges.record(kind, from, survivor),
          },
  };
}

export type QboSession = ReturnType<typeof connectQuickBooks>;
