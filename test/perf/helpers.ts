import net from 'node:net';
import { Histogram } from '../../src/perf/histogram.js';
import { defaultOptions } from '../../src/perf/options.js';
import type { PerfResult } from '../../src/perf/run.js';
import { decodeRequest, encodeResponse } from '../../src/protocol/frame.js';
import { ApiVersions } from '../../src/protocol/messages/api-versions.js';
import { Metadata } from '../../src/protocol/messages/metadata.js';
import { Produce, type ProduceRequest } from '../../src/protocol/messages/produce.js';

/** A made-up produce result: `rate` records/s of 100 B for `seconds`, latencies 1..latencyMaxUs µs. */
export function fakeResult(rate: number, latencyMaxUs: number, seconds = 5): PerfResult {
  const h = new Histogram();
  for (let v = 1; v <= latencyMaxUs; v++) h.record(v);
  const records = rate * seconds;
  return {
    tool: 'fjord perf',
    version: 1,
    mode: 'produce',
    status: 'ok',
    fatal: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationSec: seconds,
    options: defaultOptions('produce'),
    topic: { name: 'fjord-perf', partitions: 1, created: true },
    produce: {
      records,
      bytes: records * 100,
      requests: records / 100,
      recordsPerSec: rate,
      mbPerSec: (rate * 100) / 1e6,
      errors: {},
      errorCount: 0,
    },
    consume: null,
    latencyKind: 'produce',
    latency: h.summary(),
    latencyCurve: h.percentileCurve(),
    series: Array.from({ length: seconds }, (_, i) => ({
      t: i + 1,
      produceRecords: rate,
      produceBytes: rate * 100,
      consumeRecords: 0,
      consumeBytes: 0,
      errors: 0,
      p50: latencyMaxUs / 2000,
      p99: (latencyMaxUs * 0.99) / 1000,
      max: latencyMaxUs / 1000,
    })),
  };
}

/**
 * A stand-in broker on a free port that knows ApiVersions, Metadata (topic fjord-perf, one partition) and
 * Produce (every batch accepted, answered `produceDelayMs` late); anything else closes the connection.
 */
export async function startStandInBroker(
  options: { produceDelayMs?: number } = {},
): Promise<{ server: net.Server; port: number; produceRequests: () => number }> {
  let produceRequests = 0;
  let nextOffset = 0n;
  const server = net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const frame = buffered.subarray(4, 4 + buffered.readInt32BE(0));
        buffered = buffered.subarray(4 + frame.length);
        const { header, body } = decodeRequest(frame);
        const { apiKey, apiVersion, correlationId } = header;
        if (apiKey === ApiVersions.apiKey) {
          const ranges = [
            [0, 3, 8],
            [3, 1, 9],
            [18, 0, 3],
          ].map(([key, min, max]) => ({ apiKey: key!, minVersion: min!, maxVersion: max! }));
          socket.write(
            encodeResponse(ApiVersions, apiVersion, correlationId, {
              errorCode: 0,
              apiKeys: ranges,
              throttleTimeMs: 0,
              supportedFeatures: [],
              finalizedFeaturesEpoch: -1n,
              finalizedFeatures: [],
              zkMigrationReady: false,
            }) as Buffer,
          );
        } else if (apiKey === Metadata.apiKey) {
          socket.write(
            encodeResponse(Metadata, apiVersion, correlationId, {
              throttleTimeMs: 0,
              brokers: [
                {
                  nodeId: 0,
                  host: '127.0.0.1',
                  port: (server.address() as net.AddressInfo).port,
                  rack: null,
                },
              ],
              clusterId: null,
              controllerId: 0,
              topics: [
                {
                  errorCode: 0,
                  name: 'fjord-perf',
                  topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
                  isInternal: false,
                  partitions: [
                    {
                      errorCode: 0,
                      partitionIndex: 0,
                      leaderId: 0,
                      leaderEpoch: 0,
                      replicaNodes: [0],
                      isrNodes: [0],
                      offlineReplicas: [],
                    },
                  ],
                  topicAuthorizedOperations: -2147483648,
                },
              ],
              clusterAuthorizedOperations: -2147483648,
            }) as Buffer,
          );
        } else if (apiKey === Produce.apiKey) {
          produceRequests++;
          const request = body as ProduceRequest;
          const response = encodeResponse(Produce, apiVersion, correlationId, {
            responses: request.topicData.map((topic) => ({
              name: topic.name,
              partitionResponses: topic.partitionData.map((p) => ({
                index: p.index,
                errorCode: 0,
                baseOffset: nextOffset++,
                logAppendTimeMs: -1n,
                logStartOffset: 0n,
                recordErrors: [],
                errorMessage: null,
                currentLeader: { leaderId: -1, leaderEpoch: -1 },
              })),
            })),
            throttleTimeMs: 0,
            nodeEndpoints: [],
          }) as Buffer;
          setTimeout(() => socket.write(response), options.produceDelayMs ?? 0);
        } else socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { server, port, produceRequests: () => produceRequests };
}
