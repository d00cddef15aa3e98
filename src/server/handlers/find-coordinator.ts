// FindCoordinator v0–5. Key type 0 (group) and 1 (transaction) are both coordinated by this broker: every
// __consumer_offsets and __transaction_state partition is local.
// v1: keyType, throttle, errorMessage; v3: flexible; v4: batched coordinatorKeys with per-key results;
// v5: no change for us (TRANSACTION_ABORTABLE is a transactions matter).
// The first group lookup creates __consumer_offsets, as in Kafka. Differs from Kafka: the answer names this
// broker at once instead of COORDINATOR_NOT_AVAILABLE while the topic is created (the group's first write
// waits for it); COORDINATOR_NOT_AVAILABLE only comes while the broker starts.
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  FindCoordinator,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  type FindCoordinatorResponseCoordinator,
} from '../../protocol/messages/find-coordinator.js';
import type { BrokerContext } from '../broker-context.js';
import { handler } from './define.js';

const GROUP_KEY = 0;
const TRANSACTION_KEY = 1;

function errorMessageOf(errorCode: number): string | null {
  switch (errorCode) {
    case ErrorCode.NONE:
      return 'NONE';
    case ErrorCode.INVALID_REQUEST:
      return 'Unsupported coordinator key type';
    default:
      return 'The coordinator is not available.';
  }
}

function lookup(broker: BrokerContext, key: string, keyType: number): FindCoordinatorResponseCoordinator {
  let errorCode: number = ErrorCode.NONE;
  if (keyType !== GROUP_KEY && keyType !== TRANSACTION_KEY) errorCode = ErrorCode.INVALID_REQUEST;
  else if (!broker.groups.available) errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
  else if (keyType === GROUP_KEY) void broker.groups.ensureOffsetsTopic();
  const self = broker.brokers().find((b) => b.nodeId === broker.nodeId);
  if (errorCode !== ErrorCode.NONE || !self) {
    const code = errorCode === ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : errorCode;
    return { key, nodeId: -1, host: '', port: -1, errorCode: code, errorMessage: errorMessageOf(code) };
  }
  return { key, nodeId: self.nodeId, host: self.host, port: self.port, errorCode, errorMessage: 'NONE' };
}

function errorResponse(
  request: FindCoordinatorRequest,
  errorCode: number,
  version: number,
): FindCoordinatorResponse {
  if (version >= 4) {
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: 0,
      host: '',
      port: 0,
      coordinators: request.coordinatorKeys.map((key) => ({
        key,
        nodeId: -1,
        host: '',
        port: -1,
        errorCode,
        errorMessage: null,
      })),
    };
  }
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage: null,
    nodeId: -1,
    host: '',
    port: -1,
    coordinators: [],
  };
}

export const findCoordinatorHandler = handler(
  FindCoordinator,
  { min: 0, max: 5 },
  (request, { broker, version }): FindCoordinatorResponse => {
    if (version >= 4) {
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        nodeId: 0,
        host: '',
        port: 0,
        coordinators: request.coordinatorKeys.map((key) => lookup(broker, key, request.keyType)),
      };
    }
    const found = lookup(broker, request.key, version >= 1 ? request.keyType : GROUP_KEY);
    return {
      throttleTimeMs: 0,
      errorCode: found.errorCode,
      errorMessage: version >= 1 ? found.errorMessage : null,
      nodeId: found.nodeId,
      host: found.host,
      port: found.port,
      coordinators: [],
    };
  },
  errorResponse,
);
