/**
 * trytond's JSON-RPC over HTTP: `POST /<database>/` with `{method, params, id}`, through the kit's
 * HTTP client. Sessions and error mapping: README.md, "Sessions" (after trytond/protocols/wrappers.py
 * and jsonrpc.py).
 */
import { z } from 'zod';
import type { FieldValue } from '../../src/core/model';
import { DESCRIBE_TTL_MS, type ConnectorSettings, type ConnectTools } from '../kit/define';
import {
  AuthFailedError,
  ConnectorError,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  PreconditionFailedError,
  RateLimitedError,
} from '../kit/errors';
import type { HttpClient } from '../kit/http';
import { parseResponse } from '../kit/parse';
import type { trytonConfig } from './config';
import { parseFieldsGet, type TrytonField } from './fields';

/** Where and as whom to log in: the server (`http://127.0.0.1:8000`), the database and the user. */
export type TrytonLogin = Pick<ConnectorSettings<typeof trytonConfig>, 'baseUrl' | 'database' | 'credentials'>;

/** The context every call carries, as the Tryton client sends it: the user's preferences. */
type TrytonContext = Record<string, unknown>;
/** One clause of a search domain. */
export type Domain = unknown[];

/**
 * A pattern that finds `text` anywhere in an `ilike` clause. trytond compares with SQL LIKE and
 * `\` as the escape character (python-sql's ESCAPE), so `%`, `_` and `\` in the text are escaped,
 * as trytond's own `tools.escape_wildcard` does; the text is a value in the domain, never code.
 */
export function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/** search_read answers at most this many rows per call here; larger sets are read in pages. */
const SEARCH_LIMIT = 500;
const BY_ID = [['id', 'ASC']];

type Session = { header: string; context: TrytonContext };

const envelopeSchema = z.object({ result: z.unknown().optional(), error: z.unknown().optional() });
const loginSchema = z.tuple([z.number().int(), z.string().min(1)]);
const userErrorSchema = z.tuple([
  z.literal('UserError'),
  z.tuple([z.string(), z.string().nullish(), z.unknown().optional()]).rest(z.unknown()),
]);
const otherErrorSchema = z.tuple([z.string()]).rest(z.unknown());

/** trytond's message when a read or write names a record that does not exist (ir/message.xml). */
const MISSING_RECORD = /that don't exist anymore|do(?:es)? not exist/i;

/** The connector error of each exception trytond names in an `error` member. */
const RPC_ERRORS = new Map<string, (text: string) => ConnectorError>([
  ['ConcurrencyException', (text) => new PreconditionFailedError(text)],
  ['LoginException', (text) => new AuthFailedError(text)],
  ['RateLimitException', (text) => new RateLimitedError(text, 1000)],
  ['UserWarning', (text) => new InvalidRequestError(text)],
]);

/** Translates a JSON-RPC `error` member into a connector error. */
export function errorFromRpc(connector: string, method: string, error: unknown): ConnectorError {
  const what = `${connector}: ${method}`;
  const userError = userErrorSchema.safeParse(error);
  if (userError.success) {
    const [message, description] = userError.data[1];
    const text = `${what}: ${description ? `${message} ${description}` : message}`;
    return MISSING_RECORD.test(message) ? new NotFoundError(text) : new InvalidRequestError(text);
  }
  const other = otherErrorSchema.safeParse(error);
  if (!other.success) return new InvalidResponseError(`${what}: unrecognised error ${JSON.stringify(error)}`);
  const [kind, detail] = other.data;
  const text = `${what}: ${kind} ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`;
  // Any other is an unexpected server exception, [str(exception), traceback]: its name only.
  return RPC_ERRORS.get(kind)?.(text) ?? new InvalidRequestError(`${what}: ${kind}`);
}

/** A JSON-RPC session to one database with the model calls the connector makes; logs in lazily, and again when it ends. */
export class TrytonRpc {
  private readonly http: HttpClient;
  private readonly loginHttp: HttpClient;
  private session: Promise<Session> | null = null;
  private requestId = 0;
  private readonly schemas = new Map<string, { at: number; fields: Promise<Map<string, TrytonField>> }>();
  /** How many times the client logged in; for tests and metrics. */
  logins = 0;

  constructor(
    private readonly connector: string,
    private readonly settings: TrytonLogin,
    http: ConnectTools['http'],
    private readonly now: () => number = Date.now,
  ) {
    const baseURL = `${settings.baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(settings.database)}/`;
    this.loginHttp = http({ baseURL });
    const header = async () => (await this.currentSession()).header;
    this.http = http({ baseURL, auth: { header, invalidate: () => (this.session = null) } });
  }

  /** The user's context (language, company, ...), as `res.user.get_preferences` returned it at login. */
  async context(): Promise<TrytonContext> {
    return (await this.currentSession()).context;
  }

  /**
   * Calls `method` with `params`. A 401 (the kit's client) or 403 (here) makes the client log in
   * again once and repeat the call: trytond ends sessions after `[session] timeout` of inactivity.
   */
  async call(method: string, params: unknown[]): Promise<unknown> {
    try {
      return await this.send(this.http, method, params);
    } catch (error) {
      if (!(error instanceof AuthFailedError) || error.status !== 403) throw error;
      this.session = null;
      return this.send(this.http, method, params);
    }
  }

