// Broker configuration with Kafka's property names (server.properties plus --override key=value).
//
// Log settings (`log.*`, message.max.bytes, min.insync.replicas, ...) are topic defaults owned by
// src/storage/log-config.ts; this module validates the rest and hands the log ones over. Unknown keys produce a
// warning (a Kafka user's server.properties mostly just works); bad values throw ConfigError naming the key.
import { availableParallelism } from 'node:os';
import { ConfigError, logConfigFromBrokerProps, type LogConfig } from '../storage/log-config.js';

export { ConfigError };

export type FetchTransfer = 'sendfile' | 'mmap' | 'read';

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export interface BrokerConfig {
  nodeId: number;
  listeners: Listener[];
  advertisedListeners: Listener[];
  logDirs: string[];
  numPartitions: number;
  defaultReplicationFactor: number;
  autoCreateTopicsEnable: boolean;
  deleteTopicEnable: boolean;
  socketRequestMaxBytes: number;
  queuedMaxRequests: number;
  /** -1: no byte bound (Kafka's default); Fjord's default bounds it (README, differences from Kafka). */
  queuedMaxRequestBytes: number;
  numIoThreads: number;
  zookeeperConnect: string | null;
  zookeeperSessionTimeoutMs: number;
  offsetsTopicNumPartitions: number;
  offsetsTopicReplicationFactor: number;
  offsetsRetentionMinutes: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  transactionStateLogNumPartitions: number;
  replicaLagTimeMaxMs: number;
  /** Idle producers' deduplication state is dropped after this long (read by the partition workers). */
  producerIdExpirationMs: number;
  producerIdExpirationCheckIntervalMs: number;
  fetchTransfer: FetchTransfer;
  /** Topic defaults derived from the log.* properties. */
  log: LogConfig;
  /** Every property as given (for DescribeConfigs sources). */
  raw: ReadonlyMap<string, string>;
}

type Parser<T> = { describe: string; parse(text: string): T | undefined };

const INT_MAX = 2147483647;
const int = (min: number, max = INT_MAX): Parser<number> => ({
  describe: `an integer in [${min}, ${max}]`,
  parse: (text) => {
    if (!/^-?\d+$/.test(text)) return undefined;
    const value = Number(text);
    return value >= min && value <= max ? value : undefined;
  },
});
const bool: Parser<boolean> = {
  describe: 'true or false',
  parse: (text) => (/^(true|false)$/i.test(text) ? text.toLowerCase() === 'true' : undefined),
};
const str: Parser<string> = { describe: 'a string', parse: (text) => text };
const oneOf = <T extends string>(...values: T[]): Parser<T> => ({
  describe: `one of ${values.join(', ')}`,
  parse: (text) => values.find((v) => v === text),
});
const listeners: Parser<Listener[]> = {
  describe: 'a comma-separated list of NAME://host:port',
  parse: (text) => {
    const parsed = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((entry) => /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(entry));
    if (parsed.length === 0 || parsed.some((m) => !m || Number(m[3]) > 65535)) return undefined;
    return parsed.map((m) => ({
      name: m![1]!.toUpperCase(),
      host: m![2]!.replace(/^\[|\]$/g, ''),
      port: Number(m![3]),
    }));
  },
};
const dirs: Parser<string[]> = {
  describe: 'a comma-separated list of directories',
  parse: (text) => {
    const list = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return list.length > 0 ? list : undefined;
  },
};

interface Def<T> {
  parser: Parser<T>;
  defaultValue: string;
}
const def = <T>(parser: Parser<T>, defaultValue: string): Def<T> => ({ parser, defaultValue });

/** Broker properties Fjord reads, with Kafka's defaults (Fjord's where they differ: see README). */
const BROKER_DEFS = {
  'node.id': def(int(0), '0'),
  listeners: def(listeners, 'PLAINTEXT://127.0.0.1:9092'),
  'advertised.listeners': def(listeners, ''),
  'log.dirs': def(dirs, './data'),
  'num.partitions': def(int(1), '1'),
  'default.replication.factor': def(int(1, 32767), '1'),
  'auto.create.topics.enable': def(bool, 'true'),
  'delete.topic.enable': def(bool, 'true'),
  'socket.request.max.bytes': def(int(1), '104857600'),
  'queued.max.requests': def(int(1), '500'),
  'queued.max.request.bytes': def(int(-1), String(256 << 20)),
  // Partition workers: one core is left to the main (network) thread. On this 2-core machine one worker
  // beat two on throughput and latency alike (BENCHMARKS.md, sweeps). Kafka's default is a fixed 8.
  'num.io.threads': def(int(1, 256), String(Math.max(1, availableParallelism() - 1))),
  'zookeeper.connect': def(str, ''),
  'zookeeper.session.timeout.ms': def(int(1), '18000'),
  'offsets.topic.num.partitions': def(int(1), '50'),
  'offsets.topic.replication.factor': def(int(1, 32767), '3'),
  'offsets.retention.minutes': def(int(1), '10080'),
  'offsets.retention.check.interval.ms': def(int(1), '600000'),
  'offset.metadata.max.bytes': def(int(0), '4096'),
  'group.initial.rebalance.delay.ms': def(int(0), '3000'),
  'group.min.session.timeout.ms': def(int(0), '6000'),
  'group.max.session.timeout.ms': def(int(0), '1800000'),
  'group.max.size': def(int(1), String(INT_MAX)),
  'transaction.state.log.num.partitions': def(int(1), '50'),
  'replica.lag.time.max.ms': def(int(0), '30000'),
  'producer.id.expiration.ms': def(int(1), '86400000'),
  'producer.id.expiration.check.interval.ms': def(int(1), '600000'),
  // sendfile cost the broker the least CPU per GB of the three (src/server/file-transfer.ts, BENCHMARKS.md).
  'fjord.fetch.transfer': def(oneOf<FetchTransfer>('sendfile', 'mmap', 'read'), 'sendfile'),
} as const;

