// InitProducerId v0–5. Issues producer ids for idempotent producers (unique across restarts: the counter is
// src/storage/producer-ids.ts, in the first log dir) with epoch 0.
// v1: no change; v2: flexible; v3: producerId/producerEpoch of the caller, to bump its epoch instead of
// taking a new id; v4: PRODUCER_FENCED replaces INVALID_PRODUCER_EPOCH for a fenced caller (as Kafka maps it
// for older versions); v5: no change for us (the transactions v2 protocol).
// Epoch bumps: a caller presenting (producerId, epoch) for an id this broker issued gets (producerId,
// epoch + 1); an epoch below the newest this broker handed out for that id is fenced. When the epoch would
// reach Short.MAX_VALUE, or the id was never issued here, a new id with epoch 0 is returned instead.
// Differs from Kafka: Kafka ignores the caller's (producerId, epoch) when there is no transactional id and
// always returns a new id with epoch 0; bumping is equally safe for an idempotent producer (its partitions
// accept a new epoch only from sequence 0) and keeps its id. The newest epoch per id is kept in memory only,
// so fencing covers bumps since this broker started.
// Not implemented: transactions. A non-empty transactional id gets COORDINATOR_NOT_AVAILABLE (what Kafka
// answers while its transaction coordinator is unavailable; clients retry until their own timeout); an empty
// one gets INVALID_REQUEST as in Kafka. transactionTimeoutMs is ignored.
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  InitProducerId,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from '../../protocol/messages/init-producer-id.js';
import { ProducerIdAllocator } from '../../storage/producer-ids.js';
import type { BrokerContext } from '../broker-context.js';
import { handler } from './define.js';

const NO_PRODUCER_ID = -1n;
const NO_PRODUCER_EPOCH = -1;
const SHORT_MAX = 32767;

/** Producer ids of one broker: the durable allocator and the newest epoch handed out per id. Main thread. */
export class ProducerIds {
  readonly #allocator: ProducerIdAllocator;
  readonly #epochs = new Map<number, number>();

  constructor(logDir: string) {
    this.#allocator = new ProducerIdAllocator(logDir);
  }

  /** A new id (epoch 0), or the caller's id with its epoch bumped; 'fenced' for a stale epoch. */
  init(current?: {
    producerId: number;
    producerEpoch: number;
  }): { producerId: number; producerEpoch: number } | 'fenced' {
    if (current && current.producerId < this.#allocator.claimedEnd) {
      const newest = this.#epochs.get(current.producerId);
      if (newest !== undefined && current.producerEpoch < newest) return 'fenced';
      if (current.producerEpoch + 1 < SHORT_MAX) {
        const producerEpoch = current.producerEpoch + 1;
        this.#epochs.set(current.producerId, producerEpoch);
        return { producerId: current.producerId, producerEpoch };
      }
      this.#epochs.delete(current.producerId);
    }
    const producerId = this.#allocator.next();
    this.#epochs.set(producerId, 0);
    return { producerId, producerEpoch: 0 };
  }
}

const services = new WeakMap<BrokerContext, ProducerIds>();

function producerIdsOf(broker: BrokerContext): ProducerIds {
  let ids = services.get(broker);
  if (!ids) {
    ids = new ProducerIds(broker.config.logDirs[0]!);
    services.set(broker, ids);
  }
  return ids;
}

function errorResponse(_request: InitProducerIdRequest, errorCode: number): InitProducerIdResponse {
  return { throttleTimeMs: 0, errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };
}

export const initProducerIdHandler = handler(
  InitProducerId,
  { min: 0, max: 5 },
  (request, { broker, version }): InitProducerIdResponse => {
    if (request.transactionalId !== null) {
      return errorResponse(
        request,
        request.transactionalId === '' ? ErrorCode.INVALID_REQUEST : ErrorCode.COORDINATOR_NOT_AVAILABLE,
      );
    }
    const hasId = request.producerId !== NO_PRODUCER_ID;
    const hasEpoch = request.producerEpoch !== NO_PRODUCER_EPOCH;
    if (
      hasId !== hasEpoch ||
      request.producerId < NO_PRODUCER_ID ||
      request.producerEpoch < NO_PRODUCER_EPOCH
    ) {
      return errorResponse(request, ErrorCode.INVALID_REQUEST);
    }
    let result: ReturnType<ProducerIds['init']>;
    try {
      result = producerIdsOf(broker).init(
        hasId ? { producerId: Number(request.producerId), producerEpoch: request.producerEpoch } : undefined,
      );
    } catch (error) {
      // The counter file is unreadable or unwritable: issuing an id could repeat one, so none is issued.
      broker.log.error(`InitProducerId: ${(error as Error).message}`);
      return errorResponse(request, ErrorCode.UNKNOWN_SERVER_ERROR);
    }
    if (result === 'fenced') {
      return errorResponse(
        request,
        version >= 4 ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH,
      );
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      producerId: BigInt(result.producerId),
      producerEpoch: result.producerEpoch,
    };
  },
  errorResponse,
);
