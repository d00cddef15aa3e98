// DescribeGroups v0–5. v1: throttle; v3: authorizedOperations (READ, DELETE and DESCRIBE when asked: Fjord
// has no authorizer); v4: members' groupInstanceId; v5: flexible. An unknown group is described as Dead with
// no error, as Kafka does before v6. Member metadata and assignments are only filled in while Stable.
import {
  DescribeGroups,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
} from '../../protocol/messages/describe-groups.js';
import { handler } from './define.js';

// AclOperation codes: READ 3, DELETE 6, DESCRIBE 8.
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const NOT_REQUESTED = -2147483648;

function errorResponse(request: DescribeGroupsRequest, errorCode: number): DescribeGroupsResponse {
  return {
    throttleTimeMs: 0,
    groups: request.groups.map((groupId) => ({
      errorCode,
      groupId,
      groupState: '',
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: NOT_REQUESTED,
    })),
  };
}

export const describeGroupsHandler = handler(
  DescribeGroups,
  { min: 0, max: 5 },
  (request, { broker, version }): DescribeGroupsResponse => ({
    throttleTimeMs: 0,
    groups: request.groups.map((groupId) => {
      const group = broker.groups.describe(groupId);
      return {
        errorCode: group.errorCode,
        groupId,
        groupState: group.state,
        protocolType: group.protocolType,
        protocolData: group.protocolName,
        members: group.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: version >= 4 ? m.groupInstanceId : null,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.metadata,
          memberAssignment: m.assignment,
        })),
        authorizedOperations:
          version >= 3 && request.includeAuthorizedOperations ? GROUP_OPERATIONS : NOT_REQUESTED,
      };
    }),
  }),
  errorResponse,
);
