// DescribeCluster v0–1. The cluster id, the controller and the brokers (this one, on a single node).
// v1: endpointType (1 = brokers; 2 = controllers, which a broker endpoint answers with
// MISMATCHED_ENDPOINT_TYPE as Kafka's brokers do; anything else is UNSUPPORTED_ENDPOINT_TYPE).
// clusterAuthorizedOperations: Fjord has no authorizer, so when asked it reports every cluster operation as
// allowed, as Kafka does without one; when not asked, the "not requested" value.
import { ErrorCode } from '../../protocol/error-codes.js';
import { DescribeCluster, type DescribeClusterResponse } from '../../protocol/messages/describe-cluster.js';
import { handler } from './define.js';

const BROKERS = 1;
const CONTROLLERS = 2;
const NOT_REQUESTED = -2147483648;
// Bits of the ACL operations that apply to the cluster resource: CREATE (5), ALTER (7), DESCRIBE (8),
// CLUSTER_ACTION (9), DESCRIBE_CONFIGS (10), ALTER_CONFIGS (11), IDEMPOTENT_WRITE (12).
const ALL_CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0);

function errorResponse(
  request: { endpointType: number },
  errorCode: number,
  version: number,
  errorMessage: string | null = null,
): DescribeClusterResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
    endpointType: version >= 1 ? request.endpointType : BROKERS,
    clusterId: '',
    controllerId: -1,
    brokers: [],
    clusterAuthorizedOperations: NOT_REQUESTED,
  };
}

export const describeClusterHandler = handler(
  DescribeCluster,
  { min: 0, max: 1 },
  (request, { broker, version }) => {
    if (request.endpointType === CONTROLLERS) {
      return errorResponse(
        request,
        ErrorCode.MISMATCHED_ENDPOINT_TYPE,
        version,
        'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER',
      );
    }
    if (request.endpointType !== BROKERS) {
      return errorResponse(
        request,
        ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        version,
        `Unsupported endpoint type ${request.endpointType}`,
      );
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: BROKERS,
      clusterId: broker.clusterId,
      controllerId: broker.controllerId(),
      brokers: broker
        .brokers()
        .map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
        ? ALL_CLUSTER_OPERATIONS
        : NOT_REQUESTED,
    };
  },
  errorResponse,
);
