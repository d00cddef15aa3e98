// A tiny Kafka wire client for broker tests: one TCP connection, typed requests via the generated codecs,
// responses matched by correlation id (a broker answers in request order, but matching by id also catches a
// broker that does not).
//
//   const client = await WireClient.connect(broker.port);
//   const response = await client.send(CreateTopics, 7, { topics: [...], timeoutMs: 1000, validateOnly: false });
//   client.close();
import net from 'node:net';
import { decodeResponse, encodeRequest } from '../../src/protocol/frame.js';
import type { ApiDescriptor } from '../../src/protocol/messages/common.js';

interface Pending {
  api: ApiDescriptor;
  version: number;
  resolve: (body: unknown) => void;
  reject: (error: Error) => void;
}

export class WireClient {
  readonly #socket: net.Socket;
  readonly #pending = new Map<number, Pending>();
  #buffered: Buffer = Buffer.alloc(0);
  #nextCorrelationId = 1;
  #closed: Error | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (data) => this.#onData(data));
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('connection closed by the broker')));
  }

  static async connect(port: number, host = '127.0.0.1', clientId = 'wire-client'): Promise<WireClient> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new WireClient(socket);
    client.clientId = clientId;
    return client;
  }

  clientId: string | null = 'wire-client';

  /** Whether the broker closed the connection (or it failed). */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Sends one request and resolves to its decoded response body. */
  send<Req, Resp, ReqIn, RespIn>(
    api: ApiDescriptor<Req, Resp, ReqIn, RespIn>,
    version: number,
    body: ReqIn,
  ): Promise<Resp> {
    if (this.#closed) return Promise.reject(this.#closed);
    const correlationId = this.#nextCorrelationId++;
    const frame = encodeRequest(api, version, correlationId, this.clientId, body);
    return new Promise<Resp>((resolve, reject) => {
      this.#pending.set(correlationId, {
        api: api as ApiDescriptor,
        version,
        resolve: resolve as (body: unknown) => void,
        reject,
      });
      this.#socket.write(frame);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(data: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? data : Buffer.concat([this.#buffered, data]);
    while (this.#buffered.length >= 4) {
      const size = this.#buffered.readInt32BE(0);
      if (this.#buffered.length < 4 + size) return;
      const frame = this.#buffered.subarray(4, 4 + size);
      this.#buffered = this.#buffered.subarray(4 + size);
      const correlationId = frame.readInt32BE(0);
      const pending = this.#pending.get(correlationId);
      if (!pending) {
        this.#fail(new Error(`response with unknown correlation id ${correlationId}`));
        return;
      }
      this.#pending.delete(correlationId);
      try {
        pending.resolve(decodeResponse(pending.api, pending.version, frame).body);
      } catch (error) {
        pending.reject(error as Error);
      }
    }
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
