// Re-captures the golden wire fixtures under test/fixtures/wire/ from real Kafka clients talking, through
// test/tools/capture-proxy.ts, to librdkafka's mock cluster (test/tools/mock-cluster.ts).
//
//   node --import tsx test/tools/capture-fixtures.ts [outDir]     (default test/fixtures/wire)
//
// Clients: kcat (librdkafka 2.0.2), kafkajs 2.2.4 (in this process), kafka-python 2.0.2 (/usr/bin/python3).
// For each client: produce two records per codec (key "k1"/"k2", value "golden-<codec>-1"/"-2") as one
// batch per codec, fetch them back, then consume with a consumer group and commit. The first request of each
// (API, version) is kept with its response (one Produce per codec, one Fetch per returned batch). A
// manifest.json lists every file with what it is expected to contain. Only Fetch selection uses the generated
// codecs (to read the fetch offset); everything else here works on raw header bytes.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { decodeRequestHeader, decodeResponse } from '../../src/protocol/frame.js';
import { Fetch } from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { startCaptureProxy, type CapturedFrame, type CaptureProxy } from './capture-proxy.js';
import { startMockCluster } from './mock-cluster.js';
import { repoRoot } from './repo-root.js';

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof CODECS)[number];
export const CLIENTS = ['kcat', 'kafkajs', 'kafka-python'] as const;
export type ClientName = (typeof CLIENTS)[number];

const API_NAMES: Record<number, string> = {
  0: 'produce',
  1: 'fetch',
  2: 'list-offsets',
  3: 'metadata',
  8: 'offset-commit',
  9: 'offset-fetch',
  10: 'find-coordinator',
  11: 'join-group',
  12: 'heartbeat',
  13: 'leave-group',
  14: 'sync-group',
  18: 'api-versions',
  19: 'create-topics',
  22: 'init-producer-id',
};

export interface ManifestEntry {
  file: string;
  client: ClientName;
  clientVersion: string;
  apiKey: number;
  apiName: string;
  apiVersion: number;
  direction: 'request' | 'response';
  correlationId: number;
  /** Request header client id as sent (requests only). */
  clientId?: string | null;
  /** Capture phase: a codec for produce, "fetch", "group", or "metadata". */
  phase: string;
  /** Expected contents, from what the capture script asked the client to do. */
  topic: string;
  partition: number;
  /** Produce: the codec the client was asked to use. Fetch: the codec of the batch the response carries. */
  codec?: Codec;
  /** Offset of the batch's first record (Produce response baseOffset, Fetch request fetchOffset). */
  baseOffset?: number;
  /** The batch's records, in order. */
  records?: { key: string; value: string }[];
  groupId?: string;
  protocolType?: string;
  protocolNames?: string[];
}

export const CLIENT_VERSIONS: Record<ClientName, string> = {
  kcat: 'kcat 1.7.1 / librdkafka 2.0.2',
  kafkajs: 'kafkajs 2.2.4',
  'kafka-python': 'kafka-python 2.0.2',
};

// The third record is long and repetitive on purpose: librdkafka and kafka-python send a batch uncompressed
// when compressing it would not make it smaller, so the batch must be compressible for the codec to show.
export const expectedRecords = (codec: Codec) => [
  { key: 'k1', value: `golden-${codec}-1` },
  { key: 'k2', value: `golden-${codec}-2` },
  { key: 'k3', value: `golden-${codec}-3:` + 'compressible-'.repeat(16) },
];
/** Offset of the first record of each codec's batch: batches were produced in CODECS order. */
export const TOTAL_RECORDS = CODECS.length * expectedRecords('none').length;
export const baseOffsetOf = (codec: Codec) => CODECS.indexOf(codec) * expectedRecords(codec).length;
export const topicFor = (client: ClientName) => `golden-${client}`;
export const groupFor = (client: ClientName) => `golden-${client}-group`;
export const clientIdFor = (client: ClientName) => `golden-${client}`;
/** Assignment strategies each client offers by default in JoinGroup, in the order it sends them. */
export const PROTOCOL_NAMES: Record<ClientName, string[]> = {
  kcat: ['range', 'roundrobin'],
  kafkajs: ['RoundRobinAssigner'],
  'kafka-python': ['range', 'roundrobin'],
};

