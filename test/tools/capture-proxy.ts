// A loopback TCP proxy that sits between a Kafka client and a broker and records every request and
// response frame. It parses only the header bytes itself (apiKey, apiVersion, correlationId, clientId),
// so it works for any API and version and needs none of the generated codecs.
//
// Kafka clients connect to the addresses brokers advertise in Metadata/FindCoordinator responses, which
// would route them around the proxy after bootstrap. So there is one listener per upstream broker, and in
// those responses the proxy replaces each upstream "host + int32 port" byte pattern with its own listener's
// port (same length, so frame sizes never change). Recorded frames are always the bytes as the broker sent
// them, before that rewrite.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

export type Direction = 'request' | 'response';

export interface CapturedFrame {
  /** Order of arrival across all connections, from 0. */
  seq: number;
  /** Proxy connection number, from 0. */
  connection: number;
  direction: Direction;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Request header v1+ client id (null when the client sent a null string); undefined for responses. */
  clientId?: string | null;
  /** Whatever label was current (setLabel) when the request was seen; responses inherit their request's. */
  label?: string;
  /** The whole frame including its 4-byte size prefix. */
  bytes: Buffer;
  /** Set when the proxy writes frames to outDir. */
  file?: string;
}

export interface CaptureProxyOptions {
  /** The broker(s) to forward to: "host:port[,host:port...]". */
  upstream: string;
  /** When given, every frame is also written here as <seq>-<direction>-<apiKey>-v<version>-c<corr>.bin. */
  outDir?: string;
  /** Rewrite advertised broker ports in Metadata/FindCoordinator/DescribeCluster responses (default true). */
  rewriteAdvertisedPorts?: boolean;
}

export interface CaptureProxy {
  /** Bootstrap string for clients: the proxy listener of every upstream broker. */
  bootstrap: string;
  /** Frames seen so far, in arrival order. */
  frames: CapturedFrame[];
  /** Tags subsequent requests (and their responses) with a label, e.g. the codec being produced. */
  setLabel(label: string | undefined): void;
  stop(): Promise<void>;
}

interface Endpoint {
  host: string;
  port: number;
}

const API_METADATA = 3;
const API_FIND_COORDINATOR = 10;
const API_DESCRIBE_CLUSTER = 60;
const REWRITTEN_APIS = new Set([API_METADATA, API_FIND_COORDINATOR, API_DESCRIBE_CLUSTER]);

function parseEndpoints(list: string): Endpoint[] {
  return list.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    const port = Number(entry.slice(at + 1));
    if (at <= 0 || !Number.isInteger(port)) throw new Error(`capture-proxy: bad upstream "${entry}"`);
    return { host: entry.slice(0, at), port };
  });
}

/** Splits a byte stream into size-prefixed frames; keeps the remainder for the next chunk. */
class FrameSplitter {
  #pending: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: Buffer[] = [];
    while (this.#pending.length >= 4) {
      const size = this.#pending.readInt32BE(0);
      if (size < 0) throw new Error(`capture-proxy: negative frame size ${size}`);
      if (this.#pending.length < 4 + size) break;
      frames.push(this.#pending.subarray(0, 4 + size));
      this.#pending = this.#pending.subarray(4 + size);
    }
    return frames;
  }
}

function replaceAll(frame: Buffer, pattern: Buffer, replacement: Buffer): Buffer {
  let at = frame.indexOf(pattern);
  if (at < 0) return frame;
  const out = Buffer.from(frame);
  while (at >= 0) {
    replacement.copy(out, at);
    at = out.indexOf(pattern, at + pattern.length);
  }
  return out;
}

function endpointBytes(host: string, port: number): Buffer {
  const portBytes = Buffer.alloc(4);
  portBytes.writeInt32BE(port);
  return Buffer.concat([Buffer.from(host, 'utf8'), portBytes]);
}

export async function startCaptureProxy(options: CaptureProxyOptions): Promise<CaptureProxy> {
  const upstreams = parseEndpoints(options.upstream);
  const rewrite = options.rewriteAdvertisedPorts ?? true;
  if (options.outDir) mkdirSync(options.outDir, { recursive: true });
  const frames: CapturedFrame[] = [];
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const listenPorts: number[] = [];
  let label: string | undefined;
  let seq = 0;
  let connections = 0;

  const record = (frame: Omit<CapturedFrame, 'seq' | 'file'>): CapturedFrame => {
    const captured: CapturedFrame = { seq: seq++, ...frame };
    if (options.outDir) {
      const name = `${String(captured.seq).padStart(5, '0')}-${frame.direction}-${frame.apiKey}-v${frame.apiVersion}-c${frame.correlationId}.bin`;
      captured.file = join(options.outDir, name);
      writeFileSync(captured.file, frame.bytes);
    }
    frames.push(captured);
    return captured;
  };

  const rewritePatterns = () =>
    upstreams.map((up, i) => ({
      from: endpointBytes(up.host, up.port),
      to: endpointBytes(up.host, listenPorts[i] ?? up.port),
    }));

  const handle = (client: Socket, upstream: Endpoint) => {
    const connection = connections++;
    const server = connect(upstream.port, upstream.host);
    sockets.add(client);
    sockets.add(server);
    // correlationId -> request header, to label responses (which carry only the correlation id)
    const inFlight = new Map<number, { apiKey: number; apiVersion: number; label?: string }>();
    const fromClient = new FrameSplitter();
    const fromServer = new FrameSplitter();
    const closeBoth = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };

    client.on('data', (chunk: Buffer) => {
      for (const frame of fromClient.push(chunk)) {
        const apiKey = frame.readInt16BE(4);
        const apiVersion = frame.readInt16BE(6);
        const correlationId = frame.readInt32BE(8);
        let clientId: string | null | undefined;
        if (frame.length >= 14) {
          const length = frame.readInt16BE(12);
          clientId = length < 0 ? null : frame.toString('utf8', 14, 14 + length);
        }
        inFlight.set(correlationId, { apiKey, apiVersion, label });
        record({
          connection,
          direction: 'request',
          apiKey,
          apiVersion,
          correlationId,
          clientId,
          label,
          bytes: frame,
        });
        server.write(frame);
      }
    });
    server.on('data', (chunk: Buffer) => {
      for (const frame of fromServer.push(chunk)) {
        const correlationId = frame.readInt32BE(4);
        const request = inFlight.get(correlationId);
        inFlight.delete(correlationId);
        const apiKey = request?.apiKey ?? -1;
        record({
          connection,
          direction: 'response',
          apiKey,
          apiVersion: request?.apiVersion ?? -1,
          correlationId,
          label: request?.label,
          bytes: frame,
        });
        let out = frame;
        if (rewrite && REWRITTEN_APIS.has(apiKey)) {
          for (const { from, to } of rewritePatterns()) out = replaceAll(out, from, to);
        }
        client.write(out);
      }
    });
    client.on('error', closeBoth).on('close', closeBoth);
    server.on('error', closeBoth).on('close', closeBoth);
  };

  for (const upstream of upstreams) {
    const server = createServer((socket) => handle(socket, upstream));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('capture-proxy: no listen port');
    servers.push(server);
    listenPorts.push(address.port);
  }

  return {
    bootstrap: listenPorts.map((port) => `127.0.0.1:${port}`).join(','),
    frames,
    setLabel(next) {
      label = next;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
