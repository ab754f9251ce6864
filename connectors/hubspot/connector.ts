/**
 * The HubSpot CRM connector: companies and contacts as canonical contacts, polled through the
 * search API, read and written through the v3 objects and batch APIs, pushed through webhooks.
 */
import { z } from 'zod';
import { CONTACT_FIELDS, type Contact, type Entity, type FieldValue } from '../../src/core/model';
import {
  ConnectorError,
  InvalidRequestError,
  InvalidResponseError,
  NotFoundError,
  RateLimitedError,
} from '../kit/errors';
import { HttpClient, type ResponseObserver, type RetryPolicy } from '../kit/http';
import type { BatchItemResult, ChangedPage, Connector, ContactPatch, RecordUpdate } from '../kit/types';
import { pollChanges } from './changes';
import { BATCH_LIMIT, HUBSPOT_API_URL, HubSpotClient, chunk } from './client';
import {
  type HubSpotObjectType,
  IDEMPOTENCY_PROPERTY,
  type PropertyMapOverrides,
  contactTypeOf,
  fromContactId,
  objectTypeOf,
  propertiesToRead,
  resolveMapping,
  supportedFields,
  toContact,
  toHubSpotProperties,
} from './mappers';
import type { BatchResponse } from './schemas';
import { createHubSpotWebhook } from './webhook';

/** Options of createHubSpotConnector. */
export interface HubSpotConnectorOptions {
  /** The connector's name in config. */
  name: string;
  /** API host; defaults to https://api.hubapi.com (a sandbox URL in tests). */
  baseUrl?: string;
  /** The private app's access token. */
  token: string;
  /** Overrides of the default canonical-field -> HubSpot-property maps, per object type. */
  propertyMap?: PropertyMapOverrides;
  retry?: Partial<RetryPolicy>;
  observe?: ResponseObserver;
  /** The app's client secret; webhooks are enabled when it is set. */
  webhookSecret?: string;
  /** The public webhook URL HubSpot signs, when it differs from the URL requests arrive on. */
  webhookUrl?: string;
  /** The local clock, injectable for tests. */
  now?: () => number;
}

// HubSpot-defined association type "contact to company, primary".
// https://developers.hubspot.com/docs/api/crm/associations#association-type-id-values
const CONTACT_TO_PRIMARY_COMPANY = 1;

const createExtraSchema = z.looseObject({
  /** Which HubSpot object to create; contacts created from accounts are companies. */
  type: z.enum(['company', 'person']).default('company'),
  /** For a person: the canonical id of the company it belongs to. */
  companyId: z.string().nullable().optional(),
});