function run(command: string, args: string[], input?: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout: timeoutMs, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(input ?? '');
  });
}

async function captureKcat(proxy: CaptureProxy): Promise<void> {
  const client = 'kcat';
  const base = ['-b', proxy.bootstrap, '-X', `client.id=${clientIdFor(client)}`];
  for (const codec of CODECS) {
    proxy.setLabel(codec);
    const input = expectedRecords(codec)
      .map((r) => `${r.key}:${r.value}`)
      .join('\n');
    // linger keeps the three records in one batch; -z sets compression.codec
    await run(
      'kcat',
      [...base, '-P', '-t', topicFor(client), '-p', '0', '-K:', '-z', codec, '-X', 'linger.ms=1000'],
      input + '\n',
    );
  }
  proxy.setLabel('fetch');
  const fetched = await run('kcat', [
    ...base,
    '-C',
    '-t',
    topicFor(client),
    '-p',
    '0',
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '%k=%s\n',
  ]);
  checkConsumed(client, fetched);
  proxy.setLabel('group');
  const grouped = await run('kcat', [
    ...base,
    '-G',
    groupFor(client),
    topicFor(client),
    '-X',
    'auto.offset.reset=earliest',
    '-e',
    '-q',
    '-f',
    '%k=%s\n',
  ]);
  checkConsumed(client, grouped);
}

function checkConsumed(client: string, output: string): void {
  const want = CODECS.flatMap((c) => expectedRecords(c).map((r) => `${r.key}=${r.value}`)).join('\n') + '\n';
  if (output !== want)
    throw new Error(`${client} consumed ${JSON.stringify(output)}, expected ${JSON.stringify(want)}`);
}

async function captureKafkajs(proxy: CaptureProxy): Promise<void> {
  const client = 'kafkajs';
  const require = createRequire(import.meta.url);
  const kafkajs = require('kafkajs') as typeof import('kafkajs');
  const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = kafkajs;
  const snappy = (await import('snappy')).default;
  const lz4 = await import('lz4-napi');
  const zstd = await import('@mongodb-js/zstd');
  // kafkajs ships only gzip; other codecs are plugins with this shape. These wrap the project's own codec
  // dependencies (raw snappy, LZ4 frame, zstd), as the kafkajs-snappy/-lz4/-zstd plugins would.
  type Encoder = { buffer: Buffer };
  CompressionCodecs[CompressionTypes.Snappy] = () => ({
    compress: async (e: Encoder) => snappy.compress(e.buffer),
    decompress: async (b: Buffer) => snappy.uncompress(b) as Promise<Buffer>,
  });
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (e: Encoder) => lz4.compressFrame(e.buffer),
    decompress: async (b: Buffer) => lz4.decompressFrame(b),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async (e: Encoder) => zstd.compress(e.buffer),
    decompress: async (b: Buffer) => zstd.decompress(b),
  });
  const types: Record<Codec, number> = {
    none: CompressionTypes.None,
    gzip: CompressionTypes.GZIP,
    snappy: CompressionTypes.Snappy,
    lz4: CompressionTypes.LZ4,
    zstd: CompressionTypes.ZSTD,
  };
  const kafka = new Kafka({
    clientId: clientIdFor(client),
    brokers: proxy.bootstrap.split(','),
    logLevel: logLevel.NOTHING,
  });

  proxy.setLabel('metadata');
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  for (const codec of CODECS) {
    proxy.setLabel(codec);
    await producer.send({
      topic: topicFor(client),
      compression: types[codec],
      messages: expectedRecords(codec).map((r) => ({ key: r.key, value: r.value, partition: 0 })),
    });
  }
  await producer.disconnect();

  // kafkajs has no group-less consumer, so its Fetch comes from the group phase.
  proxy.setLabel('group');
  const consumer = kafka.consumer({
    groupId: groupFor(client),
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: topicFor(client), fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kafkajs consumed only ${seen.length} records`)), 30_000);
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ message, partition, topic }) => {
          seen.push(`${message.key?.toString()}=${message.value?.toString()}`);
          if (seen.length === TOTAL_RECORDS) {
            await consumer.commitOffsets([
              { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
            ]);
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  checkConsumed(client, seen.join('\n') + '\n');
}

const PYTHON_SCRIPT = String.raw`
import sys, json
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
mode, bootstrap, topic, client_id = sys.argv[1:5]
if mode == 'produce':
    codec, records = sys.argv[5], json.loads(sys.argv[6])
    p = KafkaProducer(bootstrap_servers=bootstrap, client_id=client_id,
                      compression_type=None if codec == 'none' else codec, linger_ms=1000)
    for r in records:
        p.send(topic, key=r['key'].encode(), value=r['value'].encode(), partition=0)
    p.flush(); p.close()
elif mode == 'fetch':
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id=client_id, enable_auto_commit=False,
                      consumer_timeout_ms=3000)
    tp = TopicPartition(topic, 0)
    c.assign([tp]); c.seek_to_beginning(tp)
    for m in c: print('%s=%s' % (m.key.decode(), m.value.decode()))
    c.close()
elif mode == 'group':
    group = sys.argv[5]
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, client_id=client_id, group_id=group,
                      auto_offset_reset='earliest', enable_auto_commit=False, consumer_timeout_ms=6000)
    for m in c: print('%s=%s' % (m.key.decode(), m.value.decode()))
    c.commit(); c.close()
