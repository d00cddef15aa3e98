// Request dispatch: one handler per API, registered with the versions it serves.
//
// The registry is the single source of truth for what the broker speaks: ApiVersions is built from it, so
// the broker advertises exactly what it handles. A frame goes: header decode -> handler lookup -> version
// check -> body decode -> handler -> response encode (a Buffer, or chunks with file regions for Fetch).
//
// Kafka's rules for the unhappy paths:
// - a malformed header or body, or an API key we do not serve, closes the connection (logged);
// - ApiVersions at a version we do not serve is answered in the v0 shape with UNSUPPORTED_VERSION and our
//   ranges, so clients (librdkafka opens with v3) can retry with a version we do serve;
// - another API at an unsupported version is answered with UNSUPPORTED_VERSION when the handler can build an
//   error response for it, and otherwise closes the connection.
//
// Main thread; must not block.
import { ErrorCode } from '../protocol/error-codes.js';
import { decodeRequestHeader, encodeResponse, type RequestHeader } from '../protocol/frame.js';
import type { ApiDescriptor } from '../protocol/messages/common.js';
import { ApiVersions, type ApiVersionsResponse } from '../protocol/messages/api-versions.js';
import { ProtocolError } from '../protocol/primitives/protocol-error.js';
import { Reader } from '../protocol/primitives/reader.js';
import { CloseConnectionError, type Connection, type FrameResult } from './connection.js';
import type { ResponseChunk } from './file-transfer.js';

export interface RequestContext<Broker> {
  header: RequestHeader;
  version: number;
  connection: Connection;
  broker: Broker;
}

export interface Handler<Broker> {
  readonly api: ApiDescriptor<unknown, unknown, unknown, unknown>;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The response body, or null when none is due (Produce with acks=0). */
  handle(request: unknown, context: RequestContext<Broker>): unknown;
  /** A response carrying `errorCode` everywhere, for requests this handler cannot serve at their version. */
  errorResponse?(request: unknown, errorCode: number, version: number): unknown;
}

/** Declares a handler with its API's request and response types. */
export function defineHandler<Broker, Req, Resp, ReqIn, RespIn>(
  api: ApiDescriptor<Req, Resp, ReqIn, RespIn>,
  versions: { min: number; max: number },
  handle: (request: Req, context: RequestContext<Broker>) => RespIn | null | Promise<RespIn | null>,
  errorResponse?: (request: Req, errorCode: number, version: number) => RespIn,
): Handler<Broker> {
  return {
    api: api as ApiDescriptor<unknown, unknown, unknown, unknown>,
    minVersion: versions.min,
    maxVersion: versions.max,
    handle: handle as Handler<Broker>['handle'],
    ...(errorResponse ? { errorResponse: errorResponse as Handler<Broker>['errorResponse'] } : {}),
  };
}

export interface DispatchLog {
  warn(message: string): void;
  debug?(message: string): void;
}

export class Dispatcher<Broker> {
  readonly #handlers = new Map<number, Handler<Broker>>();
  readonly #broker: Broker;
  readonly #log: DispatchLog;

  constructor(handlers: Handler<Broker>[], broker: Broker, log: DispatchLog) {
    for (const handler of handlers) {
      if (this.#handlers.has(handler.api.apiKey)) throw new Error(`two handlers for ${handler.api.name}`);
      if (handler.minVersion < handler.api.minVersion || handler.maxVersion > handler.api.maxVersion) {
        throw new Error(`${handler.api.name} handler serves versions the codec does not have`);
      }
      this.#handlers.set(handler.api.apiKey, handler);
    }
    this.#broker = broker;
    this.#log = log;
  }

  /** What ApiVersions advertises: every registered API with its served range, by API key. */
  apiVersions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.#handlers.values()]
      .map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  handler(apiKey: number): Handler<Broker> | undefined {
    return this.#handlers.get(apiKey);
  }

  /** The connection's frame handler. */
  readonly handleFrame = (frame: Buffer, connection: Connection): FrameResult | Promise<FrameResult> => {
    let header: RequestHeader;
    let bodyOffset: number;
    try {
      ({ header, bodyOffset } = decodeRequestHeader(frame));
    } catch (error) {
      throw new CloseConnectionError(`malformed request header: ${(error as Error).message}`);
    }
    const handler = this.#handlers.get(header.apiKey);
    if (!handler) {
      throw new CloseConnectionError(
        `unsupported API key ${header.apiKey} (v${header.apiVersion}) from ${header.clientId}`,
      );
    }
    const version = header.apiVersion;
    if (version < handler.minVersion || version > handler.maxVersion) {
      return this.#unsupportedVersion(handler, header, frame, bodyOffset);
    }
    let request: unknown;
    try {
      const reader = new Reader(frame, bodyOffset);
      request = handler.api.request.read(reader, version);
    } catch (error) {
      if (error instanceof ProtocolError) {
        throw new CloseConnectionError(`malformed ${handler.api.name} v${version} request: ${error.message}`);
      }
      throw error;
    }
    const context: RequestContext<Broker> = { header, version, connection, broker: this.#broker };
    const response = handler.handle(request, context);
    if (response instanceof Promise) return response.then((body) => this.#encode(handler, header, body));
    return this.#encode(handler, header, response);
  };

  #encode(handler: Handler<Broker>, header: RequestHeader, body: unknown): FrameResult {
    if (body === null) return null;
    const encoded = encodeResponse(handler.api, header.apiVersion, header.correlationId, body);
    return (Buffer.isBuffer(encoded) ? [encoded] : encoded) as ResponseChunk[];
  }

  #unsupportedVersion(
    handler: Handler<Broker>,
    header: RequestHeader,
    frame: Buffer,
    bodyOffset: number,
  ): FrameResult {
    const { api } = handler;
    if (api.apiKey === ApiVersions.apiKey) {
      // Answer in the v0 shape whatever was asked: the client can always parse that one.
      const body: ApiVersionsResponse = {
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        apiKeys: this.apiVersions().map((v) => ({ ...v })),
        throttleTimeMs: 0,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1n,
        finalizedFeatures: [],
        zkMigrationReady: false,
      };
      return [encodeResponse(ApiVersions, 0, header.correlationId, body) as Buffer];
    }
    if (handler.errorResponse && header.apiVersion >= api.minVersion && header.apiVersion <= api.maxVersion) {
      try {
        const request = api.request.read(new Reader(frame, bodyOffset), header.apiVersion);
        const body = handler.errorResponse(request, ErrorCode.UNSUPPORTED_VERSION, header.apiVersion);
        return this.#encode(handler, header, body);
      } catch (error) {
        this.#log.warn(`could not build an UNSUPPORTED_VERSION response: ${(error as Error).message}`);
      }
    }
    throw new CloseConnectionError(
      `${api.name} v${header.apiVersion} is not supported (this broker serves v${handler.minVersion}-v${handler.maxVersion})`,
    );
  }
}
