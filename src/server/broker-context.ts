// What request handlers see of the broker: its identity, config and the services they call.
import type { TopicManager } from '../cluster/topic-manager.js';
import type { BrokerConfig } from '../config/broker-config.js';
import type { GroupCoordinator } from '../group/group-coordinator.js';
import type { PartitionPool } from '../partition/partition-pool.js';
import type { Logger } from '../util/logger.js';
import type { FetchPurgatory } from './fetch-purgatory.js';
import type { SegmentFiles } from './segment-files.js';

export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly clusterId: string;
  readonly nodeId: number;
  /** The brokers of the cluster as clients should reach them (this one, on a single node). */
  brokers(): BrokerEndpoint[];
  /** The controller's node id (this broker, on a single node). */
  controllerId(): number;
  readonly topics: TopicManager;
  readonly partitions: PartitionPool;
  readonly fetchWaiters: FetchPurgatory;
  /** Consumer groups and committed offsets (src/group). */
  readonly groups: GroupCoordinator;
  readonly segmentFiles: SegmentFiles;
  /** The API ranges this broker serves (from the handler registry). */
  apiVersions(): { apiKey: number; minVersion: number; maxVersion: number }[];
  readonly log: Logger;
}
