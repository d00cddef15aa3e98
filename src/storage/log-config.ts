// Topic-level log configuration, with Kafka's property names and defaults, and the broker-level defaults
// (`log.`-prefixed properties in server.properties) they fall back to.
//
// Resolution order for one topic: topic override (CreateTopics / AlterConfigs) > broker property > Kafka's
// built-in default. Broker time properties have Kafka's precedence: `log.retention.ms` beats
// `log.retention.minutes` beats `log.retention.hours`, and likewise `log.roll.ms` beats `log.roll.hours`.
//
// Kafka's Long.MAX_VALUE defaults (flush.messages, flush.ms, max.compaction.lag.ms, ...) are represented by
// LONG_MAX = Number.MAX_SAFE_INTEGER; any larger input is clamped to it, so "9223372036854775807" round-trips
// to "meaning: never".

export const LONG_MAX = Number.MAX_SAFE_INTEGER;
const INT_MAX = 2147483647;

export type CleanupPolicy = { readonly delete: boolean; readonly compact: boolean };
export type TimestampType = 'CreateTime' | 'LogAppendTime';
export type CompressionConfig = 'producer' | 'uncompressed' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface LogConfig {
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly segmentJitterMs: number;
  readonly segmentIndexBytes: number;
  readonly indexIntervalBytes: number;
  readonly retentionMs: number;
  readonly retentionBytes: number;
  readonly cleanupPolicy: CleanupPolicy;
  readonly deleteRetentionMs: number;
  readonly minCleanableDirtyRatio: number;
  readonly minCompactionLagMs: number;
  readonly maxCompactionLagMs: number;
  readonly flushMessages: number;
  readonly flushMs: number;
  readonly messageTimestampType: TimestampType;
  readonly messageTimestampBeforeMaxMs: number;
  readonly messageTimestampAfterMaxMs: number;
  readonly maxMessageBytes: number;
  readonly fileDeleteDelayMs: number;
  readonly preallocate: boolean;
  readonly compressionType: CompressionConfig;
  readonly minInsyncReplicas: number;
  readonly uncleanLeaderElectionEnable: boolean;
}

/** A rejected configuration value; the message names the key and the allowed values. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

type Kind =
  | { type: 'int' | 'long'; min: number; max: number }
  | { type: 'double'; min: number; max: number }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'list'; values: readonly string[] };

interface ConfigDef {
  /** Topic-level name. */
  readonly name: string;
  readonly field: keyof LogConfig;
  /** Broker-level property supplying the default, if any. */
  readonly broker?: string;
  readonly kind: Kind;
  readonly defaultValue: string;
}

const int = (min: number, max = INT_MAX): Kind => ({ type: 'int', min, max });
const long = (min: number, max = LONG_MAX): Kind => ({ type: 'long', min, max });

