// A loopback TCP proxy that loses Produce responses: it forwards every request to the broker, and for every
// Nth Produce response it cuts the connection instead of delivering it. The client never learns that its
// batch was written and sends it again, which is exactly the retry an idempotent producer must survive.
//
// Run the broker with `advertised.listeners=PLAINTEXT://127.0.0.1:<proxy.port>` so clients keep coming back
// through the proxy after bootstrap. The upstream port can change (a restarted broker on a new port);
// while the broker is down, new connections are refused by closing them.
import { connect, createServer, type Server, type Socket } from 'node:net';

const API_PRODUCE = 0;

export interface ChaosProxyOptions {
  upstreamPort: number;
  /** Cut the connection instead of delivering every Nth Produce response (0: never). */
  cutProduceResponseEvery: number;
}

export interface ChaosProxy {
  port: number;
  bootstrap: string;
  /** Produce responses seen, and how many of them were cut. */
  readonly produceResponses: number;
  readonly cuts: number;
  setUpstream(port: number): void;
  /** Closes every open connection now (as a broker restart would). */
  cutAll(): void;
  stop(): Promise<void>;
}

/** Splits a byte stream into size-prefixed frames. */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = 4 + pending.readInt32BE(0);
      if (pending.length < size) break;
      onFrame(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
  };
}

export async function startChaosProxy(options: ChaosProxyOptions): Promise<ChaosProxy> {
  let upstreamPort = options.upstreamPort;
  let produceResponses = 0;
  let cuts = 0;
  const open = new Set<Socket>();

  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    open.add(client).add(upstream);
    const apiKeys = new Map<number, number>();
    const close = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.on(
      'data',
      framer((frame) => {
        // Request header: size, apiKey int16, apiVersion int16, correlationId int32.
        apiKeys.set(frame.readInt32BE(8), frame.readInt16BE(4));
        upstream.write(frame);
      }),
    );
    upstream.on(
      'data',
      framer((frame) => {
        const correlationId = frame.readInt32BE(4);
        const apiKey = apiKeys.get(correlationId);
        apiKeys.delete(correlationId);
        if (apiKey === API_PRODUCE) {
          produceResponses++;
          if (
            options.cutProduceResponseEvery > 0 &&
            produceResponses % options.cutProduceResponseEvery === 0
          ) {
            cuts++;
            close();
            return;
          }
        }
        if (!client.destroyed) client.write(frame);
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const cutAll = () => {
    for (const socket of open) socket.destroy();
    open.clear();
  };
  return {
    port,
    bootstrap: `127.0.0.1:${port}`,
    get produceResponses() {
      return produceResponses;
    },
    get cuts() {
      return cuts;
    },
    setUpstream(next) {
      upstreamPort = next;
    },
    cutAll,
    stop: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
