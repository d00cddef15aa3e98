// Public surface of the storage engine (partition logs in Kafka's on-disk format).
export {
  ConfigError,
  DEFAULT_LOG_CONFIG,
  LONG_MAX,
  TOPIC_CONFIG_NAMES,
  logConfigFromBrokerProps,
  logConfigToProps,
  resolveLogConfig,
  validateTopicConfig,
  type CleanupPolicy,
  type LogConfig,
  type TimestampType,
} from './log-config.js';
export {
  PartitionLog,
  type AppendFailure,
  type AppendOptions,
  type AppendResult,
  type ListOffsetsSpec,
  type PartitionLogOptions,
  type ReadOptions,
  type ReadResult,
  type SegmentInfo,
  type TimestampAndOffset,
} from './partition-log.js';
export {
  LogManager,
  parsePartitionDirName,
  partitionDirName,
  type LogManagerOptions,
} from './log-manager.js';
export { SILENT_LOGGER, segmentFileName, type FileRegion, type StorageLogger } from './segment.js';
export { CorruptIndexError } from './mapped-index.js';
export type { CleanerResult, CleanerTask } from './compaction.js';
export { writeFileAtomically } from './checkpoint.js';
