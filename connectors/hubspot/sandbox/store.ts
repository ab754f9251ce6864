/**
 * The sandbox portal's records: companies and contacts in memory, one id sequence per type, and
 * a change feed that the webhook dispatcher and the persistence file listen to.
 */
import { MODIFIED_PROPERTY, READ_ONLY_PROPERTIES, type SandboxObjectType, WRITABLE_PROPERTIES } from './properties';

/** A stored record. Property values are strings; a cleared property is absent. */
export interface StoredObject {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

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

/** The store's state as written to the persistence file. */
export interface StoreSnapshot {
  nextId: Record<SandboxObjectType, number>;
  lastChangeAt: number;
  companies: StoredObject[];
  contacts: StoredObject[];
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
  private readonly objects: Record<SandboxObjectType, Map<string, StoredObject>> = {
    companies: new Map(),
    contacts: new Map(),
  };
  private nextId: Record<SandboxObjectType, number> = { ...FIRST_ID };
  private lastChangeAt = 0;

  constructor(private readonly onChanges: (changes: StoreChange[]) => void) {}

  /** Properties of a write the object type refuses. */
  problems(objectType: SandboxObjectType, properties: Record<string, unknown>): PropertyProblem[] {
    return Object.keys(properties).flatMap((name): PropertyProblem[] => {
      if (WRITABLE_PROPERTIES[objectType].has(name)) return [];
      return [
        { name, error: READ_ONLY_PROPERTIES[objectType].has(name) ? 'READ_ONLY_VALUE' : 'PROPERTY_DOESNT_EXIST' },
      ];
    });
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
    const object: StoredObject = {
      id,
      properties: {
        ...withoutEmpty(properties),
        createdate: iso,
        [MODIFIED_PROPERTY[objectType]]: iso,
        hs_object_id: id,
      },
      createdAt: iso,
      updatedAt: iso,
    };
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
    for (const [name, value] of changed) {
      if (value === '') delete object.properties[name];
      else object.properties[name] = value;
    }
    object.properties[MODIFIED_PROPERTY[objectType]] = iso;
    object.updatedAt = iso;
    this.onChanges(
      changed.map(([name, value]) => ({
        objectType,
        kind: 'propertyChange' as const,
        objectId: id,
        occurredAt: at,
        changeSource: source,
        propertyName: name,
        propertyValue: value,
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
    return {
      nextId: { ...this.nextId },
      lastChangeAt: this.lastChangeAt,
      companies: this.all('companies'),
      contacts: this.all('contacts'),
    };
  }

  /** Replaces the state with a persisted one, without reporting changes. */
  restore(snapshot: StoreSnapshot): void {
    this.nextId = { ...snapshot.nextId };
    this.lastChangeAt = snapshot.lastChangeAt;
    this.objects.companies = new Map(snapshot.companies.map((object) => [object.id, object]));
    this.objects.contacts = new Map(snapshot.contacts.map((object) => [object.id, object]));
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

function withoutEmpty(properties: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== ''));
}