/** Creates a HubSpot connector. No I/O happens until a method is called. */
export function createHubSpotConnector(options: HubSpotConnectorOptions): Connector {
  const mapping = resolveMapping(options.propertyMap);
  const client = new HubSpotClient({
    connector: options.name,
    baseUrl: options.baseUrl ?? HUBSPOT_API_URL,
    token: options.token,
    retry: options.retry,
    observe: options.observe,
  });
  // Health probes try once: a readiness check wants the answer now, not after backoff.
  const probe = new HttpClient({
    connector: options.name,
    baseURL: options.baseUrl ?? HUBSPOT_API_URL,
    auth: { header: () => Promise.resolve(`Bearer ${options.token}`) },
    retry: { ...options.retry, attempts: 1 },
    observe: options.observe,
    timeoutMs: 5000,
  });
  const webhook =
    options.webhookSecret === undefined
      ? undefined
      : createHubSpotWebhook({ clientSecret: options.webhookSecret, publicUrl: options.webhookUrl });

  return {
    name: options.name,
    system: 'crm',
    entities: ['contact'],
    fields: { contact: supportedFields(mapping) },
    ...(webhook ? { webhook } : {}),

    listChanged(entity: Entity, cursor: string | null): AsyncIterable<ChangedPage> {
      assertContactEntity(entity);
      return pollChanges({ client, mapping, now: options.now }, cursor);
    },

    async get(entity: Entity, id: string): Promise<Contact | null> {
      assertContactEntity(entity);
      const { objectType, hubSpotId } = parseId(id);
      const object = await client.get(objectType, hubSpotId, propertiesToRead(objectType, mapping));
      return object === null ? null : toContact(objectType, object, mapping);
    },

    async batchGet(entity: Entity, ids: string[]): Promise<Contact[]> {
      assertContactEntity(entity);
      const byType = groupByObjectType([...new Set(ids)].map((id) => ({ id, ...parseId(id) })));
      const found = new Map<string, Contact>();
      for (const [objectType, items] of byType) {
        for (const part of chunk(items, BATCH_LIMIT)) {
          const response = await client.batchRead(
            objectType,
            part.map((item) => item.hubSpotId),
            propertiesToRead(objectType, mapping),
          );
          // Ids HubSpot does not know come back as 207 errors: missing records are left out.
          for (const object of response.results) {
            const contact = toContact(objectType, object, mapping);
            found.set(contact.id, contact);
          }
        }
      }
      // In the order asked, each record once.
      return [...new Set(ids)].flatMap((id) => found.get(id) ?? []);
    },

    async create(
      entity: Entity,
      fields: Record<string, FieldValue>,
      createOptions: { idempotencyKey: string; extra?: Record<string, unknown> },
    ): Promise<Contact> {
      assertContactEntity(entity);
      const extra = createExtraSchema.safeParse(createOptions.extra ?? {});
      if (!extra.success)
        throw new InvalidRequestError(
          `${options.name}: create options are invalid: ${extra.error.issues[0]?.message ?? ''}`,
        );
      const { type, companyId } = extra.data;
      const objectType = objectTypeOf(type);
      const properties = propertiesToRead(objectType, mapping);

      // A retry after a lost response must find the record the first attempt created.
      const existing = await client.search(objectType, {
        filterGroups: [
          { filters: [{ propertyName: IDEMPOTENCY_PROPERTY, operator: 'EQ', value: createOptions.idempotencyKey }] },
        ],
        properties,
        limit: 1,
      });
      const previous = existing.results[0];
      if (previous) return toContact(objectType, previous, mapping);

      const written = withoutEmpty(toHubSpotProperties(type, toContactPatch(fields), mapping));
      written[IDEMPOTENCY_PROPERTY] = createOptions.idempotencyKey;
      const company = type === 'person' && companyId ? parseId(companyId) : null;
      if (company && company.objectType !== 'companies')
        throw new InvalidRequestError(`${options.name}: companyId ${String(companyId)} is not a company`);
      const created = await client.create(objectType, {
        properties: written,
        ...(company
          ? {
              associations: [
                {
                  to: { id: company.hubSpotId },
                  types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: CONTACT_TO_PRIMARY_COMPANY }],
                },
              ],
            }
          : {}),
      });
      const contact = toContact(objectType, created, mapping);
      // The create answer does not always echo the association.
      return company && contact.companyId === null
        ? { ...contact, companyId: `company-${company.hubSpotId}` }
        : contact;
    },

    async update(entity: Entity, update: RecordUpdate): Promise<Contact> {
      assertContactEntity(entity);
      const { objectType, hubSpotId } = parseId(update.id);
      const written = toHubSpotProperties(contactTypeOf(objectType), toContactPatch(update.fields), mapping);
      if (Object.keys(written).length === 0) {
        const current = await client.get(objectType, hubSpotId, propertiesToRead(objectType, mapping));
        if (current === null) throw new NotFoundError(`${options.name}: ${update.id} does not exist`);
        return toContact(objectType, current, mapping);
      }
      return toContact(objectType, await client.update(objectType, hubSpotId, written), mapping);
    },

    async batchUpdate(entity: Entity, updates: RecordUpdate[]): Promise<BatchItemResult[]> {
      assertContactEntity(entity);
      const results = new Map<RecordUpdate, BatchItemResult>();
      const valid: {
        update: RecordUpdate;
        objectType: HubSpotObjectType;
        hubSpotId: string;
        properties: Record<string, string>;
      }[] = [];
      for (const update of updates) {
        const parsed = fromContactId(update.id);
        if (!parsed) {
          results.set(update, {
            id: update.id,
            ok: false,
            error: new InvalidRequestError(`${options.name}: ${update.id} is not a HubSpot contact id`),
          });
          continue;
        }
        // A person's company is an association, not a field: updates never move a person.
        const properties = toHubSpotProperties(
          contactTypeOf(parsed.objectType),
          toContactPatch(update.fields),
          mapping,
        );
        valid.push({ update, ...parsed, properties });
      }
      for (const [objectType, items] of groupByObjectType(valid)) {
        for (const part of chunkWithoutDuplicates(items, BATCH_LIMIT)) {
          let response: BatchResponse;
          try {
            response = await client.batchUpdate(
              objectType,
              part.map((item) => ({ id: item.hubSpotId, properties: item.properties })),
            );
          } catch (error) {
            // One bad input fails the whole batch: write the items one by one to isolate it.
            if (!(error instanceof InvalidRequestError || error instanceof NotFoundError)) throw error;
            for (const item of part) results.set(item.update, await updateOne(item.update));
            continue;
          }
          const written = new Map(response.results.map((object) => [object.id, object]));
          const failed = failuresById(response);
          for (const item of part) {
            const object = written.get(item.hubSpotId);
            if (object) {
              results.set(item.update, {
                id: item.update.id,
                ok: true,
                record: toContact(objectType, object, mapping),
              });
              continue;
            }
            const error =
              failed.get(item.hubSpotId) ??
              new InvalidResponseError(`${options.name}: batch update did not report ${item.update.id}`);
            results.set(item.update, { id: item.update.id, ok: false, error });
          }
        }
      }
      return updates.map(
        (update) =>
          results.get(update) ?? {
            id: update.id,
            ok: false,
            error: new InvalidResponseError(`${options.name}: ${update.id} was not written`),
          },
      );
    },

    checkHealth,
  };

  /**
   * One company, no properties: the cheapest read that proves the token and its CRM scope. A 429
   * still proves both, so it counts as healthy; readiness must not flap under load.
   */
  async function checkHealth(): Promise<void> {
    try {
      await probe.request({ method: 'GET', url: '/crm/v3/objects/companies', params: { limit: 1, archived: false } });
    } catch (error) {
      if (error instanceof RateLimitedError) return;
      throw error;
    }
  }

  async function updateOne(update: RecordUpdate): Promise<BatchItemResult> {
    try {
      const { objectType, hubSpotId } = parseId(update.id);
      const object = await client.update(
        objectType,
        hubSpotId,
        toHubSpotProperties(contactTypeOf(objectType), toContactPatch(update.fields), mapping),
      );
      return { id: update.id, ok: true, record: toContact(objectType, object, mapping) };
    } catch (error) {
      // Only failures of this one record are item results; throttling and outages stop the batch.
      if (error instanceof InvalidRequestError || error instanceof NotFoundError)
        return { id: update.id, ok: false, error };
      throw error;
    }
  }

  function parseId(id: string): { objectType: HubSpotObjectType; hubSpotId: string } {
    const parsed = fromContactId(id);
    if (!parsed)
      throw new InvalidRequestError(`${options.name}: ${id} is not a HubSpot contact id (company-<id> or person-<id>)`);
    return parsed;
  }

  function assertContactEntity(entity: Entity): void {
    if (entity !== 'contact') throw new InvalidRequestError(`${options.name}: HubSpot serves contacts, not ${entity}`);
  }
}

