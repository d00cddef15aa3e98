// The group coordinator service: classic consumer groups and committed offsets.
export * from './group-coordinator.js';
export {
  GROUP_STATES,
  type GroupState,
  type JoinResult,
  type SyncResult,
  type GroupProtocol,
} from './classic-group.js';
export { OFFSETS_TOPIC, PartitionGroupLog, type GroupLog, type GroupLogAppendResult } from './group-log.js';
export * from './group-records.js';
export { javaStringHashCode, kafkaAbs, partitionFor } from './partition-for.js';
export { ManualScheduler, systemScheduler, type Scheduler, type TimerHandle } from './scheduler.js';
