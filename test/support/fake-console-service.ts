/**
 * An in-memory ConsoleService for tests of the console API and pages: a few relations in each
 * state, conflicts, config versions, and every call recorded.
 */
import type { AccountKind, BusinessRelation } from '../../src/core/model';
import type {
  ConfigProblem,
  ConfigVersion,
  ConflictRow,
  ConsoleService,
  Overview,
  RelationRow,
} from '../../src/app/ports/console';
import { NotFoundProblem } from '../../src/app/ports/problems';
import type { AuditEntry, AuditQuery } from '../../src/app/ports/store';

const NOW = '2024-05-01T10:00:00.000Z';

/** A recorded call. */
export interface ConsoleCall {
  method: keyof ConsoleService;
  args: unknown[];
}

const FILE_YAML =
  'relationCodes:\n  customer: CUST\n  vendor: null\n  bankAccount: null\nmappings:\n  customer:\n    - contact: phone\n      account: phone\n      direction: both\n';

/** The fake; rows, conflicts and audit entries are plain arrays a test may change. */
export class FakeConsoleService implements ConsoleService {
  readonly calls: ConsoleCall[] = [];
  readonly rows: RelationRow[];
  readonly conflicts: ConflictRow[];
  readonly auditLog: AuditEntry[];
  readonly versions: ConfigVersion[] = [];
  readonly rejected: Array<{ contactId: string; accountKind: AccountKind; accountId: string }> = [];
  private nextJob = 1;

  constructor() {
    const relation = (
      id: string,
      contactId: string,
      accountKind: AccountKind,
      accountId: string,
    ): BusinessRelation => ({
      id,
      contactId,
      accountKind,
      accountId,
      relationCode: accountKind === 'customer' ? 'CUST' : 'VEND',
      origin: 'linked',
      createdAt: NOW,
    });
    this.rows = [
      {
        relation: relation('R1', 'C1', 'customer', 'K1'),
        contactName: 'Cronus Cardoxy',
        accountName: 'Cronus Cardoxy',
        state: 'inSync',
        lastActivityAt: NOW,
      },
      {
        relation: relation('R2', 'C2', 'customer', 'K2'),
        contactName: 'Adatum',
        accountName: 'Adatum Corp',
        state: 'conflict',
        lastActivityAt: NOW,
      },
      {
        relation: relation('R3', 'C3', 'vendor', 'V1'),
        contactName: 'Fabrikam',
        accountName: 'Fabrikam',
        state: 'failing',
        lastActivityAt: null,
      },
    ];
    this.conflicts = [
      {
        auditId: 'A2',
        relationId: 'R2',
        contactId: 'C2',
        field: 'phone',
        winner: { system: 'accounting', value: '+44 2 222', modifiedAt: '2024-05-01T09:59:00.000Z' },
        losers: [{ system: 'crm', value: '+44 1 111', modifiedAt: '2024-05-01T09:58:00.000Z', relationId: 'R2' }],
        reason: 'accounting changed it later',
        at: NOW,
        overriddenBy: null,
      },
    ];
    this.auditLog = [
      {
        id: 'A1',
        appliedAt: NOW,
        kind: 'fieldChange',
        relationId: 'R1',
        contactId: 'C1',
        accountKind: 'customer',
        accountId: 'K1',
        field: 'phone',
        oldValue: '+44 0',
        newValue: '+44 1 111',
        direction: 'toAccounting',
        sourceSystem: 'crm',
      },
      {
        id: 'A2',
        appliedAt: NOW,
        kind: 'conflict',
        relationId: 'R2',
        contactId: 'C2',
        accountKind: 'customer',
        accountId: 'K2',
        field: 'phone',
      },
    ];
  }