const DEFS: readonly ConfigDef[] = [
  {
    name: 'segment.bytes',
    field: 'segmentBytes',
    broker: 'log.segment.bytes',
    kind: int(14),
    defaultValue: '1073741824',
  },
  { name: 'segment.ms', field: 'segmentMs', broker: 'log.roll.ms', kind: long(1), defaultValue: '604800000' },
  {
    name: 'segment.jitter.ms',
    field: 'segmentJitterMs',
    broker: 'log.roll.jitter.ms',
    kind: long(0),
    defaultValue: '0',
  },
  {
    name: 'segment.index.bytes',
    field: 'segmentIndexBytes',
    broker: 'log.index.size.max.bytes',
    kind: int(4),
    defaultValue: '10485760',
  },
  {
    name: 'index.interval.bytes',
    field: 'indexIntervalBytes',
    broker: 'log.index.interval.bytes',
    kind: int(0),
    defaultValue: '4096',
  },
  {
    name: 'retention.ms',
    field: 'retentionMs',
    broker: 'log.retention.ms',
    kind: long(-1),
    defaultValue: '604800000',
  },
  {
    name: 'retention.bytes',
    field: 'retentionBytes',
    broker: 'log.retention.bytes',
    kind: { type: 'long', min: -Infinity, max: LONG_MAX },
    defaultValue: '-1',
  },
  {
    name: 'cleanup.policy',
    field: 'cleanupPolicy',
    broker: 'log.cleanup.policy',
    kind: { type: 'list', values: ['delete', 'compact'] },
    defaultValue: 'delete',
  },
  {
    name: 'delete.retention.ms',
    field: 'deleteRetentionMs',
    broker: 'log.cleaner.delete.retention.ms',
    kind: long(0),
    defaultValue: '86400000',
  },
  {
    name: 'min.cleanable.dirty.ratio',
    field: 'minCleanableDirtyRatio',
    broker: 'log.cleaner.min.cleanable.ratio',
    kind: { type: 'double', min: 0, max: 1 },
    defaultValue: '0.5',
  },
  {
    name: 'min.compaction.lag.ms',
    field: 'minCompactionLagMs',
    broker: 'log.cleaner.min.compaction.lag.ms',
    kind: long(0),
    defaultValue: '0',
  },
  {
    name: 'max.compaction.lag.ms',
    field: 'maxCompactionLagMs',
    broker: 'log.cleaner.max.compaction.lag.ms',
    kind: long(1),
    defaultValue: String(LONG_MAX),
  },
  {
    name: 'flush.messages',
    field: 'flushMessages',
    broker: 'log.flush.interval.messages',
    kind: long(1),
    defaultValue: String(LONG_MAX),
  },
  {
    name: 'flush.ms',
    field: 'flushMs',
    broker: 'log.flush.interval.ms',
    kind: long(0),
    defaultValue: String(LONG_MAX),
  },
  {
    name: 'message.timestamp.type',
    field: 'messageTimestampType',
    broker: 'log.message.timestamp.type',
    kind: { type: 'enum', values: ['CreateTime', 'LogAppendTime'] },
    defaultValue: 'CreateTime',
  },
  {
    name: 'message.timestamp.before.max.ms',
    field: 'messageTimestampBeforeMaxMs',
    broker: 'log.message.timestamp.before.max.ms',
    kind: long(0),
    defaultValue: String(LONG_MAX),
  },
  {
    name: 'message.timestamp.after.max.ms',
    field: 'messageTimestampAfterMaxMs',
    broker: 'log.message.timestamp.after.max.ms',
    kind: long(0),
    defaultValue: String(LONG_MAX),
  },
  {
    name: 'max.message.bytes',
    field: 'maxMessageBytes',
    broker: 'message.max.bytes',
    kind: int(0),
    defaultValue: '1048588',
  },
  {
    name: 'file.delete.delay.ms',
    field: 'fileDeleteDelayMs',
    broker: 'log.segment.delete.delay.ms',
    kind: long(0),
    defaultValue: '60000',
  },
  {
    name: 'preallocate',
    field: 'preallocate',
    broker: 'log.preallocate',
    kind: { type: 'boolean' },
    defaultValue: 'false',
  },
  {
    name: 'compression.type',
    field: 'compressionType',
    broker: 'compression.type',
    kind: { type: 'enum', values: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] },
    defaultValue: 'producer',
  },
  {
    name: 'min.insync.replicas',
    field: 'minInsyncReplicas',
    broker: 'min.insync.replicas',
    kind: int(1),
    defaultValue: '1',
  },
  {
    name: 'unclean.leader.election.enable',
    field: 'uncleanLeaderElectionEnable',
    broker: 'unclean.leader.election.enable',
    kind: { type: 'boolean' },
    defaultValue: 'false',
  },
];

const BY_NAME = new Map(DEFS.map((def) => [def.name, def]));

/** Kafka's topic config names this module understands, in a stable order. */
export const TOPIC_CONFIG_NAMES: readonly string[] = DEFS.map((def) => def.name);

