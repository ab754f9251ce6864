import { confirmPlan, writeKey, type PlanBasis, type WriteOutcome } from './confirm';
import { planFieldWrite, type FieldWriteTarget } from './field-write';
import type { AccountKind, BusinessRelation, Contact, Direction, FieldValue } from './model';

const READ = '2024-07-01T09:00:00.000Z';
const DECIDED = '2024-07-01T09:30:00.000Z';
const WRITTEN = '2024-07-01T10:00:00.000Z';

const contact: Contact = {
  entity: 'contact',
  id: 'contact-1',
  type: 'company',
  companyId: null,
  fields: { phone: 'old' },
  modifiedAt: READ,
  version: 'c-v1',
};

function target(kind: AccountKind, phone: FieldValue, direction: Direction = 'both'): FieldWriteTarget {
  const relation: BusinessRelation = {
    id: `rel-${kind}`,
    contactId: 'contact-1',
    accountKind: kind,
    accountId: `${kind}-1`,
    relationCode: kind,
    origin: 'linked',
    createdAt: READ,
  };
  return {
    relation,
    account: { entity: kind, id: `${kind}-1`, number: null, fields: { phone }, modifiedAt: READ },
    mapping: { contact: 'phone', account: 'phone', direction },
  };
}

const contactKey = writeKey({ system: 'crm', entity: 'contact', id: 'contact-1' });
const accountKey = (kind: AccountKind) => writeKey({ system: 'accounting', entity: kind, id: `${kind}-1` });

function plan(targets: FieldWriteTarget[], auditRelationId?: string) {
  return planFieldWrite({ contact, contactField: 'phone', value: 'new', targets, auditRelationId, decidedAt: DECIDED });
}

/** Every write of the plan succeeded, except the ones named. */
function outcomes(writes: ReturnType<typeof plan>['writes'], failing: string[] = []): Map<string, WriteOutcome> {
  return new Map(
    writes.map((write): [string, WriteOutcome] => {
      const key = writeKey(write);
      if (failing.includes(key)) return [key, { ok: false, error: 'HTTP 503' }];
      const record =
        write.entity === 'contact'
          ? { ...contact, fields: { phone: 'new' }, modifiedAt: WRITTEN }
          : { ...target(write.entity, 'new').account, modifiedAt: WRITTEN };
      return [key, { ok: true, record, jobId: `job-${write.id}` }];
    }),
  );
}

describe('planFieldWrite', () => {
  it('writes the value to the contact and to every account that lacks it', () => {
    const targets = [target('customer', 'old'), target('vendor', 'new'), target('bankAccount', 'other')];
    const result = plan(targets);
    expect(result.writes).toEqual([
      {
        system: 'crm',
        entity: 'contact',
        id: 'contact-1',
        ifMatch: 'c-v1',
        fields: { phone: 'new' },
        changes: [
          {
            relationId: 'rel-customer',
            field: 'phone',
            from: 'old',
            to: 'new',
            direction: 'toCrm',
            sourceSystem: 'accounting',
            sourceModifiedAt: DECIDED,
          },
        ],
        relationIds: ['rel-customer', 'rel-vendor', 'rel-bankAccount'],
      },
      expect.objectContaining({
        entity: 'customer',
        fields: { phone: 'new' },
        changes: [expect.objectContaining({ from: 'old', direction: 'toAccounting', sourceSystem: 'crm' })],
        relationIds: ['rel-customer'],
      }),
      expect.objectContaining({ entity: 'bankAccount', relationIds: ['rel-bankAccount'] }),
    ]);
    expect(result.conflicts).toEqual([]);
  });

  it('audits the contact’s write under the relation asked for', () => {
    const result = plan([target('customer', 'old'), target('vendor', 'old')], 'rel-vendor');
    expect(result.writes[0]?.changes[0]?.relationId).toBe('rel-vendor');
  });

  it('never writes an account whose mapping flows only to the CRM, and keeps its value in the shadow', () => {
    const result = plan([target('customer', 'kept', 'toCrm')]);
    expect(result.writes.map(writeKey)).toEqual([contactKey]);
    expect(result.shadow).toEqual([
      { relationId: 'rel-customer', side: 'contact', field: 'phone', value: 'new' },
      { relationId: 'rel-customer', side: 'account', field: 'phone', value: 'kept' },
    ]);
  });

  it('writes nothing where every side holds the value, and still plans the shadow', () => {
    const result = planFieldWrite({
      contact: { ...contact, fields: { phone: 'new' } },
      contactField: 'phone',
      value: 'new',
      targets: [target('customer', 'new')],
      decidedAt: DECIDED,
    });
    expect(result.writes).toEqual([]);
    expect(result.nothingChanged).toBe(true);
    expect(result.shadow.map((entry) => entry.value)).toEqual(['new', 'new']);
  });

  it('plans nothing without a relation to write through', () => {
    expect(plan([])).toEqual({ writes: [], conflicts: [], shadow: [], nothingChanged: true });
  });
});

describe('planFieldWrite confirmed', () => {
  const targets = [target('customer', 'old'), target('vendor', 'old')];
  const basis: PlanBasis = { contact, linked: targets };

  it('holds the written value on every side once every write succeeded', () => {
    const result = plan(targets);
    const confirmed = confirmPlan(result, outcomes(result.writes), basis);
    expect(confirmed.shadow).toHaveLength(4);
    expect(confirmed.shadow.every((entry) => entry.value === 'new' && entry.sourceModifiedAt === WRITTEN)).toBe(true);
    expect(confirmed.written).toHaveLength(3);
  });

  it('keeps the old shadow of a relation whose account write failed, and moves the others on', () => {
    const result = plan(targets);
    const confirmed = confirmPlan(result, outcomes(result.writes, [accountKey('vendor')]), basis);
    expect(confirmed.shadow.map((entry) => [entry.relationId, entry.side])).toEqual([
      ['rel-customer', 'contact'],
      ['rel-customer', 'account'],
    ]);
    expect([...confirmed.committed]).toEqual(['rel-customer']);
    expect(confirmed.failures.map((failure) => failure.target)).toEqual([accountKey('vendor')]);
  });

  it('keeps every relation’s old shadow when the contact write failed', () => {
    const result = plan(targets);
    const confirmed = confirmPlan(result, outcomes(result.writes, [contactKey]), basis);
    expect(confirmed.shadow).toEqual([]);
    expect(confirmed.committed.size).toBe(0);
    // The accounts were written all the same, and are audited.
    expect(confirmed.written.map(({ write }) => write.entity)).toEqual(['customer', 'vendor']);
  });

  it('stores the read time of a side it did not write', () => {
    const result = plan([target('customer', 'new')]);
    const confirmed = confirmPlan(result, outcomes(result.writes), { contact, linked: [target('customer', 'new')] });
    expect(confirmed.shadow).toEqual([
      { relationId: 'rel-customer', side: 'contact', field: 'phone', value: 'new', sourceModifiedAt: WRITTEN },
      { relationId: 'rel-customer', side: 'account', field: 'phone', value: 'new', sourceModifiedAt: READ },
    ]);
  });
});
