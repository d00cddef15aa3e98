// The Fjord client: Producer, Admin and Consumer (manual assignment or consumer-group membership), over one
// shared connection layer. It depends on src/protocol and src/native only, so it ships without the broker.
export { Producer } from './producer/producer.js';
export type {
  CompressionName,
  HeaderValue,
  ProducerOptions,
  ProducerRecord,
  RecordMetadata,
} from './producer/producer.js';
export {
  DefaultPartitioner,
  murmur2,
  partitionForKey,
  toPositive,
  type KeylessStrategy,
  type Partitioner,
  type PartitionerArgs,
} from './producer/partitioner.js';
export { Consumer } from './consumer/consumer.js';
export type {
  ConsumerGroupOptions,
  ConsumerOptions,
  ConsumerRecord,
  OffsetToCommit,
  RebalanceListener,
  TopicPartitionOffset,
} from './consumer/consumer.js';
export {
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  type Assignor,
  type GroupAssignment,
  type MemberSubscription,
} from './consumer/assignors.js';
export type { TopicPartition } from './consumer/group-membership.js';
export { Admin } from './admin/admin.js';
export type {
  AdminOptions,
  ClusterDescription,
  ConfigEntry,
  ConfigOperation,
  ConfigResourceDescription,
  ConfigResourceType,
  ConfigSource,
  GroupDescription,
  GroupListing,
  GroupMemberDescription,
  GroupTopicOffsets,
  NewTopic,
  OffsetSpec,
  PartitionOffset,
} from './admin/admin.js';
export {
  Cluster,
  type BrokerInfo,
  type ClientOptions,
  type PartitionInfo,
  type TopicInfo,
} from './cluster.js';
export {
  BrokerConnection,
  type ConnectionOptions,
  type RequestOptions,
  type VersionRange,
} from './connection.js';
export { ClientError, KafkaError, isRetriable, type ClientErrorCode } from './errors.js';
