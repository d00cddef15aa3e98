// Generated codec throughput on the broker's hot messages: decode and encode of a Produce request (v7 and
// v9) and of a Fetch response (v11 and v12), with 1 partition of 16 KiB records and with 16 such partitions.
// Rates are MB/s (10^6 bytes) of whole frames, next to a memcpy (Buffer.copy into a reused buffer) and an
// alloc+memcpy (Buffer.from: a fresh buffer, as a single-Buffer encode needs) of the same size, measured in
// the same run. Decoding leaves the records as slices of the frame; "encode" builds one Buffer (records
// copied once), and "encode chunks" builds writev chunks without copying records (Produce: record Buffers by
// reference; Fetch: records as RecordsRefs, the sendfile path).
//
//   npx tsx bench/protocol-codec.bench.ts        (compiled: node dist/bench/protocol-codec.bench.js)
import Benchmark from 'benchmark';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeRequestChunks,
  encodeResponse,
  encodeResponseChunks,
} from '../src/protocol/frame.js';
import {
  Fetch,
  Produce,
  type FetchResponse,
  type ProduceRequest,
  type Records,
} from '../src/protocol/messages/index.js';

const RECORDS = randomBytes(16 * 1024);

function produce(partitions: number): ProduceRequest {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [
      {
        name: 'bench-topic',
        partitionData: Array.from({ length: partitions }, (_, index) => ({ index, records: RECORDS })),
      },
    ],
  };
}

function fetch(partitions: number, records: Records): FetchResponse<Records> {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 'bench-topic',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({
          partitionIndex,
          errorCode: 0,
          highWatermark: 123456n,
          lastStableOffset: 123456n,
          logStartOffset: 0n,
          divergingEpoch: { epoch: -1, endOffset: -1n },
          currentLeader: { leaderId: -1, leaderEpoch: -1 },
          snapshotId: { endOffset: -1n, epoch: -1 },
          abortedTransactions: [],
          preferredReadReplica: -1,
          records,
        })),
      },
    ],
    nodeEndpoints: [],
  };
}

interface Case {
  group: string;
  name: string;
  size: number;
  run: () => unknown;
}

const cases: Case[] = [];
let sink = 0;

for (const partitions of [1, 16]) {
  for (const version of [7, 9]) {
    const body = produce(partitions);
    const frame = encodeRequest(Produce, version, 1, 'bench', body);
    const group = `Produce v${version} request, ${partitions} x 16 KiB`;
    const inner = frame.subarray(4);
    cases.push({ group, name: 'decode', size: frame.length, run: () => decodeRequest(inner) });
    cases.push({
      group,
      name: 'encode',
      size: frame.length,
      run: () => encodeRequest(Produce, version, 1, 'bench', body),
    });
    cases.push({
      group,
      name: 'encode chunks',
      size: frame.length,
      run: () => encodeRequestChunks(Produce, version, 1, 'bench', body),
    });
  }
  for (const version of [11, 12]) {
    const body = fetch(partitions, RECORDS);
    const frame = encodeResponse(Fetch, version, 1, body) as Buffer;
    const group = `Fetch v${version} response, ${partitions} x 16 KiB`;
    const inner = frame.subarray(4);
    const refs = fetch(partitions, { byteLength: RECORDS.length });
    cases.push({
      group,
      name: 'decode',
      size: frame.length,
      run: () => decodeResponse(Fetch, version, inner),
    });
    cases.push({
      group,
      name: 'encode',
      size: frame.length,
      run: () => encodeResponse(Fetch, version, 1, body),
    });
    cases.push({
      group,
      name: 'encode chunks',
      size: frame.length,
      run: () => encodeResponseChunks(Fetch, version, 1, refs),
    });
  }
}
for (const group of [...new Set(cases.map((c) => c.group))]) {
  const size = cases.find((c) => c.group === group)!.size;
  const from = randomBytes(size);
  const to = Buffer.allocUnsafe(size);
  cases.push({ group, name: 'memcpy', size, run: () => (sink ^= from.copy(to)) });
  // What "encode" must at least do: a fresh allocation of the frame's size, filled by one copy.
  cases.push({ group, name: 'alloc+memcpy', size, run: () => (sink ^= Buffer.from(from).length) });
}

const results = new Map<string, number>();
const suite = new Benchmark.Suite('protocol-codec');
for (const c of cases) {
  suite.add(`${c.group} ${c.name}`, c.run, {
    maxTime: 1,
    minSamples: 5,
    onComplete(event: Benchmark.Event) {
      const bench = event.target as unknown as Benchmark;
      results.set(`${c.group}/${c.name}`, ((bench.hz ?? 0) * c.size) / 1e6);
    },
  });
}
suite.run();

console.log(`${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}`);
const names = ['decode', 'encode', 'encode chunks', 'memcpy', 'alloc+memcpy'];
console.log(`| message | frame bytes | ${names.join(' MB/s | ')} MB/s |`);
console.log(`| --- | ---: | ${names.map(() => '---:').join(' | ')} |`);
for (const group of [...new Set(cases.map((c) => c.group))]) {
  const size = cases.find((c) => c.group === group)!.size;
  const row = names.map((n) => {
    const v = results.get(`${group}/${n}`);
    return v === undefined ? '' : v.toFixed(0);
  });
  console.log(`| ${group} | ${size} | ${row.join(' | ')} |`);
}
if (sink === 0.5) console.log(sink);
