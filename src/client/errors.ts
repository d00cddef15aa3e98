// Errors the client throws. Kafka error codes from a broker become KafkaError (with Kafka's name and whether
// a retry can help); everything the client itself detects is a ClientError with a stable string code.
import { errorInfo } from '../protocol/error-codes.js';

/** An error code a broker returned, with Kafka's name (`NOT_LEADER_OR_FOLLOWER`) and retriability. */
export class KafkaError extends Error {
  /** Kafka's numeric error code. */
  readonly code: number;
  /** Whether Kafka classifies this error as retriable (the same request may succeed later). */
  readonly retriable: boolean;
  /** The API key of the request that failed, when known. */
  readonly apiKey?: number;

  constructor(code: number, options: { apiKey?: number; message?: string | null; cause?: unknown } = {}) {
    const info = errorInfo(code);
    const detail = options.message ? `: ${options.message}` : '';
    super(`${info.name} (${code})${detail} — ${info.message}`, { cause: options.cause });
    this.name = info.name;
    this.code = code;
    this.retriable = info.retriable;
    if (options.apiKey !== undefined) this.apiKey = options.apiKey;
  }
}

/** The closed set of codes of errors the client raises itself. */
export type ClientErrorCode =
  /**
   * A TCP connection could not be made (refused, reset, unreachable). Retriable, except when no bootstrap
   * broker was ever reached and the retries or the time the operation allows ran out: then the message names
   * every bootstrap address and `retriable` is false.
   */
  | 'CONNECTION_ERROR'
  /** The connection closed while a request was waiting for its response. */
  | 'CONNECTION_CLOSED'
  /** No response within request.timeout.ms. */
  | 'REQUEST_TIMEOUT'
  /** The record stayed undelivered for delivery.timeout.ms. */
  | 'DELIVERY_TIMEOUT'
  /** No version of this API is supported by both the broker and the client. */
  | 'UNSUPPORTED_API'
  /** The broker's bytes could not be decoded. */
  | 'PROTOCOL_ERROR'
  /** The client was closed (or is closing). */
  | 'CLIENT_CLOSED'
  /** A caller passed an option or argument the client cannot use. */
  | 'INVALID_ARGUMENT'
  /** The topic, partition or broker is not (or not yet) in the cluster metadata. */
  | 'METADATA_UNAVAILABLE'
  /**
   * send() waited max.block.ms for room in the producer's buffer (buffer.memory) and found none, as Java's
   * BufferExhaustedException. Not retriable by the client; the application may slow down and try again.
   */
  | 'BUFFER_EXHAUSTED'
  /** A record is larger than the producer's whole buffer (buffer.memory), so it could never be sent. */
  | 'RECORD_TOO_LARGE';

const RETRIABLE_CLIENT_CODES: ReadonlySet<ClientErrorCode> = new Set<ClientErrorCode>([
  'CONNECTION_ERROR',
  'CONNECTION_CLOSED',
  'REQUEST_TIMEOUT',
  'METADATA_UNAVAILABLE',
]);

/** An error the client detected itself; `code` is one of ClientErrorCode. */
export class ClientError extends Error {
  readonly code: ClientErrorCode;
  readonly retriable: boolean;

  constructor(
    code: ClientErrorCode,
    message: string,
    options: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ClientError';
    this.code = code;
    this.retriable = options.retriable ?? RETRIABLE_CLIENT_CODES.has(code);
  }
}

/** True for errors after which the same request may succeed (Kafka retriable codes, lost connections). */
export function isRetriable(error: unknown): boolean {
  return (error instanceof KafkaError || error instanceof ClientError) && error.retriable;
}

/** Errors after which cached metadata is probably stale. */
export function needsMetadataRefresh(error: unknown): boolean {
  if (error instanceof ClientError) return error.code !== 'REQUEST_TIMEOUT' && error.retriable;
  if (!(error instanceof KafkaError)) return false;
  // NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_CONTROLLER, NOT_COORDINATOR,
  // FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, KAFKA_STORAGE_ERROR
  return [6, 3, 5, 41, 16, 74, 76, 56].includes(error.code);
}
