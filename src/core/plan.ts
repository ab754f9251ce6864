/**
 * planSync: the heart of tandem. Given a contact, every account linked to it, the field mappings
 * and the shadow of last-synced values, decide which fields to write where. Pure: no I/O.
 *
 * The contact is the hub. A field that changed on the contact goes to every linked account whose
 * mapping lets it flow there; a field that changed on an account goes to the contact and, through
 * it, to the contact's other accounts. A side "changed" when it differs from its shadow, so
 * tandem's own writes, once confirmed into the shadow, are never mistaken for new changes (echo
 * suppression). Where several sides changed one field, last-writer-wins decides.
 */
import { lastWriterWins, type Candidate } from './lww';
import {
  ACCOUNT_KINDS,
  type Account,
  type AccountKind,
  type BusinessRelation,
  type Contact,
  type Direction,
  type FieldMapping,
  type FieldValue,
  type System,
} from './model';

/** The last-synced value of one field of one side. */
export interface ShadowValue {
  value: FieldValue;
  sourceModifiedAt: string;
}

/** A relation as the planner sees it. */
export interface LinkedAccount {
  relation: BusinessRelation;
  /** The account as just read; null when it no longer exists. */
  account: Account | null;
  mappings: readonly FieldMapping[];
  /** Shadow keyed by `contact.<field>` and `account.<field>`. */
  shadow: ReadonlyMap<string, ShadowValue>;
}

/** One field to change on one record. */
export interface FieldChange {
  relationId: string;
  /** The field's name on the record being written. */
  field: string;
  from: FieldValue;
  to: FieldValue;
  direction: 'toAccounting' | 'toCrm';
  sourceSystem: System;
  sourceModifiedAt: string;
}

/** Everything to write to one record, in one call. */
export interface RecordWrite {
  system: System;
  entity: 'contact' | AccountKind;
  id: string;
  /** The version the plan read; a system with etags refuses the write if it moved on. */
  ifMatch?: string;
  /** Canonical field -> new value. */
  fields: Record<string, FieldValue>;
  changes: FieldChange[];
  /** The relations whose shadow depends on this write succeeding. */
  relationIds: string[];
}

/** A field both sides changed to different values, and how it was decided. */
export interface ConflictDecision {
  relationIds: string[];
  contactField: string;
  candidates: Candidate[];
  winner: Candidate;
  reason: 'newer' | 'tieBreak';
}

/** The value each side of a relation will hold once the plan's writes are confirmed. */
export interface PlannedShadow {
  relationId: string;
  side: 'contact' | 'account';
  field: string;
  value: FieldValue;
}

/** The decisions for one contact and its relations. */
export interface SyncPlan {
  writes: RecordWrite[];
  conflicts: ConflictDecision[];
  shadow: PlannedShadow[];
  /**
   * True when nothing differed from the shadow: the change that triggered this plan was tandem's
   * own write coming back (or a change to unmapped fields).
   */
  nothingChanged: boolean;
}

/** Inputs of planSync. */
export interface PlanInput {
  contact: Contact;
  linked: readonly LinkedAccount[];
  tieBreak: readonly System[];
}

const allowsToAccounting = (direction: Direction) => direction !== 'toCrm';
const allowsToCrm = (direction: Direction) => direction !== 'toAccounting';

