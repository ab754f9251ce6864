/**
 * The Pipedrive CRM connector on the kit: organizations and persons (API v2) as canonical
 * contacts, polled by update_time, found for the pickers through the search endpoints, written
 * with PATCH, pushed through webhooks v2.
 */
import { defineConnector, type ConnectorContext } from '../kit/define';
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
  toOrganizationUpdate,
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
}

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
};

/** Creates a Pipedrive connector without a config file (tests, scripts). No I/O until a method is called. */
export function createPipedriveConnector(options: PipedriveConnectorOptions): Connector {
  const { baseUrl, apiToken, webhookUser, webhookPassword, ...context } = options;
  return pipedrive.create(
    {
      baseUrl,
      credentials: {
        apiToken,
        ...(webhookUser !== undefined && { webhookUser }),
        ...(webhookPassword !== undefined && { webhookPassword }),
      },
    },
    context,
  );
}
