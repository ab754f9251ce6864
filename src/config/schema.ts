/**
 * The shape of config/tandem.yaml, parsed with zod. Everything the daemon reads from the file is
 * described here once; the loader (./load.ts) resolves environment references before parsing.
 */
import { z } from 'zod';
import { CONNECTORS } from '../../connectors';
import { DEFAULT_BUDGET_SHARE } from '../../connectors/kit/budget';
import type { ConnectorKind } from '../../connectors/kit/define';
import {
  ACCOUNT_FIELDS,
  CUSTOM_FIELD,
  customFieldName,
  type Entity,
  ACCOUNT_KINDS,
  BANK_ACCOUNT_FIELDS,
  COMMON_FIELDS,
  CONTACT_FIELDS,
  type AccountKind,
  DIRECTIONS,
  type FieldMapping,
} from '../core/model';
import { DEFAULT_MATCH_RULES } from '../core/match';
import { translation, TransformError, type TransformSpec } from '../core/transform';
import { filterFields, type Condition, type KindFilter } from '../core/filter';

/**
 * `${VAR}` references and `TANDEM_*` overrides arrive as text, so a number or boolean key also
 * accepts its plain text form (`9090`, `false`). Only keys the schema types as numbers or booleans
 * convert, so a numeric client id or relation code stays a string.
 */
const fromText =
  (convert: (text: string) => number | boolean | undefined) =>
  (value: unknown): unknown =>
    typeof value === 'string' ? (convert(value.trim()) ?? value) : value;
const integer = (schema: z.ZodNumber) =>
  z.preprocess(
    fromText((text) => (/^-?\d+$/.test(text) ? Number(text) : undefined)),
    schema,
  );
const boolean = z.preprocess(
  fromText((text) => (text === 'true' ? true : text === 'false' ? false : undefined)),
  z.boolean(),
);

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h)$/, 'a duration like 500ms, 30s, 5m or 1h')
  .transform(parseDuration);

/** Converts `500ms`, `30s`, `5m`, `1h` into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

const rateLimit = z
  .object({
    /** At most this many calls ... */
    max: integer(z.number().int().positive()),
    /** ... per this window. */
    per: duration,
  })
  .strict();

/**
 * The connector's request budget, shared by every process (see connectors/kit/budget.ts): the
 * share of the provider's published ceiling all of tandem's calls together may spend, and
 * optionally fewer calls in flight than the provider allows.
 */
const budget = z
  .object({
    share: z
      .number({ error: "a share of the provider's published ceiling, like 0.9" })
      .gt(0, "a share of the provider's published ceiling above 0 (0.9 is 90%)")
      .max(1, "at most 1: the provider's whole published ceiling"),
    concurrency: integer(z.number().int().min(1)).optional(),
  })
  .strict();

/** Unless the config says less: 90% of each published window, the rest left for other apps and clock drift. */
const DEFAULT_BUDGET = { share: DEFAULT_BUDGET_SHARE };

const connectorCommon = {
  baseUrl: z.url(),
  /** How often to ask for changes. */
  pollEvery: duration.default(parseDuration('30s')),
  /**
   * Write jobs that may run at once against this connector; those running together share batch
   * calls, and the provider's limits (the budget) still hold however many run.
   */
  concurrency: integer(z.number().int().min(1).max(1024)).default(1000),
  rateLimit: rateLimit.optional(),
  budget: budget.default(DEFAULT_BUDGET),
  /** Receive webhooks from this system (in addition to polling). */
  webhooks: boolean.default(true),
};

/**
 * One connector's config: its `kind`, the shared keys, then its own keys from the schema in its
 * folder (which may narrow a shared one: Tryton has no webhooks, Xero has a default baseUrl).
 */
function connectorConfigOf(kind: ConnectorKind) {
  return z
    .object({ kind: z.literal(kind.name), ...connectorCommon })
    .extend(kind.config.shape)
    .strict();
}
/** The schema connectorConfigOf builds for one registry entry, as a type. */
type ConnectorConfigSchema<Kind extends ConnectorKind> = z.ZodObject<
  Omit<{ kind: z.ZodLiteral<Kind['name']> } & typeof connectorCommon, keyof Kind['config']['shape']> &
    Kind['config']['shape'],
  z.core.$strict
>;
type ConnectorConfigSchemas<Kinds extends readonly ConnectorKind[]> = {
  -readonly [Index in keyof Kinds]: Kinds[Index] extends ConnectorKind ? ConnectorConfigSchema<Kinds[Index]> : never;
};

