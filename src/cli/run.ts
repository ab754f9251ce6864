/**
 * The `tandem` command line as a function: parses argv, runs one command, writes to the given
 * streams and returns the exit code (see ./exit.ts), so it runs in-process in tests.
 */
import { parseArgs } from 'node:util';
import { startDaemon, type Role } from '../main/daemon';
import { createLogger } from '../util/logger';
import { ConfigError, loadConfig } from '../config/load';
import { AdminTokenError } from '../http/auth';
import { RedisUnavailableError, redisCluster, redisUrl } from '../queue/redis';
import { AdminClient, ApiError, DaemonUnreachableError, MalformedAnswerError } from './client';
import { NoMatchError, REMOTE_COMMANDS, type CommandOptions, type OutputStream } from './commands';
import { EXIT, exitCodeForStatus, UsageError } from './exit';
import { USAGE } from './usage';

/** Where the CLI reads and writes. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  /** The HTTP client (tests may pass their own). */
  fetch?: typeof fetch;
  /** Asks the person at the terminal (for --search with several matches); absent without one. */
  ask?: (question: string) => Promise<string>;
  /** Resolves when a running daemon should stop (default: SIGTERM or SIGINT). */
  stopSignal?: () => Promise<string>;
}

/** The default daemon address. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string' },
  role: { type: 'string' },
  kind: { type: 'string', multiple: true },
  contact: { type: 'string' },
  account: { type: 'string' },
  relation: { type: 'string' },
  field: { type: 'string' },
  limit: { type: 'string' },
  winner: { type: 'string' },
  template: { type: 'string' },
  value: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  apply: { type: 'boolean' },
  'min-score': { type: 'string' },
  type: { type: 'string' },
  description: { type: 'string' },
  date: { type: 'string' },
  who: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'idempotency-key': { type: 'string' },
  search: { type: 'boolean' },
} as const;

const GLOBAL_OPTIONS = ['url', 'token', 'json', 'help', 'config'];

/** Runs one `tandem` invocation and returns its exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    return report(error, io, argv.includes('--json'));
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals, tokens } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  const [first, second] = positionals;
  if (!first) {
    io.stderr.write(USAGE);
    return EXIT.usage;
  }
  const name = (first === 'config' || first === 'interaction') && second ? `${first} ${second}` : first;
  const args = positionals.slice(name.split(' ').length);
  const given = [...new Set(tokens.filter((token) => token.kind === 'option').map((token) => token.name))];

  if (name === 'config validate') return validateConfig(args, values, given, io);
  if (name === 'start') return start(args, values, given, io);

  const command = REMOTE_COMMANDS[name];
  if (!command) throw new UsageError(`unknown command '${name}'`);
  const allowed = new Set([...GLOBAL_OPTIONS, ...command.options]);
  const stray = given.find((option) => !allowed.has(option));
  if (stray) throw new UsageError(`${name} does not take --${stray}\nusage: tandem ${command.synopsis}`);
  if (args.length !== command.positionals) {
    throw new UsageError(
      `${name} takes ${command.positionals === 0 ? 'no' : command.positionals} argument${command.positionals === 1 ? '' : 's'}, got ${args.length}\nusage: tandem ${command.synopsis}`,
    );
  }
  const options: CommandOptions = {
    json: values.json ?? false,
    kind: values.kind ?? [],
    contact: values.contact,
    account: values.account,
    relation: values.relation,
    field: values.field,
    limit: values.limit,
    winner: values.winner,
    template: values.template,
    value: values.value ?? [],
    dryRun: values['dry-run'] ?? false,
    apply: values.apply ?? false,
    minScore: values['min-score'],
    type: values.type,
    description: values.description,
    date: values.date,
    who: values.who,
    from: values.from,
    to: values.to,
    idempotencyKey: values['idempotency-key'],
    search: values.search ?? false,
  };
  const url = values.url ?? nonEmpty(io.env.TANDEM_URL) ?? DEFAULT_URL;
  const client = new AdminClient(url, values.token ?? nonEmpty(io.env.TANDEM_TOKEN), io.fetch);
  return command.run({ client, args, options, stdout: io.stdout, stderr: io.stderr, ask: io.ask });
}

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true; tokens: true }>
>['values'];

const nonEmpty = (value: string | undefined) => (value && value.trim() !== '' ? value : undefined);
const configFileOf = (values: Values, io: CliIo) =>
  values.config ?? nonEmpty(io.env.TANDEM_CONFIG) ?? 'config/tandem.yaml';

function onlyOptions(name: string, given: string[], allowed: string[]): void {
  const stray = given.find((option) => !allowed.includes(option));
  if (stray) throw new UsageError(`${name} does not take --${stray}`);
}

function validateConfig(args: string[], values: Values, given: string[], io: CliIo): number {
  onlyOptions('config validate', given, ['config', 'json']);
  if (args.length > 0) throw new UsageError('config validate takes no arguments');
  const configFile = configFileOf(values, io);
  const config = loadConfig(configFile);
  if (values.json)
    io.stdout.write(`${JSON.stringify({ valid: true, file: configFile, config: redactConfig(config) })}\n`);
  else io.stdout.write(`${configFile} is valid\n`);
  return EXIT.ok;
}

async function start(args: string[], values: Values, given: string[], io: CliIo): Promise<number> {
  onlyOptions('start', given, ['config', 'role']);
  if (args.length > 0) throw new UsageError('start takes no arguments');
  const role = (values.role ?? 'all') as Role;
  if (!['all', 'api', 'worker', 'scheduler'].includes(role))
    throw new UsageError(`--role must be all, api, worker or scheduler, not '${role}'`);
  const configFile = configFileOf(values, io);
  const config = loadConfig(configFile);
  const logger = createLogger();
  const daemon = await startDaemon({
    config,
    configFile,
    logger,
    role,
    redisUrl: redisUrl(io.env),
    redisCluster: redisCluster(io.env),
    databaseUrl: nonEmpty(io.env.DATABASE_URL),
    dataDir: nonEmpty(io.env.TANDEM_DATA_DIR),
    env: io.env,
  });
  const signal = await (io.stopSignal ?? processSignal)();
  logger.info({ signal }, 'signal received');
  try {
    await daemon.stop();
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    return EXIT.failure;
  }
  return EXIT.ok;
}

function processSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/** The config without credentials, for printing. */
function redactConfig(config: ReturnType<typeof loadConfig>): unknown {
  return JSON.parse(JSON.stringify(config, (key, value: unknown) => (key === 'credentials' ? '[redacted]' : value)));
}