/** Properties Kafka users commonly set that Fjord accepts and ignores (no warning). */
const ACCEPTED_AND_IGNORED = new Set([
  'num.network.threads',
  'num.recovery.threads.per.data.dir',
  'socket.send.buffer.bytes',
  'socket.receive.buffer.bytes',
  'listener.security.protocol.map',
  'inter.broker.listener.name',
  'zookeeper.connection.timeout.ms',
  'transaction.state.log.replication.factor',
  'transaction.state.log.min.isr',
  'log.retention.check.interval.ms',
  'log.cleaner.enable',
  'log.cleaner.threads',
  'group.coordinator.rebalance.protocols',
]);

/** Log (topic default) properties that are not `log.`-prefixed. */
const LOG_PROPERTIES = new Set([
  'message.max.bytes',
  'compression.type',
  'min.insync.replicas',
  'unclean.leader.election.enable',
]);

export interface ConfigWarnings {
  warn(message: string): void;
}

/**
 * Builds the broker config from properties (server.properties contents, then overrides applied on top).
 * `broker.id` is an alias of `node.id`, and `log.dir` of `log.dirs`, as in Kafka.
 */
export function resolveBrokerConfig(
  props: ReadonlyMap<string, string> | Record<string, string>,
  warnings: ConfigWarnings = { warn: () => {} },
): BrokerConfig {
  const raw = new Map(props instanceof Map ? props : Object.entries(props));
  if (raw.has('broker.id') && !raw.has('node.id')) raw.set('node.id', raw.get('broker.id')!);
  if (raw.has('log.dir') && !raw.has('log.dirs')) raw.set('log.dirs', raw.get('log.dir')!);

  for (const key of raw.keys()) {
    const known =
      key in BROKER_DEFS ||
      key === 'broker.id' ||
      key === 'log.dir' ||
      key.startsWith('log.') ||
      LOG_PROPERTIES.has(key) ||
      ACCEPTED_AND_IGNORED.has(key);
    if (!known) warnings.warn(`unknown configuration '${key}' is ignored`);
  }

  const value = <K extends keyof typeof BROKER_DEFS>(key: K) => {
    const { parser, defaultValue } = BROKER_DEFS[key] as Def<unknown>;
    const text = (raw.get(key) ?? defaultValue).trim();
    if (text === '' && !raw.has(key)) return undefined;
    const parsed = parser.parse(text);
    if (parsed === undefined) {
      throw new ConfigError(
        key,
        `Invalid value ${JSON.stringify(text)} for configuration ${key}: must be ${parser.describe}`,
      );
    }
    return parsed as ReturnType<(typeof BROKER_DEFS)[K]['parser']['parse']> & {};
  };

  const listenerList = value('listeners')!;
  const config: BrokerConfig = {
    nodeId: value('node.id')!,
    listeners: listenerList,
    advertisedListeners: value('advertised.listeners') ?? listenerList,
    logDirs: value('log.dirs')!,
    numPartitions: value('num.partitions')!,
    defaultReplicationFactor: value('default.replication.factor')!,
    autoCreateTopicsEnable: value('auto.create.topics.enable')!,
    deleteTopicEnable: value('delete.topic.enable')!,
    socketRequestMaxBytes: value('socket.request.max.bytes')!,
    queuedMaxRequests: value('queued.max.requests')!,
    queuedMaxRequestBytes: value('queued.max.request.bytes')!,
    numIoThreads: value('num.io.threads')!,
    zookeeperConnect: value('zookeeper.connect') || null,
    zookeeperSessionTimeoutMs: value('zookeeper.session.timeout.ms')!,
    offsetsTopicNumPartitions: value('offsets.topic.num.partitions')!,
    offsetsTopicReplicationFactor: value('offsets.topic.replication.factor')!,
    offsetsRetentionMinutes: value('offsets.retention.minutes')!,
    offsetsRetentionCheckIntervalMs: value('offsets.retention.check.interval.ms')!,
    offsetMetadataMaxBytes: value('offset.metadata.max.bytes')!,
    groupInitialRebalanceDelayMs: value('group.initial.rebalance.delay.ms')!,
    groupMinSessionTimeoutMs: value('group.min.session.timeout.ms')!,
    groupMaxSessionTimeoutMs: value('group.max.session.timeout.ms')!,
    groupMaxSize: value('group.max.size')!,
    transactionStateLogNumPartitions: value('transaction.state.log.num.partitions')!,
    replicaLagTimeMaxMs: value('replica.lag.time.max.ms')!,
    producerIdExpirationMs: value('producer.id.expiration.ms')!,
    producerIdExpirationCheckIntervalMs: value('producer.id.expiration.check.interval.ms')!,
    fetchTransfer: value('fjord.fetch.transfer')!,
    log: logConfigFromBrokerProps(Object.fromEntries(raw)),
    raw,
  };
  if (config.groupMinSessionTimeoutMs > config.groupMaxSessionTimeoutMs) {
    throw new ConfigError(
      'group.min.session.timeout.ms',
      `group.min.session.timeout.ms (${config.groupMinSessionTimeoutMs}) must not exceed group.max.session.timeout.ms (${config.groupMaxSessionTimeoutMs})`,
    );
  }
  return config;
}

/** Parses `--override key=value` style pairs. */
export function parseOverride(pair: string): [string, string] {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new ConfigError(pair, `--override expects key=value, got ${JSON.stringify(pair)}`);
  return [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
}
