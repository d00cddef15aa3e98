// DeleteGroups v0–2. v1: no change; v2: flexible. Only Empty groups are deleted (others: NON_EMPTY_GROUP;
// unknown ones: GROUP_ID_NOT_FOUND); their offsets and metadata get tombstones in __consumer_offsets.
import {
  DeleteGroups,
  type DeleteGroupsRequest,
  type DeleteGroupsResponse,
} from '../../protocol/messages/delete-groups.js';
import { handler } from './define.js';

function errorResponse(request: DeleteGroupsRequest, errorCode: number): DeleteGroupsResponse {
  return { throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({ groupId, errorCode })) };
}

export const deleteGroupsHandler = handler(
  DeleteGroups,
  { min: 0, max: 2 },
  async (request, { broker }): Promise<DeleteGroupsResponse> => ({
    throttleTimeMs: 0,
    results: await broker.groups.deleteGroups(request.groupsNames),
  }),
  errorResponse,
);