  /** Calls a model method with the user's context merged with `context`. */
  async model(model: string, method: string, params: unknown[], context: TrytonContext = {}): Promise<unknown> {
    return this.call(`model.${model}.${method}`, [...params, { ...(await this.context()), ...context }]);
  }

  /** The `fields` of every row matching `domain` (the first `limit`), in id order, read SEARCH_LIMIT at a time. */
  async search<T>(
    model: string,
    schema: z.ZodType<T>,
    fields: string[],
    domain: Domain[],
    limit = Infinity,
  ): Promise<T[]> {
    const rows: T[] = [];
    for (let offset = 0; rows.length < limit; offset += SEARCH_LIMIT) {
      const size = Math.min(SEARCH_LIMIT, limit - rows.length);
      const answer = await this.model(model, 'search_read', [domain, offset, size, BY_ID, fields]);
      const page = parseResponse(z.array(schema), answer, `tryton: ${model}.search_read`);
      rows.push(...page);
      if (page.length < size) break;
    }
    return rows;
  }

  /** The ids of the rows matching `domain`, in id order. */
  async searchIds(model: string, domain: Domain[], context: TrytonContext = {}): Promise<number[]> {
    const answer = await this.model(model, 'search', [domain, 0, null, BY_ID], context);
    return parseResponse(z.array(z.number().int()), answer, `${this.connector}: ${model}.search`);
  }

  /**
   * The id of the row that a canonical code stands for (`value`, found by `domain(value)`): null
   * for null, undefined when not given; an unknown code is refused, named by `what`.
   */
  async ref(
    model: string,
    what: string,
    value: FieldValue | undefined,
    domain: (value: string) => Domain[],
    context?: TrytonContext,
  ): Promise<number | null | undefined> {
    if (value === undefined || value === null) return value;
    const [id] = await this.searchIds(model, domain(value), context);
    if (id === undefined) throw new InvalidRequestError(`tryton: no ${what} '${value}' in ${model}`);
    return id;
  }

  /**
   * The fields of `model` as `fields_get` describes them (`names`, or all: null), kept for
   * DESCRIBE_TTL_MS: they change only when a module is activated, and reads and writes of custom
   * fields need their types. A failed call is not kept.
   */
  fieldsGet(model: string, names: readonly string[] | null = null): Promise<Map<string, TrytonField>> {
    const key = `${model}|${names?.join(',') ?? '*'}`;
    let entry = this.schemas.get(key);
    if (!entry || this.now() - entry.at > DESCRIBE_TTL_MS) {
      const what = `${this.connector}: ${model}.fields_get`;
      const fields = this.model(model, 'fields_get', [names]).then((answer) => parseFieldsGet(answer, what));
      entry = { at: this.now(), fields };
      this.schemas.set(key, entry);
      fields.catch(() => {
        if (this.schemas.get(key) === entry) this.schemas.delete(key);
      });
    }
    return entry.fields;
  }

  /** Creates one record; its id. */
  async create(model: string, values: Record<string, unknown>): Promise<number> {
    const answer = await this.model(model, 'create', [[values]]);
    return parseResponse(z.tuple([z.number().int()]), answer, `tryton: ${model}.create`)[0];
  }

  /** Ends the session on the server, if there is one (it may be gone already). */
  async logout(): Promise<void> {
    if (this.session === null) return;
    await this.send(this.http, 'common.db.logout', []).catch(() => undefined);
    this.session = null;
  }

  private currentSession(): Promise<Session> {
    if (this.session === null) {
      const pending = this.login();
      // A failed login must not stick: the next call tries again.
      pending.catch(() => {
        if (this.session === pending) this.session = null;
      });
      this.session = pending;
    }
    return this.session;
  }

  private async login(): Promise<Session> {
    const { connector } = this;
    const { username, password } = this.settings.credentials;
    let result: unknown;
    try {
      result = await this.send(this.loginHttp, 'common.db.login', [username, { password }]);
    } catch (error) {
      if (error instanceof AuthFailedError)
        throw new AuthFailedError(`${connector}: login of '${username}' refused`, error.status);
      throw error;
    }
    const [userId, session] = parseResponse(loginSchema, result, `${connector}: common.db.login`);
    this.logins += 1;
    const header = `Session ${Buffer.from(`${username}:${userId}:${session}`, 'utf8').toString('base64')}`;
    const preferences = await this.send(this.loginHttp, 'model.res.user.get_preferences', [true, {}], header);
    const context = parseResponse(z.record(z.string(), z.unknown()), preferences, `${connector}: get_preferences`);
    return { header, context };
  }

  private async send(http: HttpClient, method: string, params: unknown[], authorization?: string): Promise<unknown> {
    const response = await http.request({
      method: 'POST',
      url: '',
      data: { id: ++this.requestId, method, params },
      headers: authorization === undefined ? {} : { Authorization: authorization },
    });
    const { result, error } = parseResponse(envelopeSchema, response.data, `${this.connector}: ${method}`);
    if (error !== undefined && error !== null) throw errorFromRpc(this.connector, method, error);
    return result ?? null;
  }
}
