// Heartbeat v0–4. v1: throttle; v3: groupInstanceId (static membership, FENCED_INSTANCE_ID); v4: flexible.
// Answers REBALANCE_IN_PROGRESS while the group prepares a rebalance, and NONE between a member's JoinGroup
// and SyncGroup (as Kafka does since 2.3; it keeps the member alive).
import {
  Heartbeat,
  type HeartbeatRequest,
  type HeartbeatResponse,
} from '../../protocol/messages/heartbeat.js';
import { handler } from './define.js';

function errorResponse(_request: HeartbeatRequest, errorCode: number): HeartbeatResponse {
  return { throttleTimeMs: 0, errorCode };
}

export const heartbeatHandler = handler(
  Heartbeat,
  { min: 0, max: 4 },
  (request, { broker }): HeartbeatResponse => ({
    throttleTimeMs: 0,
    errorCode: broker.groups.heartbeat(
      request.groupId,
      request.generationId,
      request.memberId,
      request.groupInstanceId,
    ),
  }),
  errorResponse,
);
