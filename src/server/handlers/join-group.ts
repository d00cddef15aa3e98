// JoinGroup v0–9 (classic protocol; the state machine is src/group/group-coordinator.ts).
// v0: no rebalance timeout (the session timeout serves as both, as in Kafka); v1: rebalanceTimeoutMs;
// v2: throttle; v4: an empty member id gets MEMBER_ID_REQUIRED with an id to rejoin with; v5:
// groupInstanceId (static membership, FENCED_INSTANCE_ID); v6: flexible; v7: protocolType in the response,
// nullable protocolName; v8: reason (logged nowhere); v9: skipAssignment for a static leader rejoining a
// stable group.
import type { JoinResult } from '../../group/index.js';
import {
  JoinGroup,
  type JoinGroupRequest,
  type JoinGroupResponse,
} from '../../protocol/messages/join-group.js';
import { handler } from './define.js';

function response(result: JoinResult, version: number): JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode: result.errorCode,
    generationId: result.generationId,
    protocolType: version >= 7 ? result.protocolType : null,
    protocolName: version >= 7 ? result.protocolName : (result.protocolName ?? ''),
    leader: result.leaderId,
    skipAssignment: version >= 9 ? result.skipAssignment : false,
    memberId: result.memberId,
    members: result.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: version >= 5 ? m.groupInstanceId : null,
      metadata: m.metadata,
    })),
  };
}

function errorResponse(request: JoinGroupRequest, errorCode: number, version: number): JoinGroupResponse {
  return response(
    {
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leaderId: '',
      memberId: request.memberId,
      skipAssignment: false,
      members: [],
    },
    version,
  );
}

/** Kafka reports client hosts as InetAddress.toString() does: "/127.0.0.1". */
export function clientHostOf(remote: string): string {
  const colon = remote.lastIndexOf(':');
  return `/${colon > 0 ? remote.slice(0, colon) : remote}`;
}

export const joinGroupHandler = handler(
  JoinGroup,
  { min: 0, max: 9 },
  async (request, { broker, version, header, connection }) => {
    const result = await broker.groups.join({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: header.clientId ?? '',
      clientHost: clientHostOf(connection.remote),
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: version >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      requireKnownMemberId: version >= 4 && request.groupInstanceId === null,
      supportsSkipAssignment: version >= 9,
    });
    return response(result, version);
  },
  errorResponse,
);
