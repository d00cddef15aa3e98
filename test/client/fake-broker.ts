// A scripted broker for connection-layer tests: decodes each request with the generated codecs and answers
// with whatever the test's handler returns (a response body, `{ hold: body }` to send it later, or nothing),
// optionally reordering answers. Lets tests force errors real brokers produce only under failures.
import net from 'node:net';
import { decodeRequest, encodeResponse } from '../../src/protocol/frame.js';
import type { RequestHeader } from '../../src/protocol/headers.js';
import {
  ApiVersions,
  Metadata,
  apis,
  defaultMetadataResponse,
  defaultMetadataResponseBroker,
  defaultMetadataResponsePartition,
  defaultMetadataResponseTopic,
  type MetadataResponse,
} from '../../src/protocol/messages/index.js';

export interface FakeRequest {
  header: RequestHeader;
  body: unknown;
}

/** A response body; `{ hold: body }` keeps it until release(); undefined sends nothing. */
export type FakeAnswer = object | undefined | { hold: object };

export interface FakeBroker {
  port: number;
  bootstrap: string;
  requests: FakeRequest[];
  /** Releases held answers in the given order of correlation ids. */
  release(order: number[]): void;
  close(): Promise<void>;
}

export async function startFakeBroker(handle: (request: FakeRequest) => FakeAnswer): Promise<FakeBroker> {
  const requests: FakeRequest[] = [];
  const held = new Map<number, () => void>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + frame.length);
        const { header, body } = decodeRequest(frame);
        const request = { header, body };
        requests.push(request);
        const answer = handle(request);
        if (answer === undefined) continue;
        const send = (body: object) => {
          const api = apis.get(header.apiKey)!;
          socket.write(encodeResponse(api, header.apiVersion, header.correlationId, body) as Buffer);
        };
        if ('hold' in answer) {
          const body = answer.hold;
          held.set(header.correlationId, () => send(body));
        } else send(answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    bootstrap: `127.0.0.1:${port}`,
    requests,
    release(order) {
      for (const id of order) held.get(id)?.();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An ApiVersions response advertising every API the codecs know, or the given ranges. */
export function apiVersionsResponse(ranges?: Map<number, [number, number]>): object {
  const apiKeys = ranges
    ? [...ranges].map(([apiKey, [minVersion, maxVersion]]) => ({ apiKey, minVersion, maxVersion }))
    : [...apis.values()].map((a) => ({
        apiKey: a.apiKey,
        minVersion: a.minVersion,
        maxVersion: a.maxVersion,
      }));
  return {
    errorCode: 0,
    apiKeys,
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}

/** Metadata naming this fake as broker 1, leader of every partition of `topics`. */
export function metadataResponse(port: number, topics: Record<string, number>): MetadataResponse {
  return {
    ...defaultMetadataResponse(),
    brokers: [{ ...defaultMetadataResponseBroker(), nodeId: 1, host: '127.0.0.1', port }],
    clusterId: 'fake',
    controllerId: 1,
    topics: Object.entries(topics).map(([name, count]) => ({
      ...defaultMetadataResponseTopic(),
      name,
      partitions: Array.from({ length: count }, (_, i) => ({
        ...defaultMetadataResponsePartition(),
        partitionIndex: i,
        leaderId: 1,
        replicaNodes: [1],
        isrNodes: [1],
      })),
    })),
  };
}

export { ApiVersions, Metadata };
