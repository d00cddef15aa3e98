// SIGKILL: `fjord start` as a child process with log.flush.interval.messages=1 (fsync before every ack),
// producers with acks=all on every partition, kill -9 at random moments, restart on the same data dir.
// After each restart every acknowledged record is there exactly once, at the offset it was acknowledged
// with, in order; the only records beyond those acknowledged are the ones whose produce was in flight at the
// kill (at a partition's tail); the topic and its configs are still there. The last start stops with
// SIGTERM and must exit cleanly.
//
// Runs the compiled broker (bin/fjord.js -> dist/): `npm run build` first (CI does), or `npx tsc -p
// tsconfig.json` when running this file under tsx.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { CreateTopics } from '../../src/protocol/messages/create-topics.js';
import { DescribeConfigs } from '../../src/protocol/messages/describe-configs.js';
import { produce, readPartition, recordBatch } from '../tools/raw-client.js';
import { repoRoot } from '../tools/repo-root.js';
import { WireClient } from '../tools/wire-client.js';

const TOPIC = 'durable';
const PARTITIONS = 4;
const KILLS = 4;
const dataDir = mkdtempSync(join(tmpdir(), 'fjord-kill-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** xorshift32: the kill moments are random but reproducible from the seed printed with a failure. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Running {
  child: ChildProcess;
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

async function startBroker(): Promise<Running> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(repoRoot(), 'bin', 'fjord.js'),
      'start',
      '--override',
      `log.dirs=${dataDir}`,
      '--override',
      `listeners=PLAINTEXT://127.0.0.1:${port}`,
      '--override',
      'log.flush.interval.messages=1',
      '--override',
      'num.io.threads=2',
      // Recovering each of the default 50 (empty) __consumer_offsets partitions after a kill costs a few
      // fsyncs; on a loaded 2-core CI machine that made every restart take ~15 s.
      '--override',
      'offsets.topic.num.partitions=1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FJORD_LOG_LEVEL: 'info' } },
  );
  children.add(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const deadline = Date.now() + 60_000;
  while (!output.includes('listening on')) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`fjord start exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`fjord start did not listen within 60 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, port, exited, output: () => output };
}

/** What the producers know: per partition, the values acknowledged (by offset) and the one in flight. */
interface PartitionState {
  acked: Map<number, string>;
  /** Values sent whose acknowledgement never came (the connection died): they may or may not be stored. */
  unacked: Set<string>;
  nextSeq: number;
}

const state: PartitionState[] = Array.from({ length: PARTITIONS }, () => ({
  acked: new Map(),
  unacked: new Set(),
  nextSeq: 0,
}));

const totalAcked = () => state.reduce((sum, s) => sum + s.acked.size, 0);

/** One producer per partition, each with its own connection, sequential acks=-1 produces until it fails. */
function produceUntilKilled(port: number, random: () => number): { stop: () => void; done: Promise<void> } {
  let stopped = false;
  const loops = state.map(async (s, partition) => {
    const client = await WireClient.connect(port);
    try {
      while (!stopped) {
        const count = 1 + Math.floor(random() * 5);
        const values = Array.from({ length: count }, () => `p${partition}-${s.nextSeq++}`);
        const batch = await recordBatch(values.map((value) => ({ key: `p${partition}`, value })));
        for (const value of values) s.unacked.add(value);
        const answer = await produce(client, TOPIC, partition, batch, { acks: -1 });
        assert.equal(answer.errorCode, ErrorCode.NONE, answer.errorMessage ?? '');
        values.forEach((value, i) => {
          s.unacked.delete(value);
          s.acked.set(Number(answer.baseOffset) + i, value);
        });
      }
    } catch (error) {
      // The kill: the connection closes under an in-flight request. Anything else is a failure.
      if (!client.closed) throw error;
    } finally {
      client.close();
    }
  });
  return {
    stop: () => {
      stopped = true;
    },
    done: Promise.all(loops).then(() => undefined),
  };
}