function describeRange(kind: Kind): string {
  switch (kind.type) {
    case 'int':
    case 'long': {
      const lo = kind.min === -Infinity ? '-9223372036854775808' : String(kind.min);
      const hi = kind.max === LONG_MAX ? '9223372036854775807' : String(kind.max);
      return `an integer in [${lo}, ${hi}]`;
    }
    case 'double':
      return `a number in [${kind.min}, ${kind.max}]`;
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${kind.values.join(', ')}`;
    case 'list':
      return `a comma-separated list of ${kind.values.join(', ')}`;
  }
}

function parseValue(
  def: ConfigDef,
  raw: string | number | boolean,
  source: string,
): LogConfig[keyof LogConfig] {
  const fail = (): never => {
    throw new ConfigError(
      def.name,
      `Invalid value ${JSON.stringify(String(raw))} for configuration ${source}: must be ${describeRange(def.kind)}`,
    );
  };
  const text = String(raw).trim();
  const kind = def.kind;
  switch (kind.type) {
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(text)) return fail();
      let value = Number(text);
      if (kind.type === 'long' && value > LONG_MAX) value = LONG_MAX;
      if (value < kind.min || value > kind.max) return fail();
      return value;
    }
    case 'double': {
      const value = Number(text);
      if (text === '' || !Number.isFinite(value) || value < kind.min || value > kind.max) return fail();
      return value;
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower !== 'true' && lower !== 'false') return fail();
      return lower === 'true';
    }
    case 'enum':
      if (!kind.values.includes(text)) return fail();
      return text as TimestampType;
    case 'list': {
      const items = text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      if (items.length === 0 || items.some((item) => !kind.values.includes(item))) return fail();
      return { delete: items.includes('delete'), compact: items.includes('compact') };
    }
  }
}

function build(values: Map<keyof LogConfig, LogConfig[keyof LogConfig]>): LogConfig {
  return Object.freeze(Object.fromEntries(values)) as unknown as LogConfig;
}

/** Kafka's built-in topic defaults, with no broker properties applied. */
export const DEFAULT_LOG_CONFIG: LogConfig = build(
  new Map(DEFS.map((def) => [def.field, parseValue(def, def.defaultValue, def.name)])),
);

/** Overlays validated topic-level overrides on `defaults`. Unknown names and bad values throw ConfigError. */
export function resolveLogConfig(
  overrides: Readonly<Record<string, string | number | boolean>> = {},
  defaults: LogConfig = DEFAULT_LOG_CONFIG,
): LogConfig {
  const values = new Map(Object.entries(defaults) as [keyof LogConfig, LogConfig[keyof LogConfig]][]);
  for (const [name, raw] of Object.entries(overrides)) {
    const def = BY_NAME.get(name);
    if (!def) throw new ConfigError(name, `Unknown topic configuration ${name}`);
    values.set(def.field, parseValue(def, raw, name));
  }
  return build(values);
}

/** Validates topic-level overrides without resolving them (CreateTopics validateOnly, AlterConfigs). */
export function validateTopicConfig(overrides: Readonly<Record<string, string | number | boolean>>): void {
  resolveLogConfig(overrides);
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

/**
 * Topic defaults from broker properties (server.properties). Properties that are not log settings are ignored;
 * log settings with bad values throw ConfigError naming the broker property.
 */
export function logConfigFromBrokerProps(props: Readonly<Record<string, string | undefined>>): LogConfig {
  const values = new Map(
    Object.entries(DEFAULT_LOG_CONFIG) as [keyof LogConfig, LogConfig[keyof LogConfig]][],
  );
  const timeWithUnits = (ms: string, minutes: string | null, hours: string): number | undefined => {
    const parseUnit = (key: string, unit: number): number | undefined => {
      const raw = props[key];
      if (raw === undefined) return undefined;
      const text = raw.trim();
      const value = Number(text);
      if (!/^-?\d+$/.test(text) || value < -1) {
        throw new ConfigError(
          key,
          `Invalid value ${JSON.stringify(raw)} for configuration ${key}: must be an integer in [-1, 9223372036854775807]`,
        );
      }
      return value === -1 ? -1 : Math.min(value * unit, LONG_MAX);
    };
    return (
      parseUnit(ms, 1) ??
      (minutes === null ? undefined : parseUnit(minutes, MINUTE)) ??
      parseUnit(hours, HOUR)
    );
  };
  for (const def of DEFS) {
    if (def.broker === undefined) continue;
    const raw = props[def.broker];
    if (raw !== undefined) values.set(def.field, parseValue(def, raw, def.broker));
  }
  const retention = timeWithUnits('log.retention.ms', 'log.retention.minutes', 'log.retention.hours');
  if (retention !== undefined) {
    values.set('retentionMs', parseValue(BY_NAME.get('retention.ms')!, retention, 'log.retention.ms'));
  }
  const roll = timeWithUnits('log.roll.ms', null, 'log.roll.hours');
  if (roll !== undefined)
    values.set('segmentMs', parseValue(BY_NAME.get('segment.ms')!, roll, 'log.roll.ms'));
  const jitter = timeWithUnits('log.roll.jitter.ms', null, 'log.roll.jitter.hours');
  if (jitter !== undefined) {
    values.set(
      'segmentJitterMs',
      parseValue(BY_NAME.get('segment.jitter.ms')!, jitter, 'log.roll.jitter.ms'),
    );
  }
  // Kafka: log.flush.interval.ms unset means log.flush.scheduler.interval.ms (Long.MAX by default).
  if (
    props['log.flush.interval.ms'] === undefined &&
    props['log.flush.scheduler.interval.ms'] !== undefined
  ) {
    values.set(
      'flushMs',
      parseValue(
        BY_NAME.get('flush.ms')!,
        props['log.flush.scheduler.interval.ms'],
        'log.flush.scheduler.interval.ms',
      ),
    );
  }
  return build(values);
}

/** The config as Kafka-named string properties (DescribeConfigs, dump tools). */
export function logConfigToProps(config: LogConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const def of DEFS) {
    const value = config[def.field];
    if (def.kind.type === 'list') {
      const policy = value as CleanupPolicy;
      out[def.name] = [policy.delete ? 'delete' : '', policy.compact ? 'compact' : '']
        .filter(Boolean)
        .join(',');
    } else if (value === LONG_MAX) {
      out[def.name] = '9223372036854775807';
    } else {
      out[def.name] = String(value);
    }
  }
  return out;
}