/** Prints an error the way a user can act on it and picks the exit code. */
function report(error: unknown, io: CliIo, json: boolean): number {
  if (error instanceof ApiError) {
    const { problem } = error;
    if (json) io.stdout.write(`${JSON.stringify({ status: error.status, ...problem }, null, 2)}\n`);
    const detail = problem.field
      ? `${problem.field}: ${problem.reason ?? problem.message ?? ''}`
      : (problem.message ?? problem.error);
    const hint =
      error.status === 401
        ? ' (pass an admin or viewer token with --token or TANDEM_TOKEN)'
        : error.status === 403
          ? ' (this needs an admin token)'
          : problem.requestId
            ? ` (request ${problem.requestId}; see the daemon log)`
            : '';
    io.stderr.write(`tandem: ${problem.error}: ${detail}${hint}\n`);
    return exitCodeForStatus(error.status);
  }
  if (error instanceof DaemonUnreachableError || error instanceof RedisUnavailableError) {
    io.stderr.write(`tandem: ${error.message}\n`);
    return EXIT.unreachable;
  }
  if (error instanceof MalformedAnswerError) {
    io.stderr.write(`tandem: ${error.message}\n`);
    return EXIT.failure;
  }
  if (error instanceof NoMatchError) {
    io.stderr.write(`tandem: ${error.message}\n`);
    return EXIT.notFound;
  }
  if (error instanceof UsageError) {
    io.stderr.write(`tandem: ${error.message}\n\nrun 'tandem --help' for every command and option\n`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError || error instanceof AdminTokenError) {
    io.stderr.write(`tandem: ${error.message}\n`);
    return EXIT.usage;
  }
  io.stderr.write(`tandem: ${(error as Error).stack ?? String(error)}\n`);
  return EXIT.failure;
}