/** Verifies the log against `state`; returns how many stored records had never been acknowledged. */
async function verify(port: number, label: string): Promise<number> {
  let survivors = 0;
  const client = await WireClient.connect(port);
  try {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const s = state[partition]!;
      const log = await readPartition(client, TOPIC, partition);
      const where = `${label}, partition ${partition}`;
      const offsets = log.map((r) => r.offset);
      assert.deepEqual(
        offsets,
        offsets.map((_, i) => i),
        `${where}: offsets 0.. without gaps`,
      );
      const seen = new Set<string>();
      let lastSeq = -1;
      let lastAcked = -1;
      for (const record of log) {
        const value = record.value!;
        assert.ok(!seen.has(value), `${where}: ${value} stored twice`);
        seen.add(value);
        const seq = Number(value.split('-')[1]);
        assert.ok(value.startsWith(`p${partition}-`) && seq > lastSeq, `${where}: ${value} out of order`);
        lastSeq = seq;
        const acked = s.acked.get(record.offset);
        if (acked !== undefined) {
          assert.equal(value, acked, `${where}: offset ${record.offset} holds what was acknowledged there`);
          lastAcked = record.offset;
        } else {
          assert.ok(
            s.unacked.has(value),
            `${where}: ${value} at ${record.offset} was never sent or was acked elsewhere`,
          );
        }
      }
      for (const [offset, value] of s.acked) {
        assert.equal(log[offset]?.value, value, `${where}: acknowledged ${value} at ${offset} is missing`);
      }
      // Unacknowledged survivors can only follow the last acknowledged record.
      assert.ok(
        log.slice(0, lastAcked + 1).every((r) => s.acked.has(r.offset)),
        `${where}: stray record`,
      );
      // What survived unacknowledged is now in the log for good: later checks treat it as acknowledged.
      survivors += log.length - (lastAcked + 1);
      for (const record of log.slice(lastAcked + 1)) {
        s.unacked.delete(record.value!);
        s.acked.set(record.offset, record.value!);
      }
      s.unacked.clear();
    }
    const configs = await client.send(DescribeConfigs, 4, {
      resources: [
        { resourceType: 2, resourceName: TOPIC, configurationKeys: ['retention.ms', 'max.message.bytes'] },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    assert.deepEqual(
      configs.results[0]!.configs.map((c) => [c.name, c.value, c.configSource]).sort(),
      [
        ['max.message.bytes', '200000', 1],
        ['retention.ms', '987654321', 1],
      ],
      `${label}: topic configs`,
    );
  } finally {
    client.close();
  }
  return survivors;
}

test(`every acknowledged record survives ${KILLS} kill -9s of fjord start (log.flush.interval.messages=1)`, async (t) => {
  assert.ok(
    existsSync(join(repoRoot(), 'dist', 'src', 'cli', 'main.js')),
    'dist/ is missing: run `npm run build` (or `npx tsc -p tsconfig.json`) first',
  );
  const seed = Number(process.env.FJORD_KILL_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`kill seed ${seed} (FJORD_KILL_SEED=${seed} reproduces the kill moments)`);
  const random = prng(seed);

  let broker = await startBroker();
  const setup = await WireClient.connect(broker.port);
  const created = await setup.send(CreateTopics, 7, {
    topics: [
      {
        name: TOPIC,
        numPartitions: PARTITIONS,
        replicationFactor: 1,
        assignments: [],
        configs: [
          { name: 'retention.ms', value: '987654321' },
          { name: 'max.message.bytes', value: '200000' },
        ],
      },
    ],
    timeoutMs: 5000,
    validateOnly: false,
  });
  setup.close();
  assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);

  for (let kill = 1; kill <= KILLS; kill++) {
    const producers = produceUntilKilled(broker.port, random);
    // Kill while producing: once the first produce of this round is acknowledged, at a random moment.
    const ackedBefore = totalAcked();
    for (let waited = 0; totalAcked() === ackedBefore && waited < 20_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const delay = 50 + Math.floor(random() * 500);
    await new Promise((resolve) => setTimeout(resolve, delay));
    broker.child.kill('SIGKILL');
    const exit = await broker.exited;
    assert.equal(exit.signal, 'SIGKILL');
    producers.stop();
    await producers.done;
    t.diagnostic(`kill ${kill} ${delay} ms into producing: ${totalAcked()} records acknowledged so far`);
    const started = Date.now();
    broker = await startBroker();
    const listening = Date.now();
    const survivors = await verify(broker.port, `after kill ${kill}`);
    t.diagnostic(
      `restart ${listening - started} ms, verify ${Date.now() - listening} ms, ${survivors} unacknowledged records stored`,
    );
  }
  assert.ok(
    state.every((s) => s.acked.size > 0),
    'every partition had acknowledged records',
  );

  broker.child.kill('SIGTERM');
  const exit = await broker.exited;
  assert.equal(exit.code, 0, `clean shutdown after SIGTERM:\n${broker.output()}`);
  broker = await startBroker();
  await verify(broker.port, 'after the clean shutdown');
  broker.child.kill('SIGTERM');
  await broker.exited;
});
