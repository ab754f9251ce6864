/**
 * The Pipedrive CRM connector on the kit: organizations and persons (API v2) as canonical
 * contacts, polled by update_time, found for the pickers through the search endpoints, written
 * with PATCH, pushed through webhooks v2.
 */
import { z } from 'zod';
import { defineConnector, type ConnectorContext } from '../kit/define';
import { parseRequest } from '../kit/parse';
import { InvalidRequestError, NotFoundError } from '../kit/errors';
import { longestWord } from '../kit/search';
import type { Connector } from '../kit/types';
import type { SyncRecord } from '../../src/core/model';
import { pollChanges } from './changes';
import { PipedriveApi, type PipedriveCollection, type PipedriveRecord } from './client';
import { pipedriveConfig } from './config';
import {
  buildMapping,
  CONTACT_ID,
  fromContactId,
  organizationToContact,
  personToContact,
  supportedFields,
  toOrganizationCreate,
  toOrganizationUpdate,
  toPersonCreate,
  toPersonUpdate,
  type PipedriveMapping,
} from './mappers';
import type { PipedriveOrganization, PipedrivePerson } from './schemas';
import { pipedriveWebhook, type WebhookCredentials } from './webhook';

/** What every handler gets. */
interface PipedriveSession {
  name: string;
  api: PipedriveApi;
  mapping: PipedriveMapping;
  webhook: WebhookCredentials | null;
  idempotencyField: string;
}

const createExtraSchema = z.looseObject({
  /** Which record to create; contacts created from accounts are organizations. */
  type: z.enum(['company', 'person']).default('company'),
  /** For a person: the canonical id of the company contact it belongs to. */
  companyId: z.string().nullable().optional(),
  /** The name when the fields carry none (Pipedrive requires one). */
  name: z.string().min(1).optional(),
});

const collectionOf = (type: 'company' | 'person'): PipedriveCollection =>
  type === 'company' ? 'organizations' : 'persons';

/** A record of either collection as a canonical contact. */
function toContact(mapping: PipedriveMapping, collection: PipedriveCollection, record: PipedriveRecord) {
  return collection === 'organizations'
    ? organizationToContact(record as PipedriveOrganization, mapping)
    : personToContact(record as PipedrivePerson, mapping);
}

function parseId(name: string, id: string) {
  const parsed = fromContactId(id);
  if (!parsed)
    throw new InvalidRequestError(`${name}: ${id} is not a Pipedrive contact id (company-<id> or person-<id>)`);
  return { collection: collectionOf(parsed.type), pipedriveId: parsed.pipedriveId };
}