  private enter(method: keyof ConsoleService, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  /** The calls of one method. */
  callsOf(method: keyof ConsoleService): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  async overview(): Promise<Overview> {
    this.enter('overview');
    const count = (state: RelationRow['state']) => this.rows.filter((row) => row.state === state).length;
    return {
      connectors: [
        {
          slot: 'crm',
          kind: 'hubspot',
          healthy: true,
          healthError: null,
          lastSuccessfulPollAt: NOW,
          webhooks: { enabled: true, subscriptionsRenewAt: null },
          rateLimit: { max: 90, perMs: 10_000, usedInWindow: 12 },
        },
        {
          slot: 'accounting',
          kind: 'business-central',
          healthy: false,
          healthError: 'token endpoint answered 401',
          lastSuccessfulPollAt: null,
          webhooks: { enabled: true, subscriptionsRenewAt: '2024-05-03T10:00:00.000Z' },
          rateLimit: null,
        },
      ],
      queues: [
        { name: 'intake', waiting: 1, active: 0, delayed: 0, failed: 0, completedLast5m: 14, failedLast5m: 0 },
        { name: 'write-accounting', waiting: 0, active: 0, delayed: 2, failed: 1, completedLast5m: 9, failedLast5m: 1 },
      ],
      relations: {
        inSync: count('inSync'),
        pending: count('pending'),
        failing: count('failing'),
        conflict: count('conflict'),
        total: this.rows.length,
      },
      drift: null,
      firstSync: null,
      latestErrors: [
        {
          at: NOW,
          reason: 'Business Central answered 400: phoneNumber too long',
          jobId: 'J9',
          queue: 'write-accounting',
          contactId: 'C3',
          relationId: 'R3',
        },
      ],
    };
  }

  async listRelationRows(filter: Parameters<ConsoleService['listRelationRows']>[0]) {
    this.enter('listRelationRows', filter);
    const text = filter.text?.toLowerCase();
    const matching = this.rows.filter(
      (row) =>
        (!filter.kind || row.relation.accountKind === filter.kind) &&
        (!filter.state || row.state === filter.state) &&
        (!text ||
          [row.contactName, row.accountName, row.relation.contactId, row.relation.accountId].some((value) =>
            value?.toLowerCase().includes(text),
          )),
    );
    const offset = filter.offset ?? 0;
    return { rows: matching.slice(offset, offset + (filter.limit ?? 50)), total: matching.length };
  }

  private requireRow(relationId: string): RelationRow {
    const row = this.rows.find((candidate) => candidate.relation.id === relationId);
    if (!row) throw new NotFoundProblem(`no relation ${relationId}`);
    return row;
  }

  async resync(relationId: string, actor: { name: string }) {
    this.enter('resync', relationId, actor);
    this.requireRow(relationId);
    return { jobId: `job-${this.nextJob++}` };
  }

  async listConflicts(filter: Parameters<ConsoleService['listConflicts']>[0]) {
    this.enter('listConflicts', filter);
    return this.conflicts.filter((conflict) => !filter.relationId || conflict.relationId === filter.relationId);
  }

  async applyLosingValue(auditId: string, input: { loserIndex?: number }, actor: { name: string }) {
    this.enter('applyLosingValue', auditId, input, actor);
    const conflict = this.conflicts.find((candidate) => candidate.auditId === auditId);
    if (!conflict) throw new NotFoundProblem(`no conflict ${auditId}`);
    conflict.overriddenBy = actor.name;
    return { writes: 2 };
  }

  async undo(auditId: string, actor: { name: string }) {
    this.enter('undo', auditId, actor);
    if (!this.auditLog.some((entry) => entry.id === auditId)) throw new NotFoundProblem(`no audit entry ${auditId}`);
    return { writes: 1 };
  }

  async auditCsv(query: AuditQuery) {
    this.enter('auditCsv', query);
    const rows = this.auditLog.filter(
      (entry) =>
        (!query.contactId || entry.contactId === query.contactId) && (!query.kind || entry.kind === query.kind),
    );
    return (
      [
        'id,appliedAt,kind,contactId,field',
        ...rows.map((entry) =>
          [entry.id, entry.appliedAt, entry.kind, entry.contactId ?? '', entry.field ?? ''].join(','),
        ),
      ].join('\n') + '\n'
    );
  }

  async rejectMatch(pair: { contactId: string; accountKind: AccountKind; accountId: string }, actor: { name: string }) {
    this.enter('rejectMatch', pair, actor);
    this.rejected.push(pair);
  }

  private current(): ConfigVersion | undefined {
    return this.versions[this.versions.length - 1];
  }

  async describeFields(kind: AccountKind) {
    this.enter('describeFields', kind);
    return {
      contact: [
        { name: 'name', label: 'Name', type: 'text' as const, writable: true, custom: false },
        {
          name: 'custom.customer_tier',
          label: 'Customer tier',
          type: 'enumeration' as const,
          writable: true,
          custom: true,
          options: [{ value: 'gold', label: 'Gold' }],
        },
      ],
      account: [{ name: 'name', label: 'Display Name', type: 'text' as const, writable: true, custom: false }],
    };
  }

  async configState() {
    this.enter('configState');
    const current = this.current();
    return {
      source: current ? ('stored' as const) : ('file' as const),
      version: current?.version ?? null,
      yaml: current?.yaml ?? FILE_YAML,
      fileDiffers: current ? current.yaml !== FILE_YAML : false,
      fileYaml: FILE_YAML,
    };
  }

  async editableConfig(yaml: string) {
    this.enter('editableConfig', yaml);
    return yaml.includes('[')
      ? null
      : { mappings: { customer: [{ contact: 'phone', account: 'phone', direction: 'both' }] } };
  }

  async validateConfig(yaml: string): Promise<ConfigProblem[]> {
    this.enter('validateConfig', yaml);
    const problems: ConfigProblem[] = [];
    for (const match of yaml.matchAll(/direction: (\S+)/g)) {
      if (!['both', 'toAccounting', 'toCrm'].includes(match[1] ?? ''))
        problems.push({
          path: 'mappings.customer.0.direction',
          message: `invalid option: expected one of "both"|"toAccounting"|"toCrm"`,
        });
    }
    return problems;
  }

  async previewConfig(yaml: string) {
    this.enter('previewConfig', yaml);
    const changed = yaml !== (this.current()?.yaml ?? FILE_YAML);
    return {
      valid: true as const,
      changedKeys: changed ? ['mappings.customer'] : [],
      writes: changed
        ? [
            {
              relationId: 'R1',
              system: 'accounting' as const,
              entity: 'customer' as const,
              recordId: 'K1',
              field: 'phone',
              from: '+44 1 222',
              to: '+44 1 111',
            },
          ]
        : [],
      summary: changed ? [{ system: 'accounting' as const, field: 'phone', records: 1 }] : [],
      relationsChecked: this.rows.length,
    };
  }

  async saveConfig(yaml: string, input: { comment?: string }, actor: { name: string }) {
    this.enter('saveConfig', yaml, input, actor);
    const version: ConfigVersion = {
      version: this.versions.length + 1,
      savedAt: NOW,
      savedBy: actor.name,
      comment: input.comment ?? null,
      yaml,
    };
    this.versions.push(version);
    return version;
  }

  async listConfigVersions() {
    this.enter('listConfigVersions');
    return [...this.versions].reverse();
  }

  async restoreConfigVersion(version: number, actor: { name: string }) {
    this.enter('restoreConfigVersion', version, actor);
    const earlier = this.versions.find((candidate) => candidate.version === version);
    if (!earlier) throw new NotFoundProblem(`no config version ${version}`);
    return this.saveConfig(earlier.yaml, { comment: `restored version ${version}` }, actor);
  }

  async history(relationId: string, limit?: number) {
    this.enter('history', relationId, limit);
    this.requireRow(relationId);
    return this.auditLog.filter((entry) => entry.relationId === relationId).slice(0, limit ?? 100);
  }
}
