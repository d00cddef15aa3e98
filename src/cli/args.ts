// Shared plumbing of the client-side commands (topic, produce, consume, group, config, dump-log): one flag
// table per command drives both parsing (node:util parseArgs) and the `--help` text, so the two cannot drift,
// and one function turns any failure into a message that says what failed and what to do.
import { parseArgs } from 'node:util';
import { Admin } from '../client/admin/admin.js';
import { ClientError, KafkaError } from '../client/errors.js';

export interface FlagSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** Placeholder shown in help, e.g. N or key=value. */
  arg?: string;
  description: string;
  default?: string;
}

export interface CommandSpec {
  /** e.g. 'topic create' */
  name: string;
  usage: string;
  summary: string;
  flags: FlagSpec[];
  /** Extra help text after the flags. */
  notes?: string;
}

export const BROKERS_FLAG: FlagSpec = {
  name: 'brokers',
  short: 'b',
  type: 'string',
  arg: 'host:port,...',
  description: 'bootstrap brokers',
  default: '127.0.0.1:9092',
};
export const JSON_FLAG: FlagSpec = {
  name: 'json',
  type: 'boolean',
  description: 'machine-readable JSON output',
};
const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'boolean', description: 'show this help' };

/** A mistake in how the command was called: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** A failure with a message already written for the user: exit code 1. */
export class CliError extends Error {}

export function helpText(spec: CommandSpec): string {
  const flags = [...spec.flags, HELP_FLAG];
  const left = flags.map((f) => {
    const names = `${f.short ? `-${f.short}, ` : '    '}--${f.name}`;
    return f.type === 'string' ? `${names} ${f.arg ?? 'VALUE'}` : names;
  });
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = flags.map((f, i) => {
    const extra = [f.multiple ? 'repeatable' : '', f.default !== undefined ? `default ${f.default}` : '']
      .filter(Boolean)
      .join('; ');
    return `  ${left[i]!.padEnd(width)}${f.description}${extra ? ` (${extra})` : ''}`;
  });
  return [
    `Usage: fjord ${spec.usage}`,
    '',
    spec.summary,
    '',
    'Options:',
    ...lines,
    ...(spec.notes ? ['', spec.notes] : []),
  ].join('\n');
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

export function parse(spec: CommandSpec, args: string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const f of [...spec.flags, HELP_FLAG]) {
    options[f.name] = { type: f.type, ...(f.short ? { short: f.short } : {}), multiple: f.multiple ?? false };
  }
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    const out = values as Parsed['values'];
    for (const f of spec.flags)
      if (out[f.name] === undefined && f.default !== undefined) out[f.name] = f.default;
    return { values: out, positionals, help: out.help === true };
  } catch (error) {
    // parseArgs messages are clear ("Unknown option '--x'") but mention a strict mode the user never chose.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

export const str = (p: Parsed, name: string): string | undefined => {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
};
export const list = (p: Parsed, name: string): string[] => {
  const v = p.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
};
export const flag = (p: Parsed, name: string): boolean => p.values[name] === true;

export function intArg(p: Parsed, name: string, min = 0): number | undefined {
  const raw = str(p, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || raw.trim() === '')
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

/** `key=value` pairs (configs, headers); the value may itself contain '='. */
export function keyValues(items: string[], what: string): [string, string][] {
  return items.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} must look like key=value, got '${item}'`);
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

/** Client options for a CLI run: give up quickly so a typo in --brokers fails in seconds, not minutes. */
export function clientOptions(brokers: string): {
  brokers: string;
  clientId: string;
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  logger: { warn(message: string): void };
} {
  return {
    brokers,
    clientId: 'fjord-cli',
    retries: 2,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 300,
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 30_000,
    logger: { warn: (message) => console.error(`warning: ${message}`) },
  };
}

function describeConnectionFailure(error: Error, brokers: string): string {
  const chain: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause)
    chain.push((e as NodeJS.ErrnoException).code ?? '', e.message);
  const text = chain.join(' ');
  const reason = /ECONNREFUSED/.test(text)
    ? 'connection refused'
    : /ENOTFOUND|EAI_AGAIN/.test(text)
      ? 'host not found'
      : /ETIMEDOUT|timed out|timeout/i.test(text)
        ? 'connection timed out'
        : error.message;
  return `cannot reach ${brokers}: ${reason} — is a broker running? start one with \`fjord start\`, or point --brokers at one`;
}

/** Turns an error into one line for stderr: what failed and, where we know, what to do about it. */
export function explain(error: unknown, brokers: string | undefined): string {
  if (error instanceof AggregateError) return error.errors.map((e) => explain(e, brokers)).join('\n');
  if (error instanceof ClientError) {
    if (brokers !== undefined && error.code === 'CONNECTION_ERROR')
      return describeConnectionFailure(error, brokers);
    return error.message;
  }
  if (error instanceof KafkaError) {
    const hints: Record<string, string> = {
      UNKNOWN_TOPIC_OR_PARTITION: 'check the name with `fjord topic list`',
      TOPIC_ALREADY_EXISTS: 'pick another name, or delete it first with `fjord topic delete`',
      INVALID_CONFIG: "check the config name and value against Kafka's topic configs",
      GROUP_ID_NOT_FOUND: 'check the name with `fjord group list`',
      NON_EMPTY_GROUP: "stop the group's consumers first",
      GROUP_NOT_EMPTY: "stop the group's consumers first",
      INVALID_PARTITIONS: 'the partition count must be at least 1',
      INVALID_REPLICATION_FACTOR: 'the replication factor cannot exceed the number of brokers',
    };
    const hint = hints[error.name];
    return hint ? `${error.message.replace(/\.$/, '')}; ${hint}` : error.message;
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (brokers !== undefined && code && /ECONNREFUSED|ENOTFOUND|ETIMEDOUT/.test(code))
      return describeConnectionFailure(error, brokers);
    return error.message;
  }
  return String(error);
}

/**
 * Runs one command: parses flags, prints help on --help, and maps failures to exit codes (0 ok, 1 failure,
 * 2 bad usage), always naming the command in the message.
 */
export async function runCommand(
  spec: CommandSpec,
  args: string[],
  body: (parsed: Parsed) => Promise<number | void>,
): Promise<number> {
  let parsed: Parsed | undefined;
  try {
    parsed = parse(spec, args);
    if (parsed.help) {
      console.log(helpText(spec));
      return 0;
    }
    return (await body(parsed)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`fjord ${spec.name}: ${error.message}\n\n${helpText(spec)}`);
      return 2;
    }
    const brokers = parsed ? str(parsed, 'brokers') : undefined;
    console.error(`fjord ${spec.name}: ${explain(error, brokers)}`);
    return 1;
  }
}