/** One configured connector; `kind` chooses it from the registry (connectors/index.ts). */
export const connectorSchema = z.discriminatedUnion(
  'kind',
  // zod cannot compute a generic extend(), nor map() a tuple: the type names what map() builds.
  CONNECTORS.map(connectorConfigOf) as unknown as ConnectorConfigSchemas<typeof CONNECTORS>,
);
export type ConnectorConfig = z.infer<typeof connectorSchema>;

/** A mapped field: a canonical one, or a provider's own as `custom.<name>`. */
function mappedField(canonical: readonly string[]) {
  const known = new Set(canonical);
  return z.string().refine((field) => known.has(field) || CUSTOM_FIELD.test(field), {
    error: (issue) =>
      `'${String(issue.input)}' is neither a field tandem knows (${canonical.join(', ')}) nor a provider's field written as custom.<name>`,
  });
}

const countrySide = z.enum(['name', 'code']);
/** A transform by name (`transform: upper`) or with its options (`transform: { name: phone-e164, region: NL }`). */
const transformSpec = z.preprocess(
  (value) => (typeof value === 'string' ? { name: value } : value),
  z.discriminatedUnion('name', [
    z.object({ name: z.enum(['trim', 'upper', 'lower']) }).strict(),
    z
      .object({
        name: z.literal('country'),
        crm: countrySide.default('name'),
        accounting: countrySide.default('code'),
        language: z.string().default('en'),
      })
      .strict(),
    z
      .object({
        name: z.literal('phone-e164'),
        region: z.string({ error: 'phone-e164 needs a default region: { name: phone-e164, region: NL }' }),
      })
      .strict(),
  ]),
) satisfies z.ZodType<TransformSpec>;

/** One filter condition: a field, and exactly one of in, notIn, empty. */
function conditionOf(canonical: readonly string[]) {
  const values = z.array(z.union([z.string(), z.number()]).transform(String)).min(1);
  return z.union(
    [
      z.object({ field: mappedField(canonical), in: values }).strict(),
      z.object({ field: mappedField(canonical), notIn: values }).strict(),
      z.object({ field: mappedField(canonical), empty: z.boolean() }).strict(),
    ],
    { error: 'a condition is { field, in: [...] }, { field, notIn: [...] } or { field, empty: true|false }' },
  ) satisfies z.ZodType<Condition>;
}

/** Which records of a kind take part: conditions on the contact and on the account. */
const kindFilter = z
  .object({
    contact: z.array(conditionOf(CONTACT_FIELDS)).optional(),
    account: z.array(conditionOf(ACCOUNT_FIELDS)).optional(),
  })
  .strict() satisfies z.ZodType<KindFilter>;

const fieldMapping = z
  .object({
    contact: mappedField(CONTACT_FIELDS),
    account: mappedField(ACCOUNT_FIELDS),
    direction: z.enum(DIRECTIONS).default('both'),
    /** A built-in transform of the value on its way across (see core/transform.ts). */
    transform: transformSpec.optional(),
    /** CRM value -> accounting value. */
    values: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).optional(),
    /** What becomes of a value with no entry: keep it as it is, blank it, or hold it for review. */
    unmapped: z.enum(['keep', 'blank', 'hold']).optional(),
  })
  .strict()
  .superRefine((mapping, ctx) => {
    try {
      translation(mapping);
    } catch (error) {
      if (!(error instanceof TransformError)) throw error;
      ctx.addIssue({ code: 'custom', path: ['transform'], message: error.message });
    }
    if (mapping.unmapped !== undefined && mapping.transform === undefined && mapping.values === undefined)
      ctx.addIssue({ code: 'custom', path: ['unmapped'], message: 'unmapped needs a transform or values to apply to' });
  }) satisfies z.ZodType<FieldMapping>;

/** The default mapping: every common field to itself, both ways, as NAV does. */
export function defaultMappings(): FieldMapping[] {
  return COMMON_FIELDS.map((field) => ({ contact: field, account: field, direction: 'both' as const }));
}

const mappingList = z.array(fieldMapping).superRefine((mappings, ctx) => {
  const seenContact = new Set<string>();
  const seenAccount = new Set<string>();
  mappings.forEach((mapping, index) => {
    if (seenContact.has(mapping.contact)) {
      ctx.addIssue({
        code: 'custom',
        path: [index, 'contact'],
        message: `contact field '${mapping.contact}' is mapped twice`,
      });
    }
    if (seenAccount.has(mapping.account)) {
      ctx.addIssue({
        code: 'custom',
        path: [index, 'account'],
        message: `account field '${mapping.account}' is mapped twice`,
      });
    }
    seenContact.add(mapping.contact);
    seenAccount.add(mapping.account);
  });
});