/** Decides the writes that bring a contact and its linked accounts in step. */
export function planSync({ contact, linked, tieBreak }: PlanInput): SyncPlan {
  const live = linked.filter((entry): entry is LinkedAccount & { account: Account } => entry.account !== null);
  const contactFields = new Set(live.flatMap((entry) => entry.mappings.map((mapping) => mapping.contact)));

  const contactWrite: Record<string, FieldValue> = {};
  const contactChanges: FieldChange[] = [];
  const accountWrites = new Map<string, { fields: Record<string, FieldValue>; changes: FieldChange[] }>();
  const conflicts: ConflictDecision[] = [];
  const shadow: PlannedShadow[] = [];
  let anyChange = false;

  for (const contactField of contactFields) {
    const pairs = live.flatMap((entry) =>
      entry.mappings.filter((mapping) => mapping.contact === contactField).map((mapping) => ({ entry, mapping })),
    );
    const contactValue = contact.fields[contactField as keyof Contact['fields']] ?? null;
    const contactTime = contact.fieldModifiedAt?.[contactField as keyof Contact['fields']] ?? contact.modifiedAt;

    // Relations linked since the last sync have no shadow yet; judge by the ones that do.
    const key = `contact.${contactField}`;
    const withShadow = pairs.filter(({ entry }) => entry.shadow.has(key));
    const contactChanged =
      withShadow.length === 0 || withShadow.some(({ entry }) => differsFromShadow(entry.shadow, key, contactValue));
    const accountCandidates: Candidate[] = [];
    const masters: Candidate[] = [];
    for (const { entry, mapping } of pairs) {
      if (!allowsToCrm(mapping.direction)) continue;
      const value = entry.account.fields[mapping.account as keyof Account['fields']] ?? null;
      if (!differsFromShadow(entry.shadow, `account.${mapping.account}`, value)) continue;
      const candidate: Candidate = {
        system: 'accounting',
        relationId: entry.relation.id,
        rank: ACCOUNT_KINDS.indexOf(entry.relation.accountKind),
        value,
        modifiedAt:
          entry.account.fieldModifiedAt?.[mapping.account as keyof Account['fields']] ?? entry.account.modifiedAt,
      };
      accountCandidates.push(candidate);
      // An account whose mapping flows only towards the CRM is the master of that field.
      if (mapping.direction === 'toCrm') masters.push(candidate);
    }

    let candidates: Candidate[] = [...accountCandidates];
    if (contactChanged) candidates.push({ system: 'crm', value: contactValue, modifiedAt: contactTime });
    if (masters.length > 0) candidates = masters;

    let finalValue = contactValue;
    let winner: Candidate | undefined;
    if (candidates.length > 0) {
      anyChange = true;
      const resolution = lastWriterWins(candidates, tieBreak);
      winner = resolution.winner;
      finalValue = winner.value;
      if (resolution.conflict) {
        conflicts.push({
          relationIds: pairs.map(({ entry }) => entry.relation.id),
          contactField,
          candidates: resolution.conflict.candidates,
          winner,
          reason: resolution.conflict.reason,
        });
      }
      if (winner.system === 'accounting' && contactValue !== finalValue) {
        contactWrite[contactField] = finalValue;
        contactChanges.push({
          relationId: winner.relationId as string,
          field: contactField,
          from: contactValue,
          to: finalValue,
          direction: 'toCrm',
          sourceSystem: 'accounting',
          sourceModifiedAt: winner.modifiedAt,
        });
      }
    }

    for (const { entry, mapping } of pairs) {
      const accountValue = entry.account.fields[mapping.account as keyof Account['fields']] ?? null;
      let accountFinal = accountValue;
      const fromThisAccount = winner?.system === 'accounting' && winner.relationId === entry.relation.id;
      if (winner && !fromThisAccount && allowsToAccounting(mapping.direction) && accountValue !== finalValue) {
        accountFinal = finalValue;
        const write = accountWrites.get(entry.relation.id) ?? { fields: {}, changes: [] };
        write.fields[mapping.account] = finalValue;
        write.changes.push({
          relationId: entry.relation.id,
          field: mapping.account,
          from: accountValue,
          to: finalValue,
          direction: 'toAccounting',
          sourceSystem: winner.system,
          sourceModifiedAt: winner.modifiedAt,
        });
        accountWrites.set(entry.relation.id, write);
      }
      shadow.push({ relationId: entry.relation.id, side: 'contact', field: contactField, value: finalValue });
      shadow.push({ relationId: entry.relation.id, side: 'account', field: mapping.account, value: accountFinal });
    }
  }

  const writes: RecordWrite[] = [];
  if (contactChanges.length > 0) {
    writes.push({
      system: 'crm',
      entity: 'contact',
      id: contact.id,
      ifMatch: contact.version,
      fields: contactWrite,
      changes: contactChanges,
      relationIds: live.map((entry) => entry.relation.id),
    });
  }
  for (const entry of live) {
    const write = accountWrites.get(entry.relation.id);
    if (!write) continue;
    writes.push({
      system: 'accounting',
      entity: entry.relation.accountKind,
      id: entry.account.id,
      ifMatch: entry.account.version,
      fields: write.fields,
      changes: write.changes,
      relationIds: [entry.relation.id],
    });
  }
  return { writes, conflicts, shadow, nothingChanged: !anyChange };
}

function differsFromShadow(shadow: ReadonlyMap<string, ShadowValue>, key: string, value: FieldValue): boolean {
  const last = shadow.get(key);
  return last === undefined || last.value !== value;
}
