/**
 * Starting a sales quote or order for a contact's customer, or a purchase quote or order for its
 * vendor, in the accounting system; recorded as an interaction and audited.
 */
import { randomUUID } from 'node:crypto';
import {
  DOCUMENT_ACCOUNT_KIND,
  DOCUMENT_TYPES,
  type CreatedDocument,
  type DocumentType,
} from '../../../connectors/kit/types';
import type { BusinessRelation } from '../../core/model';
import {
  KIND_WORDS,
  relationAudit,
  requireCode,
  runOnce,
  tandemInteraction,
  toInteraction,
  upstream,
  type RelationContext,
} from './context';
import { ConflictProblem, InvalidInputProblem } from '../ports/problems';
import type { Actor, Interaction } from '../ports/relations';

/** Starts a document for the contact's linked customer or vendor. */
export async function createDocument(
  context: RelationContext,
  contactId: string,
  input: { type: DocumentType; idempotencyKey?: string },
  actor: Actor,
): Promise<{ document: CreatedDocument; interaction: Interaction; relation: BusinessRelation }> {
  const { engine } = context;
  if (!(DOCUMENT_TYPES as readonly string[]).includes(input.type))
    throw new InvalidInputProblem('type', `one of ${DOCUMENT_TYPES.join(', ')}`);
  const kind = DOCUMENT_ACCOUNT_KIND[input.type];
  requireCode(engine, kind);
  const relation = (await engine.store.findRelationsByContact(contactId)).find(
    (candidate) => candidate.accountKind === kind,
  );
  if (!relation)
    throw new ConflictProblem(
      'NO_RELATION',
      `contact ${contactId} has no ${KIND_WORDS[kind]} relation: link or create a ${KIND_WORDS[kind]} first`,
    );
  const accounting = engine.accounting;
  if (!accounting.createDocument || !(accounting.documents ?? []).includes(input.type)) {
    throw new ConflictProblem(
      'NOT_SUPPORTED',
      `the ${engine.config.connectors.accounting.kind} connector '${accounting.name}' cannot start a ${input.type}`,
    );
  }
  const start = accounting.createDocument.bind(accounting);
  const idempotencyKey = input.idempotencyKey ?? `document-${input.type}-${contactId}-${randomUUID()}`;
  const startDocument = () =>
    upstream(`starting a ${input.type}`, () =>
      start(input.type, { accountId: relation.accountId, externalReference: contactId, idempotencyKey }),
    );
  // A key the caller chose is bound to this contact and document type (IDEMPOTENCY_KEY_REUSED).
  const document =
    input.idempotencyKey === undefined
      ? await startDocument()
      : storedDocument(
          (
            await runOnce(context, idempotencyKey, 'createDocument', { contactId, type: input.type }, async () => ({
              document: await startDocument(),
            }))
          ).result,
        );
  // A retry with the same key gets back the document the first call started: record it once, so
  // the log shows one interaction (and one audit entry) per document.
  const recorded = (await engine.store.listInteractions(contactId)).find(
    (entry) => entry.type === 'documentCreated' && entry.details?.['id'] === document.id,
  );
  if (recorded) return { document, interaction: toInteraction(recorded), relation };
  const details = { type: document.type, id: document.id, number: document.number };
  await engine.store.appendAudit([relationAudit('create', relation, actor, { created: 'document', ...details })]);
  const interaction = await tandemInteraction(
    engine,
    {
      contactId,
      type: 'documentCreated',
      description: `${input.type} ${document.number ?? document.id} started for ${KIND_WORDS[kind]} ${relation.accountId}`,
      relationId: relation.id,
      details,
    },
    actor,
  );
  return { document, interaction, relation };
}

/** The document an earlier run with the same key started, as its operation result keeps it. */
function storedDocument(result: Record<string, unknown>): CreatedDocument {
  const document = result['document'] as CreatedDocument | undefined;
  if (document === undefined || typeof document.id !== 'string')
    throw new Error('stored operation result has no document');
  return document;
}
