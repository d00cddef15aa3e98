// What DescribeConfigs (and CreateTopics v5+) report about topic and broker configs: each config's value,
// where that value comes from, its synonyms in precedence order and its type, the way Kafka reports them.
//
// Topic configs: a topic override is DYNAMIC_TOPIC_CONFIG; otherwise the value is the broker's default for
// it, STATIC_BROKER_CONFIG when one of its broker properties is in server.properties (or --override), else
// DEFAULT_CONFIG. Synonyms list the override, then the broker properties that are set, then the built-in
// default under its broker name (Kafka names the default of retention.ms "log.retention.hours=168").
//
// Broker configs: only the properties Fjord reads. Fjord changes no broker config at runtime (there are no
// dynamic broker configs), so every broker config is reported read-only, unlike Kafka, where the log.* topic
// defaults and a few others are dynamically updatable.
import type { BrokerConfig } from '../config/broker-config.js';
import { DEFAULT_LOG_CONFIG, logConfigToProps } from '../storage/index.js';

/** DescribeConfigs configSource values. */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

/** DescribeConfigs v3+ configType values. */
export const ConfigType = {
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;

/** DescribeConfigs resourceType values. */
export const ResourceType = { UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, BROKER: 4, BROKER_LOGGER: 8 } as const;

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  source: number;
  readOnly: boolean;
  isSensitive: boolean;
  type: number;
  synonyms: ConfigSynonym[];
}

interface TopicConfigInfo {
  type: number;
  /** Broker properties that set this config's default, highest precedence first. */
  brokerNames: string[];
  /** The built-in default as Kafka names it among the synonyms (broker name and value in its units). */
  builtIn?: { name: string; value: string };
}

const { BOOLEAN, STRING, INT, LONG, DOUBLE, LIST } = ConfigType;

