// Our RecordBatch codec against real clients, for every compression codec, in both directions:
//   kafka-python 2.0.2 -> us     DefaultRecordBatchBuilder builds batches offline; we decode them.
//   librdkafka 2.0.2 -> us       kcat produces with -z <codec> through a capture proxy to librdkafka's mock
//                                cluster; we decode the records of the Produce request it sent.
//   us -> kafka-python           its DefaultRecordBatch reader checks the CRC and reads our batches offline.
//   us -> librdkafka             we Produce our batches to the mock cluster (which stores them verbatim) and
//                                kcat consumes them, so librdkafka decompresses and parses them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import {
  CompressionType,
  buildRecordBatch,
  compressionOf,
  decodeRecordBatch,
  isRecordBatchCrcValid,
  iterateBatches,
  type RecordInput,
} from '../../src/protocol/records/record-batch.js';
import { startCaptureProxy, type CaptureProxy } from '../tools/capture-proxy.js';
import { startMockCluster, type MockCluster } from '../tools/mock-cluster.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
type Codec = (typeof CODECS)[number];
const CODEC_TYPE: { [C in Codec]: CompressionType } = {
  none: CompressionType.NONE,
  gzip: CompressionType.GZIP,
  snappy: CompressionType.SNAPPY,
  lz4: CompressionType.LZ4,
  zstd: CompressionType.ZSTD,
};

interface Expected {
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
  timestamp: number;
}

/** Compressible records (kafka-python sends uncompressed when compression would not shrink the batch). */
function sampleRecords(codec: string, count = 20): Expected[] {
  return Array.from({ length: count }, (_, i) => ({
    key: i % 5 === 3 ? null : `key-${codec}-${i}`,
    value: i % 7 === 4 ? null : i % 7 === 5 ? '' : `value ${codec} ${i} `.repeat(1 + (i % 4) * 30),
    headers: i % 3 === 0 ? [] : [[`h${i}`, i % 2 ? `hv${i}` : null]],
    timestamp: 1_700_000_000_000 + i * 17,
  }));
}

const toInput = (r: Expected): RecordInput => ({
  key: r.key === null ? null : Buffer.from(r.key),
  value: r.value === null ? null : Buffer.from(r.value),
  headers: r.headers.map(([key, value]) => ({ key, value: value === null ? null : Buffer.from(value) })),
  timestamp: r.timestamp,
});

async function decodeToExpected(batch: Buffer): Promise<Expected[]> {
  const { records } = await decodeRecordBatch(batch);
  return records.map((r) => ({
    key: r.key === null ? null : r.key.toString(),
    value: r.value === null ? null : r.value.toString(),
    headers: r.headers.map(
      (h) => [h.key, h.value === null ? null : h.value.toString()] as [string, string | null],
    ),
    timestamp: r.timestamp,
  }));
}

/** Runs a command with `input` on its stdin; resolves to its stdout, rejects on a non-zero exit. */
function runWithInput(command: string, args: string[], input: string): Promise<string> {
  const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  const output = new Promise<string>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${command} exit ${code ?? signal}: ${stderr}`)),
    );
  });
  child.stdin!.end(input);
  return output;
}

async function python(script: string, input: unknown): Promise<unknown> {
  return JSON.parse(await runWithInput(PYTHON, ['-c', script], JSON.stringify(input)));
}

const KAFKA_PYTHON_BUILD = `
import json, sys
from kafka.record.default_records import DefaultRecordBatchBuilder
codes = {'none': 0, 'gzip': 1, 'snappy': 2, 'lz4': 3, 'zstd': 4}
out = {}
for codec, records in json.load(sys.stdin).items():
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=codes[codec], is_transactional=0,
                                        producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=1 << 24)
    for i, r in enumerate(records):
        enc = lambda s: None if s is None else s.encode()
        builder.append(i, timestamp=r['timestamp'], key=enc(r['key']), value=enc(r['value']),
                       headers=[(k, enc(v)) for k, v in r['headers']])
    out[codec] = bytes(builder.build()).hex()