/** Dispatches `fjord NOUN VERB ...` to the verb's runner, with a listing of verbs for help or a typo. */
export async function runVerbs(
  noun: string,
  summary: string,
  verbs: Record<string, { spec: CommandSpec; run: (args: string[]) => Promise<number> }>,
  args: string[],
): Promise<number> {
  const [verb, ...rest] = args;
  const listing = [
    `Usage: fjord ${noun} <${Object.keys(verbs).join('|')}> [options]`,
    '',
    summary,
    '',
    ...Object.values(verbs).map((v) => `  ${v.spec.usage.padEnd(44)} ${v.spec.summary}`),
    '',
    `Run 'fjord ${noun} <command> --help' for its options.`,
  ].join('\n');
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    (verb === undefined ? console.error : console.log)(listing);
    return verb === undefined ? 2 : 0;
  }
  const entry = verbs[verb];
  if (!entry) {
    console.error(`fjord ${noun}: unknown command '${verb}'\n\n${listing}`);
    return 2;
  }
  return entry.run(rest);
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
}

/** A plain text table: columns padded to the widest cell. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Runs `body` with an Admin client for the command's --brokers, closing it afterwards. */
export async function withAdmin<T>(parsed: Parsed, body: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin(clientOptions(str(parsed, 'brokers')!));
  try {
    return await body(admin);
  } finally {
    await admin.close();
  }
}
