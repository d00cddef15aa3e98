// LeaveGroup v0–5. v0–2: one member id, one top-level error (the member's, when the group is fine);
// v1: throttle; v3: a batch of members by member id or group.instance.id, each with its own error; v4:
// flexible; v5: reason (not kept). The members left are removed at once and the group rebalances.
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  LeaveGroup,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
} from '../../protocol/messages/leave-group.js';
import { handler } from './define.js';

function errorResponse(_request: LeaveGroupRequest, errorCode: number): LeaveGroupResponse {
  return { throttleTimeMs: 0, errorCode, members: [] };
}

export const leaveGroupHandler = handler(
  LeaveGroup,
  { min: 0, max: 5 },
  (request, { broker, version }): LeaveGroupResponse => {
    const leaving =
      version >= 3
        ? request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
        : [{ memberId: request.memberId, groupInstanceId: null }];
    const result = broker.groups.leave(request.groupId, leaving);
    if (version < 3) {
      const memberError = result.members[0]?.errorCode ?? ErrorCode.NONE;
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode !== ErrorCode.NONE ? result.errorCode : memberError,
        members: [],
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      members: result.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        errorCode: m.errorCode,
      })),
    };
  },
  errorResponse,
);