const TOPIC_CONFIGS: Record<string, TopicConfigInfo> = {
  'segment.bytes': { type: INT, brokerNames: ['log.segment.bytes'] },
  'segment.ms': {
    type: LONG,
    brokerNames: ['log.roll.ms', 'log.roll.hours'],
    builtIn: { name: 'log.roll.hours', value: '168' },
  },
  'segment.jitter.ms': {
    type: LONG,
    brokerNames: ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
    builtIn: { name: 'log.roll.jitter.hours', value: '0' },
  },
  'segment.index.bytes': { type: INT, brokerNames: ['log.index.size.max.bytes'] },
  'index.interval.bytes': { type: INT, brokerNames: ['log.index.interval.bytes'] },
  'retention.ms': {
    type: LONG,
    brokerNames: ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
    builtIn: { name: 'log.retention.hours', value: '168' },
  },
  'retention.bytes': { type: LONG, brokerNames: ['log.retention.bytes'] },
  'cleanup.policy': { type: LIST, brokerNames: ['log.cleanup.policy'] },
  'delete.retention.ms': { type: LONG, brokerNames: ['log.cleaner.delete.retention.ms'] },
  'min.cleanable.dirty.ratio': { type: DOUBLE, brokerNames: ['log.cleaner.min.cleanable.ratio'] },
  'min.compaction.lag.ms': { type: LONG, brokerNames: ['log.cleaner.min.compaction.lag.ms'] },
  'max.compaction.lag.ms': { type: LONG, brokerNames: ['log.cleaner.max.compaction.lag.ms'] },
  'flush.messages': { type: LONG, brokerNames: ['log.flush.interval.messages'] },
  'flush.ms': { type: LONG, brokerNames: ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'] },
  'message.timestamp.type': { type: STRING, brokerNames: ['log.message.timestamp.type'] },
  'message.timestamp.before.max.ms': {
    type: LONG,
    brokerNames: ['log.message.timestamp.before.max.ms'],
  },
  'message.timestamp.after.max.ms': { type: LONG, brokerNames: ['log.message.timestamp.after.max.ms'] },
  'max.message.bytes': { type: INT, brokerNames: ['message.max.bytes'] },
  'file.delete.delay.ms': { type: LONG, brokerNames: ['log.segment.delete.delay.ms'] },
  preallocate: { type: BOOLEAN, brokerNames: ['log.preallocate'] },
  'compression.type': { type: STRING, brokerNames: ['compression.type'] },
  'min.insync.replicas': { type: INT, brokerNames: ['min.insync.replicas'] },
  'unclean.leader.election.enable': { type: BOOLEAN, brokerNames: ['unclean.leader.election.enable'] },
};

/** Topic config names, in the order DescribeConfigs lists them. */
export const DESCRIBED_TOPIC_CONFIGS: readonly string[] = Object.keys(TOPIC_CONFIGS).sort();

const BUILT_IN_TOPIC_VALUES = logConfigToProps(DEFAULT_LOG_CONFIG);

/** The config type of a topic config (UNKNOWN for names Fjord does not know). */
export function topicConfigType(name: string): number {
  return TOPIC_CONFIGS[name]?.type ?? ConfigType.UNKNOWN;
}

/** Kafka's built-in default of a topic config, as a string (APPEND/SUBTRACT start from it). */
export function builtInTopicValue(name: string): string | undefined {
  return BUILT_IN_TOPIC_VALUES[name];
}

/** Every topic config of a topic with these overrides, as DescribeConfigs reports them. */
export function describeTopicConfigs(
  overrides: Readonly<Record<string, string>>,
  broker: BrokerConfig,
): ConfigEntry[] {
  const brokerDefaults = logConfigToProps(broker.log);
  return DESCRIBED_TOPIC_CONFIGS.map((name) => {
    const info = TOPIC_CONFIGS[name]!;
    const synonyms: ConfigSynonym[] = [];
    const override = overrides[name];
    if (override !== undefined)
      synonyms.push({ name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    for (const brokerName of info.brokerNames) {
      const set = broker.raw.get(brokerName);
      if (set !== undefined)
        synonyms.push({ name: brokerName, value: set, source: ConfigSource.STATIC_BROKER_CONFIG });
    }
    const builtIn = info.builtIn ?? { name: info.brokerNames[0]!, value: BUILT_IN_TOPIC_VALUES[name]! };
    synonyms.push({ ...builtIn, source: ConfigSource.DEFAULT_CONFIG });
    return {
      name,
      value: override ?? brokerDefaults[name] ?? null,
      source: synonyms[0]!.source,
      readOnly: false,
      isSensitive: false,
      type: info.type,
      synonyms,
    };
  });
}

interface BrokerConfigInfo {
  type: number;
  value: (config: BrokerConfig) => string | null;
}

const listenerText = (listeners: BrokerConfig['listeners']): string =>
  listeners.map((l) => `${l.name}://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`).join(',');

const BROKER_CONFIGS: Record<string, BrokerConfigInfo> = {
  'node.id': { type: INT, value: (c) => String(c.nodeId) },
  'broker.id': { type: INT, value: (c) => String(c.nodeId) },
  listeners: { type: STRING, value: (c) => listenerText(c.listeners) },
  // Unset, Kafka reports null (the listeners are advertised).
  'advertised.listeners': {
    type: STRING,
    value: (c) => (c.raw.has('advertised.listeners') ? listenerText(c.advertisedListeners) : null),
  },
  'log.dirs': { type: STRING, value: (c) => c.logDirs.join(',') },
  'num.partitions': { type: INT, value: (c) => String(c.numPartitions) },
  'default.replication.factor': { type: INT, value: (c) => String(c.defaultReplicationFactor) },
  'auto.create.topics.enable': { type: BOOLEAN, value: (c) => String(c.autoCreateTopicsEnable) },
  'delete.topic.enable': { type: BOOLEAN, value: (c) => String(c.deleteTopicEnable) },
  'socket.request.max.bytes': { type: INT, value: (c) => String(c.socketRequestMaxBytes) },
  'queued.max.requests': { type: INT, value: (c) => String(c.queuedMaxRequests) },
  'queued.max.request.bytes': { type: LONG, value: (c) => String(c.queuedMaxRequestBytes) },
  'num.io.threads': { type: INT, value: (c) => String(c.numIoThreads) },
  'zookeeper.connect': { type: STRING, value: (c) => c.zookeeperConnect },
  'zookeeper.session.timeout.ms': { type: INT, value: (c) => String(c.zookeeperSessionTimeoutMs) },
  'offsets.topic.num.partitions': { type: INT, value: (c) => String(c.offsetsTopicNumPartitions) },
  'offsets.topic.replication.factor': {
    type: ConfigType.SHORT,
    value: (c) => String(c.offsetsTopicReplicationFactor),
  },
  'offsets.retention.minutes': { type: INT, value: (c) => String(c.offsetsRetentionMinutes) },
  'group.initial.rebalance.delay.ms': { type: INT, value: (c) => String(c.groupInitialRebalanceDelayMs) },
  'group.min.session.timeout.ms': { type: INT, value: (c) => String(c.groupMinSessionTimeoutMs) },
  'group.max.session.timeout.ms': { type: INT, value: (c) => String(c.groupMaxSessionTimeoutMs) },
  'group.max.size': { type: INT, value: (c) => String(c.groupMaxSize) },
  'transaction.state.log.num.partitions': {
    type: INT,
    value: (c) => String(c.transactionStateLogNumPartitions),
  },
  'replica.lag.time.max.ms': { type: LONG, value: (c) => String(c.replicaLagTimeMaxMs) },
};

/** The broker's own view of one of its log.* topic-default properties. */
function brokerLogEntries(config: BrokerConfig): Map<string, { type: number; value: string | null }> {
  const effective = logConfigToProps(config.log);
  const entries = new Map<string, { type: number; value: string | null }>();
  for (const [topicName, info] of Object.entries(TOPIC_CONFIGS)) {
    if (info.brokerNames.length === 1) {
      entries.set(info.brokerNames[0]!, { type: info.type, value: effective[topicName] ?? null });
      continue;
    }
    // Several properties in different units (ms, minutes, hours): each shows what was set, or its own
    // built-in default (only the coarsest unit has one), not the resolved value.
    for (const brokerName of info.brokerNames) {
      const builtIn = info.builtIn?.name === brokerName ? info.builtIn.value : null;
      entries.set(brokerName, { type: info.type, value: config.raw.get(brokerName) ?? builtIn });
    }
  }
  return entries;
}

/** Every broker config Fjord reads, as DescribeConfigs reports them for this broker. */
export function describeBrokerConfigs(config: BrokerConfig): ConfigEntry[] {
  const all = new Map<string, { type: number; value: string | null }>();
  for (const [name, info] of Object.entries(BROKER_CONFIGS))
    all.set(name, { type: info.type, value: info.value(config) });
  for (const [name, entry] of brokerLogEntries(config)) all.set(name, entry);
  return [...all]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, { type, value }]) => {
      const set = config.raw.get(name);
      const source = set !== undefined ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
      return {
        name,
        value: set ?? value,
        source,
        readOnly: true,
        isSensitive: false,
        type,
        synonyms: [{ name, value: set ?? value, source }],
      };
    });
}
