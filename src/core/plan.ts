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
import { lastWriterWins, type Candidate, type ConflictReason, type Resolution } from './lww';
import { fieldModifiedAt, fieldValue, fieldWindow } from './fields';
import { translationOf } from './transform';
import {
  ACCOUNT_KINDS,
  type Account,
  type AccountKind,
  type BusinessRelation,
  type Contact,
  type Direction,
  type FieldEarlier,
  type FieldMapping,
  type FieldValue,
  type SyncRecord,
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
  reason: ConflictReason;
  /** The records the winner is written to: once one of these writes lands, a losing value is gone. */
  writes: Array<Pick<RecordWrite, 'system' | 'entity' | 'id'>>;
}

/**
 * The value one side of a relation will hold once the plan's writes are confirmed, and what a
 * failed write leaves behind. Every planner says this as data, and one confirmation
 * (confirmPlan) reads it.
 */
export interface PlannedShadow {
  relationId: string;
  side: 'contact' | 'account';
  field: string;
  /** The value stored once every write this row follows succeeded. */
  value: FieldValue;
  /**
   * The writes (by writeKey) this row follows. Absent: every write of the plan that names the
   * relation in its relationIds, so a relation's shadow moves only when all its writes succeeded.
   */
  follows?: string[];
  /**
   * What is stored when a write this row follows failed. Absent: nothing, the previous shadow
   * stays, so the next sync sees the same difference again and retries it.
   */
  ifFailed?: { value: FieldValue };
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

/** A relation whose account still exists. */
type LiveAccount = LinkedAccount & { account: Account };

/** One relation's mapping of the contact field being decided. */
interface MappedPair {
  entry: LiveAccount;
  mapping: FieldMapping;
}

/** What was decided for one contact field. */
interface FieldDecision {
  /** False when no side changed the field, so there was nothing to decide. */
  changed: boolean;
  conflict: ConflictDecision | null;
  contactChange: FieldChange | null;
  /** Changes to the accounts' fields; each names its relation. */
  accountChanges: FieldChange[];
  shadow: PlannedShadow[];
  /** Values a value map held for review instead of carrying them across ('unmapped' conflicts). */
  held: ConflictDecision[];
}

/**
 * Decides the writes that bring a contact and its linked accounts in step: per mapped contact
 * field, gather the sides that changed it, let last-writer-wins pick one, and fan the winning
 * value out to the contact and the accounts.
 */
export function planSync({ contact, linked, tieBreak }: PlanInput): SyncPlan {
  const live = liveAccounts(linked);
  const decisions = mappedContactFields(live).map((contactField) => {
    const pairs = pairsMapping(live, contactField);
    const { candidates, held } = gatherCandidates(contact, contactField, pairs);
    const resolution = candidates.length > 0 ? lastWriterWins(candidates, tieBreak) : null;
    const decision = fanOut(contact, contactField, pairs, resolution);
    return { ...decision, held: [...held, ...decision.held] };
  });
  return {
    writes: collectWrites(contact, live, decisions),
    conflicts: decisions.flatMap((decision) => [...(decision.conflict ? [decision.conflict] : []), ...decision.held]),
    shadow: decisions.flatMap((decision) => decision.shadow),
    nothingChanged: decisions.every((decision) => !decision.changed),
  };
}

/** The relations whose account still exists; a deleted account takes no part. */
function liveAccounts(linked: readonly LinkedAccount[]): LiveAccount[] {
  return linked.filter((entry): entry is LiveAccount => entry.account !== null);
}

/** Every contact field some relation maps, in mapping order. */
function mappedContactFields(live: readonly LiveAccount[]): string[] {
  return [...new Set(live.flatMap((entry) => entry.mappings.map((mapping) => mapping.contact)))];
}

/** Each relation's mappings of one contact field. */
function pairsMapping(live: readonly LiveAccount[], contactField: string): MappedPair[] {
  return live.flatMap((entry) =>
    entry.mappings.filter((mapping) => mapping.contact === contactField).map((mapping) => ({ entry, mapping })),
  );
}

/**
 * The sides that changed a field since the last sync, each with its value (in the CRM's spelling)
 * and time; and the accounts' changes their value map cannot spell for the CRM and holds for review.
 */
function gatherCandidates(
  contact: Contact,
  contactField: string,
  pairs: readonly MappedPair[],
): { candidates: Candidate[]; held: ConflictDecision[] } {
  const changedAccounts = pairs.filter(
    ({ entry, mapping }) =>
      allowsToCrm(mapping.direction) &&
      differsFromShadow(entry.shadow, `account.${mapping.account}`, fieldValue(entry.account, mapping.account)),
  );
  const held: ConflictDecision[] = [];
  const claims: Array<{ pair: MappedPair; candidate: Candidate }> = [];
  for (const pair of changedAccounts) {
    const candidate = accountCandidate(pair);
    if (candidate) claims.push({ pair, candidate });
    else held.push(heldForCrm(contact, contactField, pair));
  }
  // An account whose mapping flows only towards the CRM is the master of that field.
  const masters = claims.filter(({ pair }) => pair.mapping.direction === 'toCrm');
  if (masters.length > 0) return { candidates: masters.map(({ candidate }) => candidate), held };
  const candidates = claims.map(({ candidate }) => candidate);
  if (contactChanged(contact, contactField, pairs)) {
    candidates.push({
      system: 'crm',
      value: fieldValue(contact, contactField),
      modifiedAt: fieldModifiedAt(contact, contactField),
      ...windowOf(contact, contactField),
    });
  }
  // Edits a write of tandem's replaced (core/observe.ts) claim the field again, with their own time.
  const lost = overwritten(contact, contactField);
  if (lost) candidates.push({ system: 'crm', value: lost.value, modifiedAt: lost.at });
  for (const { entry, mapping } of pairs) {
    const lostHere = allowsToCrm(mapping.direction) ? overwritten(entry.account, mapping.account) : undefined;
    const translated = lostHere && translationOf(mapping).toCrm(lostHere.value);
    if (lostHere && translated && !('held' in translated))
      candidates.push({
        system: 'accounting',
        relationId: entry.relation.id,
        rank: ACCOUNT_KINDS.indexOf(entry.relation.accountKind),
        value: translated.value,
        modifiedAt: lostHere.at,
      });
  }
  return { candidates, held };
}

/** The edit a write of tandem's replaced in this field, where the system's history showed one. */
function overwritten(record: SyncRecord, field: string): FieldEarlier | undefined {
  const lost: Readonly<Partial<Record<string, FieldEarlier>>> = record.fieldOverwritten ?? {};
  return lost[field];
}

/** An account's claim on the field it maps, in the CRM's spelling; null when its value map holds the value. */
function accountCandidate({ entry, mapping }: MappedPair): Candidate | null {
  const translated = translationOf(mapping).toCrm(fieldValue(entry.account, mapping.account));
  if ('held' in translated) return null;
  return {
    system: 'accounting',
    relationId: entry.relation.id,
    rank: ACCOUNT_KINDS.indexOf(entry.relation.accountKind),
    value: translated.value,
    modifiedAt: fieldModifiedAt(entry.account, mapping.account),
    ...windowOf(entry.account, mapping.account),
  };
}

/** An account's change its value map cannot spell for the CRM: the contact keeps its value, for review. */
function heldForCrm(contact: Contact, contactField: string, { entry, mapping }: MappedPair): ConflictDecision {
  const kept: Candidate = {
    system: 'crm',
    value: fieldValue(contact, contactField),
    modifiedAt: fieldModifiedAt(contact, contactField),
  };
  const held: Candidate = {
    system: 'accounting',
    relationId: entry.relation.id,
    rank: ACCOUNT_KINDS.indexOf(entry.relation.accountKind),
    value: fieldValue(entry.account, mapping.account),
    modifiedAt: fieldModifiedAt(entry.account, mapping.account),
  };
  return {
    relationIds: [entry.relation.id],
    contactField,
    candidates: [held, kept],
    winner: kept,
    reason: 'unmapped',
    writes: [],
  };
}

/** The candidate's window, where tandem observed one. */
function windowOf(record: SyncRecord, field: string): Pick<Candidate, 'window'> {
  const window = fieldWindow(record, field);
  return window ? { window } : {};
}

/** Whether the contact's value differs from what the relations last synced. */
function contactChanged(contact: Contact, contactField: string, pairs: readonly MappedPair[]): boolean {
  // Relations linked since the last sync have no shadow yet; judge by the ones that do.
  const key = `contact.${contactField}`;
  const withShadow = pairs.filter(({ entry }) => entry.shadow.has(key));
  const value = fieldValue(contact, contactField);
  return withShadow.length === 0 || withShadow.some(({ entry }) => differsFromShadow(entry.shadow, key, value));
}

/**
 * Carries the winning value to the contact and to every account whose mapping lets it flow
 * there, and plans each relation's shadow. Without a resolution nothing changed: every side
 * keeps its value and the shadow records them.
 */
function fanOut(
  contact: Contact,
  contactField: string,
  pairs: readonly MappedPair[],
  resolution: Resolution | null,
): FieldDecision {
  const contactValue = fieldValue(contact, contactField);
  const winner = resolution?.winner ?? null;
  const finalValue = winner ? winner.value : contactValue;
  const winningRelation = winner?.system === 'accounting' ? winner.relationId : undefined;

  // A CRM winner that differs from the contact's value is an edit tandem overwrote: it is put back.
  let contactChange: FieldChange | null = null;
  const changeRelation = winningRelation ?? pairs[0]?.entry.relation.id;
  if (winner && changeRelation !== undefined && contactValue !== finalValue) {
    contactChange = {
      relationId: changeRelation,
      field: contactField,
      from: contactValue,
      to: finalValue,
      direction: 'toCrm',
      sourceSystem: winner.system,
      sourceModifiedAt: winner.modifiedAt,
    };
  }

  const accountChanges: FieldChange[] = [];
  const shadow: PlannedShadow[] = [];
  const held: ConflictDecision[] = [];
  for (const { entry, mapping } of pairs) {
    const accountValue = fieldValue(entry.account, mapping.account);
    // The winner in the account's spelling; a value its value map holds is not written there.
    const translated = translationOf(mapping).toAccounting(finalValue);
    const target = translated.value;
    // The winning account itself differs from the winner only where tandem overwrote the edit: put back.
    const wouldWrite =
      winner !== null &&
      accountValue !== target &&
      (winningRelation === entry.relation.id
        ? overwritten(entry.account, mapping.account)?.value === target
        : allowsToAccounting(mapping.direction));
    const writesAccount = wouldWrite && !('held' in translated);
    if (winner && wouldWrite && 'held' in translated) {
      const kept: Candidate = {
        system: 'accounting',
        relationId: entry.relation.id,
        rank: ACCOUNT_KINDS.indexOf(entry.relation.accountKind),
        value: accountValue,
        modifiedAt: fieldModifiedAt(entry.account, mapping.account),
      };
      held.push({
        relationIds: [entry.relation.id],
        contactField,
        candidates: [{ ...winner, value: finalValue }, kept],
        winner: kept,
        reason: 'unmapped',
        writes: [],
      });
    }
    if (winner && writesAccount) {
      accountChanges.push({
        relationId: entry.relation.id,
        field: mapping.account,
        from: accountValue,
        to: target,
        direction: 'toAccounting',
        sourceSystem: winner.system,
        sourceModifiedAt: winner.modifiedAt,
      });
    }
    shadow.push({ relationId: entry.relation.id, side: 'contact', field: contactField, value: finalValue });
    shadow.push({
      relationId: entry.relation.id,
      side: 'account',
      field: mapping.account,
      value: writesAccount ? target : accountValue,
    });
  }

  const conflict: ConflictDecision | null =
    resolution?.conflict && winner
      ? {
          relationIds: pairs.map(({ entry }) => entry.relation.id),
          contactField,
          candidates: resolution.conflict.candidates,
          winner,
          reason: resolution.conflict.reason,
          writes: [
            ...(contactChange ? [{ system: 'crm' as const, entity: 'contact' as const, id: contact.id }] : []),
            ...accountChanges.flatMap((change) => {
              const entry = pairs.find((pair) => pair.entry.relation.id === change.relationId)?.entry;
              return entry
                ? [{ system: 'accounting' as const, entity: entry.relation.accountKind, id: entry.account.id }]
                : [];
            }),
          ],
        }
      : null;
  return { changed: resolution !== null, conflict, contactChange, accountChanges, shadow, held };
}

/** One write per record: the contact's changes in one call, each account's in one call. */
function collectWrites(
  contact: Contact,
  live: readonly LiveAccount[],
  decisions: readonly FieldDecision[],
): RecordWrite[] {
  const writes: RecordWrite[] = [];
  const contactChanges = decisions.flatMap((decision) => (decision.contactChange ? [decision.contactChange] : []));
  if (contactChanges.length > 0) {
    writes.push({
      system: 'crm',
      entity: 'contact',
      id: contact.id,
      ifMatch: contact.version,
      fields: fieldsOf(contactChanges),
      changes: contactChanges,
      relationIds: live.map((entry) => entry.relation.id),
    });
  }
  for (const entry of live) {
    const changes = decisions.flatMap((decision) =>
      decision.accountChanges.filter((change) => change.relationId === entry.relation.id),
    );
    if (changes.length === 0) continue;
    writes.push({
      system: 'accounting',
      entity: entry.relation.accountKind,
      id: entry.account.id,
      ifMatch: entry.account.version,
      fields: fieldsOf(changes),
      changes,
      relationIds: [entry.relation.id],
    });
  }
  return writes;
}

/** The fields of one write: each changed field with its new value. */
export function fieldsOf(changes: readonly FieldChange[]): Record<string, FieldValue> {
  return Object.fromEntries(changes.map((change) => [change.field, change.to]));
}

function differsFromShadow(shadow: ReadonlyMap<string, ShadowValue>, key: string, value: FieldValue): boolean {
  const last = shadow.get(key);
  return last === undefined || last.value !== value;
}
