// SyncGroup v0–5. v1: throttle; v3: groupInstanceId; v4: flexible; v5: protocolType and protocolName, checked
// against the group's (INCONSISTENT_GROUP_PROTOCOL) and echoed in the response.
import type { SyncResult } from '../../group/index.js';
import {
  SyncGroup,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '../../protocol/messages/sync-group.js';
import { handler } from './define.js';

function response(result: SyncResult, version: number): SyncGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode: result.errorCode,
    protocolType: version >= 5 ? result.protocolType : null,
    protocolName: version >= 5 ? result.protocolName : null,
    assignment: result.assignment,
  };
}

function errorResponse(_request: SyncGroupRequest, errorCode: number, version: number): SyncGroupResponse {
  return response(
    { errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) },
    version,
  );
}

export const syncGroupHandler = handler(
  SyncGroup,
  { min: 0, max: 5 },
  async (request, { broker, version }) =>
    response(
      await broker.groups.sync({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        protocolType: version >= 5 ? request.protocolType : null,
        protocolName: version >= 5 ? request.protocolName : null,
        assignments: request.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
      }),
      version,
    ),
  errorResponse,
);