`;

async function captureKafkaPython(proxy: CaptureProxy): Promise<void> {
  const client = 'kafka-python';
  const base = [proxy.bootstrap, topicFor(client), clientIdFor(client)];
  for (const codec of CODECS) {
    proxy.setLabel(codec);
    await run('/usr/bin/python3', [
      '-c',
      PYTHON_SCRIPT,
      'produce',
      ...base,
      codec,
      JSON.stringify(expectedRecords(codec)),
    ]);
  }
  proxy.setLabel('fetch');
  checkConsumed(client, await run('/usr/bin/python3', ['-c', PYTHON_SCRIPT, 'fetch', ...base]));
  proxy.setLabel('group');
  checkConsumed(
    client,
    await run('/usr/bin/python3', ['-c', PYTHON_SCRIPT, 'group', ...base, groupFor(client)]),
  );
}

/** The fetchOffset of a Fetch request and whether its response carried record bytes. */
function fetchInfo(request: CapturedFrame, response: CapturedFrame | undefined) {
  const { header, bodyOffset } = decodeRequestHeader(request.bytes.subarray(4));
  const body = Fetch.request.read(new Reader(request.bytes.subarray(4), bodyOffset), header.apiVersion);
  const fetchOffset = Number(body.topics[0]?.partitions[0]?.fetchOffset ?? -1n);
  let hasRecords = false;
  if (response) {
    const decoded = decodeResponse(Fetch, header.apiVersion, response.bytes.subarray(4)).body;
    hasRecords = (decoded.responses[0]?.partitions[0]?.records?.length ?? 0) > 0;
  }
  return { fetchOffset, hasRecords };
}

/**
 * Picks the frames to keep: the first request per (api, version), except Produce (first per codec phase)
 * and Fetch (the first request per fetch offset whose response carried records; the mock returns one batch
 * per fetch, so that is one Fetch per codec). Returns [request, response, codec].
 */
function select(frames: CapturedFrame[]): [CapturedFrame, CapturedFrame | undefined, Codec | undefined][] {
  const responses = new Map<string, CapturedFrame>();
  for (const f of frames)
    if (f.direction === 'response') responses.set(`${f.connection}/${f.correlationId}`, f);
  const chosen = new Map<string, [CapturedFrame, CapturedFrame | undefined, Codec | undefined]>();
  for (const f of frames) {
    if (f.direction !== 'request') continue;
    const response = responses.get(`${f.connection}/${f.correlationId}`);
    let codec: Codec | undefined;
    if (f.apiKey === 0) {
      codec = f.label as Codec;
      // The golden test expects each codec's records in one batch: a client that split them is a bad capture.
      const produces = frames.filter((g) => g.direction === 'request' && g.apiKey === 0 && g.label === codec);
      if (produces.length !== 1) throw new Error(`${produces.length} Produce requests for codec ${codec}`);
    } else if (f.apiKey === 1) {
      const { fetchOffset, hasRecords } = fetchInfo(f, response);
      codec = CODECS.find((c) => baseOffsetOf(c) === fetchOffset);
      if (!hasRecords || codec === undefined) continue;
    }
    const key = `${f.apiKey}/${f.apiVersion}/${codec ?? ''}`;
    if (!chosen.has(key)) chosen.set(key, [f, response, codec]);
  }
  return [...chosen.values()].sort((a, b) => a[0].seq - b[0].seq);
}

export async function captureAll(outDir: string): Promise<ManifestEntry[]> {
  const manifest: ManifestEntry[] = [];
  const cluster = await startMockCluster({
    brokers: 1,
    topics: CLIENTS.map((c) => ({ name: topicFor(c), partitions: 1 })),
  });
  try {
    for (const client of CLIENTS) {
      const proxy = await startCaptureProxy({ upstream: cluster.bootstrap });
      try {
        if (client === 'kcat') await captureKcat(proxy);
        else if (client === 'kafkajs') await captureKafkajs(proxy);
        else await captureKafkaPython(proxy);
      } finally {
        await proxy.stop();
      }
      const dir = join(outDir, client);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [request, response, codec] of select(proxy.frames)) {
        const apiName = API_NAMES[request.apiKey] ?? `api-${request.apiKey}`;
        const stem = `${apiName}-v${request.apiVersion}${codec ? `-${codec}` : ''}`;
        const common = {
          client,
          clientVersion: CLIENT_VERSIONS[client],
          apiKey: request.apiKey,
          apiName,
          apiVersion: request.apiVersion,
          correlationId: request.correlationId,
          phase: request.label ?? 'metadata',
          topic: topicFor(client),
          partition: 0,
          ...(codec ? { codec, baseOffset: baseOffsetOf(codec), records: expectedRecords(codec) } : {}),
          ...([8, 9, 10, 11, 12, 13, 14].includes(request.apiKey) ? { groupId: groupFor(client) } : {}),
          ...(request.apiKey === 11
            ? { protocolType: 'consumer', protocolNames: PROTOCOL_NAMES[client] }
            : {}),
        };
        writeFileSync(join(dir, `${stem}.bin`), request.bytes);
        manifest.push({
          file: `${client}/${stem}.bin`,
          direction: 'request',
          clientId: request.clientId,
          ...common,
        });
        if (response) {
          writeFileSync(join(dir, `${stem}.response.bin`), response.bytes);
          manifest.push({ file: `${client}/${stem}.response.bin`, direction: 'response', ...common });
        }
      }
    }
  } finally {
    await cluster.stop();
  }
  return manifest;
}

function sanityCheck(outDir: string, manifest: ManifestEntry[]): void {
  // Cheap guard against mislabelled captures: the expected strings must appear in the raw bytes where they
  // travel uncompressed.
  for (const entry of manifest) {
    const bytes = readFileSync(join(outDir, entry.file));
    const must: string[] = [];
    if (entry.direction === 'request' && entry.clientId) must.push(entry.clientId);
    if ([0, 1].includes(entry.apiKey) && !(entry.apiKey === 1 && entry.apiVersion >= 13))
      must.push(entry.topic);
    if (entry.direction === 'request' && entry.groupId) must.push(entry.groupId);
    if (entry.apiKey === 0 && entry.direction === 'request' && entry.codec === 'none') {
      for (const r of entry.records ?? []) must.push(r.value);
    }
    if (entry.apiKey === 11 && entry.direction === 'request') must.push(...(entry.protocolNames ?? []));
    for (const s of must) {
      if (!bytes.includes(Buffer.from(s)))
        throw new Error(`${entry.file}: expected to contain ${JSON.stringify(s)}`);
    }
  }
}

async function main(): Promise<void> {
  const outDir = process.argv[2] ?? join(repoRoot(), 'test', 'fixtures', 'wire');
  mkdirSync(outDir, { recursive: true });
  const manifest = await captureAll(outDir);
  sanityCheck(outDir, manifest);
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const byClient = CLIENTS.map((c) => `${c}: ${readdirSync(join(outDir, c)).length} files`).join(', ');
  console.log(`captured ${manifest.length} frames into ${outDir} (${byClient})`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