/** Keeps the canonical contact fields of a loosely typed field record. */
function toContactPatch(fields: Record<string, FieldValue>): ContactPatch {
  const patch: ContactPatch = {};
  for (const field of CONTACT_FIELDS) {
    if (field in fields) patch[field] = fields[field] ?? null;
  }
  return patch;
}

function withoutEmpty(properties: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== ''));
}

function groupByObjectType<T extends { objectType: HubSpotObjectType }>(items: T[]): Map<HubSpotObjectType, T[]> {
  const groups = new Map<HubSpotObjectType, T[]>();
  for (const item of items) groups.set(item.objectType, [...(groups.get(item.objectType) ?? []), item]);
  return groups;
}

/** Chunks of at most `size` in which no id repeats: HubSpot refuses duplicate ids in one batch. */
function chunkWithoutDuplicates<T extends { hubSpotId: string }>(items: T[], size: number): T[][] {
  const chunks: { items: T[]; ids: Set<string> }[] = [];
  for (const item of items) {
    let target = chunks.find((candidate) => candidate.items.length < size && !candidate.ids.has(item.hubSpotId));
    if (!target) {
      target = { items: [], ids: new Set() };
      chunks.push(target);
    }
    target.items.push(item);
    target.ids.add(item.hubSpotId);
  }
  return chunks.map((candidate) => candidate.items);
}

/** The per-id errors of a 207 answer, as connector errors. */
function failuresById(response: BatchResponse): Map<string, ConnectorError> {
  const failures = new Map<string, ConnectorError>();
  for (const error of response.errors ?? []) {
    const ids = Object.values(error.context ?? {}).flat();
    const message = `hubspot: ${error.message ?? error.category ?? 'batch item failed'}`;
    for (const id of ids)
      failures.set(
        id,
        error.category === 'OBJECT_NOT_FOUND' ? new NotFoundError(message) : new InvalidRequestError(message),
      );
  }
  return failures;
}