const bankOnly = new Set<string>(BANK_ACCOUNT_FIELDS);

const relationCodes = z
  .object({
    customer: z.string().min(1).max(10).nullable().default(null),
    vendor: z.string().min(1).max(10).nullable().default(null),
    bankAccount: z.string().min(1).max(10).nullable().default(null),
  })
  .strict();

/**
 * An account template: what a contact does not carry (payment terms, posting or tax groups,
 * currency, bank details). `fields` are canonical account field defaults used where the contact
 * has no value; `extra` goes to the accounting system's create as it is; `required` names account
 * fields or extra keys that must end up non-empty (`a|b`: one of them).
 */
const accountTemplate = z
  .object({
    fields: z.partialRecord(z.enum(ACCOUNT_FIELDS as [string, ...string[]]), z.string()).default({}),
    extra: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
    required: z.array(z.string().min(1)).default([]),
    /** The start of the account number tandem chooses, so a retried create finds the first one. */
    numberPrefix: z
      .string()
      .regex(/^[A-Za-z0-9-]{0,10}$/)
      .default('T'),
  })
  .strict();
/** One account template of templates.<kind>.<name>. */
export type AccountTemplate = z.infer<typeof accountTemplate>;

const templatesOfKind = z.record(z.string().min(1), accountTemplate);

const matchRule = z
  .object({
    rule: z.enum(['vatRegistrationNo', 'email', 'emailDomain', 'namePostCode']),
    score: integer(z.number().int().min(1).max(100)),
  })
  .strict();
/** One matching rule and the score a pair gets when it matches. */
export type MatchRuleConfig = z.infer<typeof matchRule>;

/** The whole config file. */
export const configSchema = z
  .object({
    connectors: z
      .object({
        /** The CRM side: contacts and companies. */
        crm: connectorSchema,
        /** The accounting side: customers, vendors and bank accounts. */
        accounting: connectorSchema,
      })
      .strict(),
    /**
     * The business relation code per account kind. A kind is not synchronized until its code is
     * set, as in NAV's Marketing Setup.
     */
    relationCodes: relationCodes.default({ customer: null, vendor: null, bankAccount: null }),
    /** Which records of each account kind take part (see core/filter.ts); none: all of them. */
    filters: z
      .object({ customer: kindFilter.optional(), vendor: kindFilter.optional(), bankAccount: kindFilter.optional() })
      .strict()
      .default({}),
    /** Field mappings per account kind; a kind without an entry maps every common field both ways. */
    mappings: z
      .object({
        customer: mappingList.optional(),
        vendor: mappingList.optional(),
        bankAccount: mappingList.optional(),
      })
      .strict()
      .default({}),
    /** Account templates per kind and name, for creating an account from a contact. */
    templates: z
      .object({
        customer: templatesOfKind.optional(),
        vendor: templatesOfKind.optional(),
        bankAccount: templatesOfKind.optional(),
      })
      .strict()
      .default({}),
    /** Create a company contact in the CRM for every new account of these kinds. */
    automaticContacts: z
      .object({ customer: boolean.default(false), vendor: boolean.default(false), bankAccount: boolean.default(false) })
      .strict()
      .default({ customer: false, vendor: false, bankAccount: false }),
    /** How unlinked contacts and accounts are paired up for bulk linking. */
    matching: z
      .object({
        rules: z.array(matchRule).min(1).default(DEFAULT_MATCH_RULES),
        /** Pairs scoring below this are not proposed. */
        minScore: integer(z.number().int().min(1).max(100)).default(60),
      })
      .strict()
      .default({ rules: DEFAULT_MATCH_RULES, minScore: 60 }),
    /** Person contacts: which of their own fields reach the accounts of their company. */
    persons: z
      .object({ fieldsToAccount: z.array(z.enum(CONTACT_FIELDS as [string, ...string[]])).default([]) })
      .strict()
      .default({ fieldsToAccount: [] }),
    conflicts: z
      .object({
        /** Who wins when both sides changed a field at the very same time: first in the list. */
        tieBreak: z
          .tuple([z.enum(['crm', 'accounting']), z.enum(['crm', 'accounting'])])
          .refine(([first, second]) => first !== second, 'name crm and accounting once each')
          .default(['crm', 'accounting']),
      })
      .strict()
      .default({ tieBreak: ['crm', 'accounting'] }),
    /**
     * The drift sweep: how often it walks every relation (null: only when asked, with `tandem
     * drift`), and what share of each provider's request ceiling its reads may use.
     */
    drift: z
      .object({
        every: duration
          .refine((ms) => ms >= 60_000, 'at least 1m')
          .nullable()
          .default(parseDuration('6h')),
        share: z.number().gt(0).max(0.5).default(0.05),
      })
      .strict()
      .default({ every: parseDuration('6h'), share: 0.05 }),
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: integer(z.number().int().min(0).max(65535)).default(8080),
        /** The address providers use to reach tandem's webhook routes (scheme, host, port). */
        publicUrl: z.url().optional(),
        /**
         * Behind a TLS-terminating proxy: which proxies' X-Forwarded-Proto and X-Forwarded-For to
         * believe (true: any; a number: that many hops; a list: their addresses or CIDR ranges).
         * It makes the console's cookie Secure and counts failed sign-ins per real client. Never
         * set it when clients reach tandem directly: they could then claim any address.
         */
        trustProxy: z
          .union([z.boolean(), z.number().int().min(1).max(10), z.array(z.string().min(1)).min(1)])
          .default(false),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080, trustProxy: false }),
    queue: z
      .object({
        /** Prefix of every Redis key tandem's queues use. */
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9_-]+$/)
          .default('tandem'),
        /** Change events planned at once (different contacts only; one contact is never planned twice at once). */
        intakeConcurrency: integer(z.number().int().min(1).max(1024)).default(1000),
        attempts: integer(z.number().int().min(1).max(50)).default(8),
        /** First retry delay; doubled on each retry. */
        backoff: duration.default(parseDuration('1s')),
        /** How many finished jobs Redis keeps, so its memory stays flat. */
        keepCompleted: integer(z.number().int().min(0)).default(1000),
        keepFailed: integer(z.number().int().min(0)).default(5000),
        /**
         * How long a stop may take in all: requests being served and running jobs finish within
         * it, then their connections and workers are closed (a job cut short runs again).
         */
        shutdownGrace: duration.default(parseDuration('25s')),
      })
      .strict()
      .default({
        prefix: 'tandem',
        intakeConcurrency: 1000,
        attempts: 8,
        backoff: 1000,
        keepCompleted: 1000,
        keepFailed: 5000,
        shutdownGrace: 25_000,
      }),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const kind of ACCOUNT_KINDS) {
      (config.mappings[kind] ?? []).forEach((mapping, index) => {
        if (kind !== 'bankAccount' && bankOnly.has(mapping.account)) {
          ctx.addIssue({
            code: 'custom',
            path: ['mappings', kind, index, 'account'],
            message: `'${mapping.account}' exists on bank accounts only`,
          });
        }
      });
    }
  });

