// Every API this broker serves. ApiVersions advertises exactly this list.
import type { BrokerHandler } from './define.js';
import { alterConfigsHandler } from './alter-configs.js';
import { apiVersionsHandler } from './api-versions.js';
import { createPartitionsHandler } from './create-partitions.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteRecordsHandler } from './delete-records.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { describeClusterHandler } from './describe-cluster.js';
import { describeConfigsHandler } from './describe-configs.js';
import { describeLogDirsHandler } from './describe-log-dirs.js';
import { fetchHandler } from './fetch.js';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { produceHandler } from './produce.js';

// Consumer groups and committed offsets (src/group).
import { findCoordinatorHandler } from './find-coordinator.js';
import { joinGroupHandler } from './join-group.js';
import { syncGroupHandler } from './sync-group.js';
import { heartbeatHandler } from './heartbeat.js';
import { leaveGroupHandler } from './leave-group.js';
import { describeGroupsHandler } from './describe-groups.js';
import { listGroupsHandler } from './list-groups.js';
import { deleteGroupsHandler } from './delete-groups.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetFetchHandler } from './offset-fetch.js';
import { offsetDeleteHandler } from './offset-delete.js';

export const brokerHandlers: BrokerHandler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  createPartitionsHandler,
  describeConfigsHandler,
  alterConfigsHandler,
  incrementalAlterConfigsHandler,
  describeClusterHandler,
  deleteRecordsHandler,
  describeLogDirsHandler,
  offsetForLeaderEpochHandler,
  initProducerIdHandler,
  findCoordinatorHandler,
  joinGroupHandler,
  syncGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  describeGroupsHandler,
  listGroupsHandler,
  deleteGroupsHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  offsetDeleteHandler,
];