json.dump(out, sys.stdout)
`;

const KAFKA_PYTHON_READ = `
import json, sys
from kafka.record.default_records import DefaultRecordBatch
out = {}
for codec, hexbatch in json.load(sys.stdin).items():
    batch = DefaultRecordBatch(bytes.fromhex(hexbatch))
    dec = lambda b: None if b is None else b.decode()
    out[codec] = {
        'crc_ok': batch.validate_crc(),
        'compression': batch.compression_type,
        'records': [{'key': dec(r.key), 'value': dec(r.value), 'timestamp': r.timestamp, 'offset': r.offset,
                     'headers': [[k, dec(v)] for k, v in r.headers]} for r in batch],
    }
json.dump(out, sys.stdout)
`;

// --- a minimal Produce v3 request, written by hand so this test does not depend on the generated codecs ---

function kafkaString(s: string): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(s));
  b.writeInt16BE(Buffer.byteLength(s), 0);
  b.write(s, 2);
  return b;
}

function produceRequest(correlationId: number, topic: string, partition: number, records: Buffer): Buffer {
  const int16 = (v: number) => Buffer.from([(v >> 8) & 0xff, v & 0xff]);
  const int32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v, 0);
    return b;
  };
  const body = Buffer.concat([
    int16(0), // apiKey Produce
    int16(3), // apiVersion
    int32(correlationId),
    kafkaString('fjord-codec-interop'),
    int16(-1), // transactional_id null
    int16(-1), // acks all
    int32(10_000), // timeout
    int32(1), // one topic
    kafkaString(topic),
    int32(1), // one partition
    int32(partition),
    int32(records.length),
    records,
  ]);
  return Buffer.concat([int32(body.length), body]);
}

/** Sends one Produce v3 request and returns the partition's error code and base offset. */
async function produceRaw(bootstrap: string, topic: string, records: Buffer): Promise<[number, bigint]> {
  const [host, port] = bootstrap.split(',')[0]!.split(':') as [string, string];
  const socket = connect({ host, port: Number(port) });
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(produceRequest(7, topic, 0, records));
    let response = Buffer.alloc(0);
    for await (const chunk of socket) {
      response = Buffer.concat([response, chunk as Buffer]);
      if (response.length >= 4 && response.length >= 4 + response.readInt32BE(0)) break;
    }
    // size, correlationId, [topics] count, name, [partitions] count, index, errorCode, baseOffset, ...
    let pos = 4;
    assert.equal(response.readInt32BE(pos), 7);
    pos += 4 + 4;
    pos += 2 + response.readInt16BE(pos);
    pos += 4 + 4;
    return [response.readInt16BE(pos), response.readBigInt64BE(pos + 2)];
  } finally {
    socket.destroy();
  }
}

/** The records field of each partition of a Produce v3-v8 request frame (with its size prefix). */
function produceRecords(frame: Buffer): Buffer[] {
  let pos = 4 + 2 + 2 + 4;
  const clientIdLength = frame.readInt16BE(pos);
  pos += 2 + Math.max(0, clientIdLength);
  const transactionalIdLength = frame.readInt16BE(pos);
  pos += 2 + Math.max(0, transactionalIdLength);
  pos += 2 + 4; // acks, timeout
  const out: Buffer[] = [];
  for (let topics = frame.readInt32BE(pos), t = ((pos += 4), 0); t < topics; t++) {
    pos += 2 + frame.readInt16BE(pos);
    for (let partitions = frame.readInt32BE(pos), p = ((pos += 4), 0); p < partitions; p++) {
      pos += 4;
      const length = frame.readInt32BE(pos);
      pos += 4;
      out.push(frame.subarray(pos, pos + length));
      pos += length;
    }
  }
  return out;
}

let cluster: MockCluster;
let proxy: CaptureProxy;

before(async () => {
  cluster = await startMockCluster({
    topics: [...CODECS.map((c) => `from-kcat-${c}`), ...CODECS.map((c) => `to-kcat-${c}`)],
  });
  proxy = await startCaptureProxy({ upstream: cluster.bootstrap });
});

after(async () => {
  await proxy?.stop();
  await cluster?.stop();
});

test('batches built by kafka-python decode with every codec', async () => {
  const input = Object.fromEntries(CODECS.map((c) => [c, sampleRecords(c)]));
  const built = (await python(KAFKA_PYTHON_BUILD, input)) as { [C in Codec]: string };
  for (const codec of CODECS) {
    const batch = Buffer.from(built[codec], 'hex');
    assert.equal(isRecordBatchCrcValid(batch), true, codec);
    assert.equal(compressionOf(batch.readInt16BE(21)), CODEC_TYPE[codec], `${codec} was really compressed`);
    assert.deepEqual(await decodeToExpected(batch), input[codec], codec);
  }
});

test('batches we build are read by kafka-python with every codec', async () => {
  const input = Object.fromEntries(CODECS.map((c) => [c, sampleRecords(c)]));
  const ours: { [codec: string]: string } = {};
  for (const codec of CODECS) {
    const batch = await buildRecordBatch(input[codec]!.map(toInput), {
      compression: CODEC_TYPE[codec],
      baseOffset: 40,
    });
    ours[codec] = batch.toString('hex');
  }
  const read = (await python(KAFKA_PYTHON_READ, ours)) as {
    [codec: string]: { crc_ok: boolean; compression: number; records: (Expected & { offset: number })[] };
  };
  for (const codec of CODECS) {
    const result = read[codec]!;
    assert.equal(result.crc_ok, true, codec);
    assert.equal(result.compression, CODEC_TYPE[codec], codec);
    assert.deepEqual(
      result.records.map((r) => r.offset),
      input[codec]!.map((_, i) => 40 + i),
    );
    assert.deepEqual(
      result.records.map(({ key, value, headers, timestamp }) => ({ key, value, headers, timestamp })),
      input[codec],
      codec,
    );
  }
});

test('batches librdkafka (kcat -z) produces decode with every codec', async () => {
  for (const codec of CODECS) {
    const topic = `from-kcat-${codec}`;
    const lines = Array.from(
      { length: 30 },
      (_, i) => `k${i}:librdkafka ${codec} value ${i} ${'x'.repeat(i * 10)}`,
    );
    proxy.setLabel(codec);
    await runWithInput(
      'kcat',
      ['-b', proxy.bootstrap, '-P', '-t', topic, '-p', '0', '-K:', '-z', codec, '-X', 'linger.ms=200'],
      lines.join('\n') + '\n',
    );
    const produces = proxy.frames.filter(
      (f) => f.direction === 'request' && f.apiKey === 0 && f.label === codec,
    );
    assert.ok(produces.length > 0, `captured a Produce request for ${codec}`);
    const seen: string[] = [];
    for (const frame of produces) {
      assert.ok(frame.apiVersion >= 3 && frame.apiVersion <= 8, `Produce v${frame.apiVersion}`);
      for (const records of produceRecords(frame.bytes)) {
        for (const { position, size, header } of iterateBatches(records)) {
          const batch = records.subarray(position, position + size);
          assert.equal(isRecordBatchCrcValid(batch), true);
          assert.equal(compressionOf(header.attributes), CODEC_TYPE[codec], `${codec} batch compression`);
          for (const r of (await decodeRecordBatch(batch)).records) {
            seen.push(`${r.key!.toString()}:${r.value!.toString()}`);
          }
        }
      }
    }
    assert.deepEqual(seen, lines, codec);
  }
});

test('batches we build are consumed by librdkafka (kcat) with every codec', async () => {
  for (const codec of CODECS) {
    const topic = `to-kcat-${codec}`;
    const records = sampleRecords(codec, 25).map((r) => ({ ...r, value: r.value ?? 'v' }));
    // Two batches, so librdkafka walks past the first one's (compressed) end correctly.
    const first = await buildRecordBatch(records.slice(0, 10).map(toInput), {
      compression: CODEC_TYPE[codec],
    });
    const second = await buildRecordBatch(records.slice(10).map(toInput), { compression: CODEC_TYPE[codec] });
    assert.deepEqual(await produceRaw(cluster.bootstrap, topic, first), [0, 0n]);
    assert.deepEqual(await produceRaw(cluster.bootstrap, topic, second), [0, 10n]);
    const { stdout } = await run(
      'kcat',
      ['-b', cluster.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-J'],
      { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
    );
    const consumed = stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            offset: number;
            key: string | null;
            payload: string | null;
            ts: number;
            headers?: (string | null)[];
          },
      );
    assert.deepEqual(
      consumed.map((m) => m.offset),
      records.map((_, i) => i),
      codec,
    );
    assert.deepEqual(
      consumed.map((m) => ({ key: m.key, value: m.payload, timestamp: m.ts, headers: m.headers ?? [] })),
      records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers.flat() })),
      codec,
    );
  }
});
