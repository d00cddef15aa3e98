// One TCP connection to one broker. Requests are pipelined: each gets the next correlation id, is written at
// once, and its promise settles when the response with that id arrives (Kafka answers in request order on a
// connection, but matching by id also catches a broker that does not). On open the connection negotiates
// versions with ApiVersions: for each API the highest version both sides support.
import net from 'node:net';
import { ApiVersions, type ApiDescriptor, type ApiVersionsResponse } from '../protocol/messages/index.js';
import { decodeResponse, encodeRequestChunks } from '../protocol/frame.js';
import { ProtocolError } from '../protocol/primitives/protocol-error.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ClientError, KafkaError } from './errors.js';

/** Version range a broker advertises for one API. */
export interface VersionRange {
  min: number;
  max: number;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  /** How long to wait for TCP connect + ApiVersions (default 10 s). */
  connectTimeoutMs?: number;
  /** Default time to wait for each response (default 30 s). */
  requestTimeoutMs?: number;
  /** Highest versions the client's own code understands, per API key; beyond them the codec's range. */
  clientMaxVersions?: ReadonlyMap<number, number>;
}

export interface RequestOptions {
  /** A version to use instead of the negotiated one. */
  version?: number;
  /** False for Produce with acks=0: the broker sends nothing back, the promise resolves on write. */
  expectResponse?: boolean;
  timeoutMs?: number;
}