/** The parsed config, with defaults filled in. */
export type TandemConfig = z.infer<typeof configSchema>;

/**
 * The provider fields the mappings name as `custom.<name>` on one side: a CRM contact's over
 * every account kind, an account kind's own.
 */
export function customFieldsOf(config: TandemConfig, slot: 'crm' | 'accounting', entity: Entity): string[] {
  const kinds = slot === 'crm' ? ACCOUNT_KINDS.filter((kind) => config.relationCodes[kind] !== null) : [entity];
  const names = new Set<string>();
  for (const kind of kinds) {
    if (kind === 'contact') continue;
    const fields = [
      ...mappingsFor(config, kind).map((mapping) => (slot === 'crm' ? mapping.contact : mapping.account)),
      ...filterFields(config.filters[kind], slot === 'crm' ? 'contact' : 'account'),
    ];
    for (const field of fields) {
      const name = customFieldName(field);
      if (name !== null) names.add(name);
    }
  }
  return [...names];
}

/** The mappings in force for one account kind. */
export function mappingsFor(config: TandemConfig, kind: AccountKind): FieldMapping[] {
  return config.mappings[kind] ?? defaultMappings();
}

/**
 * The built-in template of a kind the config has none for: a bank account needs bank details a
 * contact never carries, so they must come with the request.
 */
export const BUILT_IN_TEMPLATES: Partial<Record<AccountKind, Record<string, AccountTemplate>>> = {
  bankAccount: { default: { fields: {}, extra: {}, required: ['bankAccountNo|iban'], numberPrefix: 'T' } },
};

/** The templates of a kind: the configured ones, else the built-in ones, else none. */
export function templatesFor(config: TandemConfig, kind: AccountKind): Record<string, AccountTemplate> | undefined {
  return config.templates[kind] ?? BUILT_IN_TEMPLATES[kind];
}
