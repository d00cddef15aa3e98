// ListGroups v0–4. v1: throttle; v3: flexible; v4: statesFilter (case-insensitive, as Kafka matches them)
// and each group's state in the response. v5's typesFilter is not served (only classic groups exist).
import {
  ListGroups,
  type ListGroupsRequest,
  type ListGroupsResponse,
} from '../../protocol/messages/list-groups.js';
import { handler } from './define.js';

function errorResponse(_request: ListGroupsRequest, errorCode: number): ListGroupsResponse {
  return { throttleTimeMs: 0, errorCode, groups: [] };
}

export const listGroupsHandler = handler(
  ListGroups,
  { min: 0, max: 4 },
  (request, { broker, version }): ListGroupsResponse => {
    const listed = broker.groups.list();
    const states = new Set(request.statesFilter.map((s) => s.toLowerCase()));
    return {
      throttleTimeMs: 0,
      errorCode: listed.errorCode,
      groups: listed.groups
        .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
        .map((g) => ({
          groupId: g.groupId,
          protocolType: g.protocolType,
          groupState: version >= 4 ? g.state : '',
          groupType: '',
        })),
    };
  },
  errorResponse,
);