interface Pending {
  api: ApiDescriptor<unknown, unknown, unknown, unknown>;
  version: number;
  resolve(body: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const CLIENT_SOFTWARE_NAME = 'fjord-client';
/** Responses at least this large are read straight into their own buffer. */
const LARGE_FRAME_BYTES = 32 * 1024;
const READ_BUFFER_BYTES = 64 * 1024;
/** The read buffer is compacted when less than this much room is left after its data. */
const MIN_READ_ROOM = 16 * 1024;
/** A size prefix above this is taken as a broken stream rather than a response to allocate. */
const MAX_RESPONSE_BYTES = 1 << 30;
const CLIENT_SOFTWARE_VERSION = '0.1.0';

export class BrokerConnection {
  readonly host: string;
  readonly port: number;
  readonly #options: ConnectionOptions;
  #socket: net.Socket | undefined;
  #nextCorrelationId = 0;
  readonly #pending = new Map<number, Pending>();
  /** Small responses are read here and copied out; unparsed bytes are [#start, #end). */
  #readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  #start = 0;
  #end = 0;
  /** A large response being read straight into its own buffer. */
  #large: { frame: Buffer; filled: number } | null = null;
  /** Whether the buffer handed to the socket for the next read is the rest of #large. */
  #readingIntoLarge = false;
  #versions = new Map<number, VersionRange>();
  #closed = false;
  #closeError: Error | undefined;
  readonly #closeListeners: ((error: Error) => void)[] = [];

  constructor(options: ConnectionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.#options = options;
  }

  /** API versions the broker advertised (after connect()). */
  get brokerVersions(): ReadonlyMap<number, VersionRange> {
    return this.#versions;
  }

  get isOpen(): boolean {
    return this.#socket !== undefined && !this.#closed;
  }

  /** Called once when the connection closes for any reason. */
  onClose(listener: (error: Error) => void): void {
    if (this.#closed) listener(this.#closeError!);
    else this.#closeListeners.push(listener);
  }

  /** Opens the socket and negotiates API versions. Rejects with ClientError CONNECTION_ERROR. */
  async connect(): Promise<void> {
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      // onread: the socket reads where #nextReadTarget says, so a large response (a fetch of megabytes) lands
      // in its own buffer once, instead of in fresh 64 KiB chunks that are then joined (a copy and garbage).
      const s = net.connect({
        host: this.host,
        port: this.port,
        noDelay: true,
        onread: {
          buffer: () => this.#nextReadTarget(),
          callback: (n) => {
            this.#onRead(n);
            return true;
          },
        },
      });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ClientError('CONNECTION_ERROR', `connect to ${this.#address()} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(
          new ClientError('CONNECTION_ERROR', `connect to ${this.#address()}: ${err.message}`, {
            cause: err,
          }),
        );
      });
    });
    this.#socket = socket;
    socket.on('error', (err) =>
      this.#fail(new ClientError('CONNECTION_CLOSED', `${this.#address()}: ${err.message}`, { cause: err })),
    );
    socket.on('close', () =>
      this.#fail(new ClientError('CONNECTION_CLOSED', `connection to ${this.#address()} closed`)),
    );
    try {
      await this.#negotiate(timeoutMs);
    } catch (error) {
      this.close();
      if (error instanceof ClientError && error.code === 'CONNECTION_CLOSED') {
        throw new ClientError('CONNECTION_ERROR', error.message, { cause: error });
      }
      throw error;
    }
  }

  async #negotiate(timeoutMs: number): Promise<void> {
    const body = { clientSoftwareName: CLIENT_SOFTWARE_NAME, clientSoftwareVersion: CLIENT_SOFTWARE_VERSION };
    // v3 is what current clients open with; some brokers (librdkafka's mock) answer a newer version they do
    // not know in a shape that is not v0, so v4 (which adds nothing a client uses) is not asked for.
    let version = Math.min(3, ApiVersions.maxVersion);
    for (let attempt = 0; attempt < 3; attempt++) {
      let response: ApiVersionsResponse;
      try {
        response = (await this.#send(ApiVersions, version, body, true, timeoutMs)) as ApiVersionsResponse;
      } catch (error) {
        if (!(error instanceof ClientError && error.code === 'PROTOCOL_ERROR') || version === 0) throw error;
        version = 0;
        continue;
      }
      if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
        // The broker answered in v0 shape; it may list its own ApiVersions range to retry within.
        const own = response.apiKeys.find((k) => k.apiKey === ApiVersions.apiKey);
        version = own ? Math.min(own.maxVersion, ApiVersions.maxVersion) : 0;
        continue;
      }
      if (response.errorCode !== 0) throw new KafkaError(response.errorCode, { apiKey: ApiVersions.apiKey });
      this.#versions = new Map(
        response.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]),
      );
      return;
    }
    throw new ClientError(
      'UNSUPPORTED_API',
      `${this.#address()} supports no ApiVersions version this client knows`,
    );
  }

  /** The version to use for `api`: the highest both sides support, or undefined when there is none. */
  versionFor(api: ApiDescriptor<unknown, unknown, unknown, unknown>): number | undefined {
    const broker = this.#versions.get(api.apiKey);
    if (broker === undefined) return undefined;
    const clientMax = Math.min(
      api.maxVersion,
      this.#options.clientMaxVersions?.get(api.apiKey) ?? api.maxVersion,
    );
    const version = Math.min(clientMax, broker.max);
    return version >= Math.max(api.minVersion, broker.min) ? version : undefined;
  }

  /** Sends a request at the negotiated version and resolves to the decoded response body. */
  request<Req, Resp, ReqIn>(
    api: ApiDescriptor<Req, Resp, ReqIn, unknown>,
    body: ReqIn,
    options: RequestOptions = {},
  ): Promise<Resp> {
    const version =
      options.version ?? this.versionFor(api as ApiDescriptor<unknown, unknown, unknown, unknown>);
    if (version === undefined) {
      return Promise.reject(
        new ClientError(
          'UNSUPPORTED_API',
          `${this.#address()} does not support ${api.name} at any version this client knows`,
        ),
      );
    }
    return this.#send(
      api,
      version,
      body,
      options.expectResponse ?? true,
      options.timeoutMs ?? this.#options.requestTimeoutMs ?? 30_000,
    ) as Promise<Resp>;
  }

  #send(
    api: ApiDescriptor<never, unknown, never, unknown> | ApiDescriptor<unknown, unknown, unknown, unknown>,
    version: number,
    body: unknown,
    expectResponse: boolean,
    timeoutMs: number,
  ): Promise<unknown> {
    const socket = this.#socket;
    if (socket === undefined || this.#closed) {
      return Promise.reject(
        this.#closeError ?? new ClientError('CONNECTION_CLOSED', `${this.#address()} is not connected`),
      );
    }
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = (this.#nextCorrelationId + 1) & 0x7fffffff;
    const descriptor = api as ApiDescriptor<unknown, unknown, unknown, unknown>;
    let chunks;
    try {
      chunks = encodeRequestChunks(descriptor, version, correlationId, this.#options.clientId, body);
    } catch (error) {
      return Promise.reject(error);
    }
    socket.cork();
    for (const chunk of chunks) {
      if (!Buffer.isBuffer(chunk)) throw new Error('client requests never hold RecordsRefs');
      socket.write(chunk);
    }
    process.nextTick(() => socket.uncork());
    if (!expectResponse) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(correlationId);
        reject(
          new ClientError(
            'REQUEST_TIMEOUT',
            `${descriptor.name} to ${this.#address()} timed out after ${timeoutMs} ms`,
          ),
        );
        // A late response would now be unmatched; Kafka clients drop the connection so state stays simple.
        this.close();
      }, timeoutMs);
      this.#pending.set(correlationId, { api: descriptor, version, resolve, reject, timer });
    });
  }

  #nextReadTarget(): Uint8Array {
    const large = this.#large;
    this.#readingIntoLarge = large !== null && large.filled < large.frame.length;
    if (large && this.#readingIntoLarge) return large.frame.subarray(large.filled);
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    } else if (this.#readBuffer.length - this.#end < MIN_READ_ROOM) {
      this.#readBuffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    return this.#readBuffer.subarray(this.#end);
  }

  #onRead(bytes: number): void {
    if (this.#readingIntoLarge) this.#large!.filled += bytes;
    else this.#end += bytes;
    while (!this.#closed) {
      const large = this.#large;
      if (large) {
        // Bytes of this response that arrived in the read buffer before its size was known.
        const take = Math.min(this.#end - this.#start, large.frame.length - large.filled);
        if (take > 0) {
          this.#readBuffer.copy(large.frame, large.filled, this.#start, this.#start + take);
          this.#start += take;
          large.filled += take;
        }
        if (large.filled < large.frame.length) return;
        this.#large = null;
        this.#onFrame(large.frame);
        continue;
      }
      const available = this.#end - this.#start;
      if (available < 4) return;
      const size = this.#readBuffer.readInt32BE(this.#start);
      if (size < 0 || size > MAX_RESPONSE_BYTES) {
        this.#fail(new ClientError('PROTOCOL_ERROR', `frame size ${size} from ${this.#address()}`));
        return;
      }
      if (size >= LARGE_FRAME_BYTES) {
        this.#start += 4;
        this.#large = { frame: Buffer.allocUnsafe(size), filled: 0 };
        continue;
      }
      if (available < 4 + size) return;
      // Copied out: the read buffer is reused, and decoded responses keep slices of their frame.
      const frame = Buffer.allocUnsafe(size);
      this.#readBuffer.copy(frame, 0, this.#start + 4, this.#start + 4 + size);
      this.#start += 4 + size;
      this.#onFrame(frame);
    }
  }

  #onFrame(frame: Buffer): void {
    if (frame.length < 4)
      return this.#fail(new ClientError('PROTOCOL_ERROR', `short frame from ${this.#address()}`));
    const correlationId = frame.readInt32BE(0);
    const pending = this.#pending.get(correlationId);
    if (pending === undefined) {
      return this.#fail(
        new ClientError('PROTOCOL_ERROR', `${this.#address()} sent unknown correlation id ${correlationId}`),
      );
    }
    this.#pending.delete(correlationId);
    clearTimeout(pending.timer);
    let version = pending.version;
    // An UNSUPPORTED_VERSION answer to ApiVersions is v0-shaped whatever version was asked for.
    if (
      pending.api.apiKey === ApiVersions.apiKey &&
      frame.length >= 6 &&
      frame.readInt16BE(4) === ErrorCode.UNSUPPORTED_VERSION
    ) {
      version = 0;
    }
    try {
      pending.resolve(decodeResponse(pending.api, version, frame).body);
    } catch (error) {
      const message = error instanceof ProtocolError ? error.message : String(error);
      pending.reject(
        new ClientError('PROTOCOL_ERROR', `${pending.api.name} v${version} response: ${message}`, {
          cause: error,
        }),
      );
    }
  }

  #fail(error: Error, graceful = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(error);
    }
    // A client-side close lets written requests (acks=0 produce) leave before the FIN.
    if (graceful) this.#socket?.end();
    else this.#socket?.destroy();
    for (const listener of this.#closeListeners.splice(0)) listener(error);
  }

  /** Closes the socket; waiting requests reject with CONNECTION_CLOSED. */
  close(): void {
    this.#fail(
      new ClientError('CONNECTION_CLOSED', `connection to ${this.#address()} closed by the client`),
      true,
    );
  }

  #address(): string {
    return `${this.host}:${this.port}`;
  }
}
