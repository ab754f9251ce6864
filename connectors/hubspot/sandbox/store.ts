/**
 * The sandbox portal's records: companies and contacts in memory, one id sequence per type, and
 * a change feed that the webhook outbox and the persistence file listen to.
 */
import { z } from 'zod';
import { MODIFIED_PROPERTY, READ_ONLY_PROPERTIES, type SandboxObjectType, WRITABLE_PROPERTIES } from './properties';

const storedObjectSchema = z.object({
  id: z.string(),
  properties: z.record(z.string(), z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** A stored record. Property values are strings; a cleared property is absent. */
export type StoredObject = z.infer<typeof storedObjectSchema>;

/** The store's state as written to the persistence file. */
export const snapshotSchema = z.object({
  nextId: z.object({ companies: z.number(), contacts: z.number() }),
  lastChangeAt: z.number(),
  companies: z.array(storedObjectSchema),
  contacts: z.array(storedObjectSchema),
});
/** The store's state as written to the persistence file. */
export type StoreSnapshot = z.infer<typeof snapshotSchema>;

/** Who made a change, as HubSpot reports it in webhook events. */
export type ChangeSource = 'CRM_UI' | 'INTEGRATION';

/** One change, before it becomes a webhook event. */
export interface StoreChange {
  objectType: SandboxObjectType;
  kind: 'creation' | 'propertyChange' | 'deletion';
  objectId: string;
  occurredAt: number;
  changeSource: ChangeSource;
  propertyName?: string;
  propertyValue?: string;
}

/** A property a write named that the object type does not have, or may not be written. */
export interface PropertyProblem {
  name: string;
  error: 'PROPERTY_DOESNT_EXIST' | 'READ_ONLY_VALUE';
}

// Distinct ranges make a company id used as a contact id (or the reverse) miss, as in HubSpot.
const FIRST_ID: Record<SandboxObjectType, number> = { companies: 10_001, contacts: 50_001 };

/** In-memory companies and contacts. */
export class SandboxStore {
  private objects: Record<SandboxObjectType, Map<string, StoredObject>> = { companies: new Map(), contacts: new Map() };
  private nextId: Record<SandboxObjectType, number> = { ...FIRST_ID };
  private lastChangeAt = 0;

  constructor(private readonly onChanges: (changes: StoreChange[]) => void) {}

  /** Properties of a write the object type refuses. */
  problems(objectType: SandboxObjectType, properties: Record<string, unknown>): PropertyProblem[] {
    return Object.keys(properties)
      .filter((name) => !WRITABLE_PROPERTIES[objectType].has(name))
      .map((name) => ({
        name,
        error: READ_ONLY_PROPERTIES[objectType].has(name) ? 'READ_ONLY_VALUE' : 'PROPERTY_DOESNT_EXIST',
      }));
  }

  /** One record, or undefined. */
  get(objectType: SandboxObjectType, id: string): StoredObject | undefined {
    return this.objects[objectType].get(id);
  }

  /** Every record of a type, ordered by id. */
  all(objectType: SandboxObjectType): StoredObject[] {
    return [...this.objects[objectType].values()].sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Creates a record; the caller has checked the properties. */
  create(objectType: SandboxObjectType, properties: Record<string, string>, source: ChangeSource): StoredObject {
    const id = String(this.nextId[objectType]++);
    const at = this.tick();
    const iso = new Date(at).toISOString();
    const given = Object.entries(properties).filter(([, value]) => value !== '');
    const system = { createdate: iso, [MODIFIED_PROPERTY[objectType]]: iso, hs_object_id: id };
    const object = { id, properties: { ...Object.fromEntries(given), ...system }, createdAt: iso, updatedAt: iso };
    this.objects[objectType].set(id, object);
    this.onChanges([{ objectType, kind: 'creation', objectId: id, occurredAt: at, changeSource: source }]);
    return object;
  }

  /**
   * Writes properties ('' clears one). The modified date moves only when a value really changed,
   * and then one propertyChange is reported per changed property. Undefined when the id is unknown.
   */
  update(
    objectType: SandboxObjectType,
    id: string,
    properties: Record<string, string>,
    source: ChangeSource,
  ): StoredObject | undefined {
    const object = this.objects[objectType].get(id);
    if (!object) return undefined;
    const changed = Object.entries(properties).filter(([name, value]) => (object.properties[name] ?? '') !== value);
    if (changed.length === 0) return object;
    const at = this.tick();
    const iso = new Date(at).toISOString();
    const merged = Object.entries({ ...object.properties, ...Object.fromEntries(changed) });
    object.properties = Object.fromEntries(merged.filter(([, value]) => value !== ''));
    object.properties[MODIFIED_PROPERTY[objectType]] = iso;
    object.updatedAt = iso;
    this.onChanges(
      changed.map(([propertyName, propertyValue]) => ({
        ...{ objectType, kind: 'propertyChange' as const, objectId: id, occurredAt: at, changeSource: source },
        ...{ propertyName, propertyValue },
      })),
    );
    return object;
  }

  /** Deletes (archives) a record; false when the id is unknown. */
  delete(objectType: SandboxObjectType, id: string, source: ChangeSource): boolean {
    if (!this.objects[objectType].delete(id)) return false;
    this.onChanges([{ objectType, kind: 'deletion', objectId: id, occurredAt: this.tick(), changeSource: source }]);
    return true;
  }

  /** The state to persist. */
  snapshot(): StoreSnapshot {
    const { nextId, lastChangeAt } = this;
    return { nextId: { ...nextId }, lastChangeAt, companies: this.all('companies'), contacts: this.all('contacts') };
  }

  /** Replaces the state with a persisted one, without reporting changes. */
  restore(snapshot: StoreSnapshot): void {
    this.nextId = { ...snapshot.nextId };
    this.lastChangeAt = snapshot.lastChangeAt;
    const byId = (objects: StoredObject[]) => new Map(objects.map((object) => [object.id, object]));
    this.objects = { companies: byId(snapshot.companies), contacts: byId(snapshot.contacts) };
  }

  /** True when the portal holds no records. */
  isEmpty(): boolean {
    return this.objects.companies.size === 0 && this.objects.contacts.size === 0;
  }

  // Modified dates never go backwards, even if the wall clock does.
  private tick(): number {
    this.lastChangeAt = Math.max(Date.now(), this.lastChangeAt);
    return this.lastChangeAt;
  }
}