/** The Pipedrive connector, as the registry lists it. */
export const pipedrive = defineConnector({
  name: 'pipedrive',
  side: 'crm',
  config: pipedriveConfig,
  secrets: ['apiToken', 'webhookPassword'],
  // The burst limit of the smallest plan for API tokens: 20 requests per 2 s, counted by
  // x-ratelimit-remaining (https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting).
  limits: { requests: { max: 20, perMs: 2000, remainingHeader: 'x-ratelimit-remaining' } },
  connect: (settings, { http, context }): PipedriveSession => {
    const { credentials } = settings;
    return {
      name: context.name,
      api: new PipedriveApi(http({ baseURL: settings.baseUrl }), credentials.apiToken),
      mapping: buildMapping(settings.customFields),
      idempotencyField: settings.idempotencyField,
      webhook:
        credentials.webhookUser !== undefined && credentials.webhookPassword !== undefined
          ? { user: credentials.webhookUser, password: credentials.webhookPassword }
          : null,
    };
  },
  entities: {
    contact: {
      fields: ({ mapping }) => supportedFields(mapping),
      id: { pattern: CONTACT_ID, means: 'a Pipedrive contact id (company-<number> or person-<number>)' },

      get: async ({ name, api, mapping }, id) => {
        const { collection, pipedriveId } = parseId(name, id);
        const record = await api.get(collection, pipedriveId);
        return record && toContact(mapping, collection, record);
      },

      listChanged: ({ name, api, mapping }, cursor) =>
        pollChanges(api, name, (collection, record) => toContact(mapping, collection, record), cursor),

      // Each endpoint gets the longest word (the kit keeps the records holding every word); the
      // hits are read whole with one list call per collection, since a search item is a summary.
      async search({ api, mapping }, text, limit) {
        const term = longestWord(text);
        const found = await Promise.all(
          (
            [
              ['organizations', 'name,custom_fields'],
              ['persons', 'name,email,custom_fields'],
            ] as const
          ).map(async ([collection, fields]) => {
            // The search endpoints want 2 characters, or 1 with exact_match; a 1-letter word finds little anyway.
            if (term.length < 2) return [];
            const ids = await api.search(collection, term, fields, limit);
            if (ids.length === 0) return [];
            const { records } = await api.listPage(collection, { ids });
            return records.map((record): SyncRecord => toContact(mapping, collection, record));
          }),
        );
        return found.flat();
      },

      // A retry after a lost answer must find the record the first attempt created: the key is
      // kept in a custom field and looked up by an exact search of custom fields first. Pipedrive's
      // search index may lag a write by moments, so a retry right after a lost answer can still
      // create a second record.
      async create({ name, api, mapping, idempotencyField }, fields, { idempotencyKey, extra }) {
        const options = parseRequest(createExtraSchema, extra ?? {}, `${name}: create options`);
        const collection = collectionOf(options.type);
        for (const id of await api.search(collection, idempotencyKey, 'custom_fields', 5, true)) {
          const previous = await api.get(collection, id);
          if (previous?.custom_fields?.[idempotencyField] === idempotencyKey)
            return toContact(mapping, collection, previous);
        }
        const named = {
          ...fields,
          ...(typeof fields.name !== 'string' && options.name !== undefined && { name: options.name }),
        };
        const key = { [idempotencyField]: idempotencyKey };
        if (collection === 'organizations') {
          const body = toOrganizationCreate(named, mapping);
          if (body === null)
            throw new InvalidRequestError(`${name}: Pipedrive requires a name to create an organization`);
          const created = await api.createOrganization({ ...body, custom_fields: { ...body.custom_fields, ...key } });
          return organizationToContact(created, mapping);
        }
        const company = options.companyId ? parseId(name, options.companyId) : null;
        if (company && company.collection !== 'organizations')
          throw new InvalidRequestError(`${name}: companyId ${String(options.companyId)} is not a company`);
        const body = toPersonCreate(named, mapping, company?.pipedriveId ?? null);
        if (body === null) throw new InvalidRequestError(`${name}: Pipedrive requires a name to create a person`);
        const created = await api.createPerson({ ...body, custom_fields: { ...body.custom_fields, ...key } });
        return personToContact(created, mapping);
      },

      async update({ name, api, mapping }, update) {
        const { collection, pipedriveId } = parseId(name, update.id);
        // The address, e-mails and phones are written whole: the current record is read first.
        const current = await api.get(collection, pipedriveId);
        if (current === null) throw new NotFoundError(`${name}: ${update.id} does not exist`);
        if (collection === 'organizations') {
          const body = toOrganizationUpdate(update.fields, mapping, current as PipedriveOrganization);
          if (Object.keys(body).length === 0) return toContact(mapping, collection, current);
          return organizationToContact(await api.updateOrganization(pipedriveId, body), mapping);
        }
        const body = toPersonUpdate(update.fields, mapping, current as PipedrivePerson);
        if (Object.keys(body).length === 0) return toContact(mapping, collection, current);
        return personToContact(await api.updatePerson(pipedriveId, body), mapping);
      },
    },
  },
  webhook: ({ webhook }) => (webhook === null ? undefined : pipedriveWebhook(webhook)),
  health: ({ api }) => api.health(),
});

/** Options of createPipedriveConnector: the build context, the company domain and the credentials. */
export type PipedriveConnectorOptions = ConnectorContext & {
  baseUrl: string;
  apiToken: string;
  webhookUser?: string;
  webhookPassword?: string;
  /** The custom field key that holds a create's idempotency key (default tandem_idempotency_key). */
  idempotencyField?: string;
};

/** Creates a Pipedrive connector without a config file (tests, scripts). No I/O until a method is called. */
export function createPipedriveConnector(options: PipedriveConnectorOptions): Connector {
  const { baseUrl, apiToken, webhookUser, webhookPassword, idempotencyField, ...context } = options;
  return pipedrive.create(
    {
      baseUrl,
      idempotencyField: idempotencyField ?? 'tandem_idempotency_key',
      credentials: {
        apiToken,
        ...(webhookUser !== undefined && { webhookUser }),
        ...(webhookPassword !== undefined && { webhookPassword }),
      },
    },
    context,
  );
}
