import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { perf } from '../../src/cli/perf.js';
import { parsePerfArgs } from '../../src/perf/options.js';
import { runPerf } from '../../src/perf/run.js';
import { Broker } from '../../src/server/broker.js';
import { startStandInBroker } from './helpers.js';

let dir: string;
let broker: Broker;
let brokers: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'perf-run-'));
  broker = await Broker.start({ dataDir: dir, port: 0 });
  brokers = `127.0.0.1:${broker.port}`;
});

after(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

const quiet = { progress: () => {} };

test('produce N records into a new topic, then consume exactly N', async () => {
  const n = 12_345;
  const produced = await runPerf(
    parsePerfArgs([
      'produce',
      '--brokers',
      brokers,
      '--topic',
      'exact',
      '--partitions',
      '3',
      '--records',
      String(n),
      '--record-size',
      'uniform:10-300',
      '--keys',
      'zipf:50',
      '--producers',
      '2',
      '--batch-size',
      '16KiB',
      '--quiet',
    ]),
    quiet,
  );
  assert.equal(produced.status, 'ok');
  assert.equal(produced.topic.created, true);
  assert.equal(produced.topic.partitions, 3);
  assert.equal(produced.produce!.records, n);
  assert.equal(produced.produce!.errorCount, 0);
  assert.equal(produced.latency!.count, n);
  assert.ok(produced.series.length >= 1);

  const consumed = await runPerf(
    parsePerfArgs(['consume', '--brokers', brokers, '--topic', 'exact', '--consumers', '2', '--quiet']),
    quiet,
  );
  assert.equal(consumed.status, 'ok');
  assert.equal(consumed.consume!.records, n);
  // key + value bytes match what was produced
  assert.equal(consumed.consume!.bytes, produced.produce!.bytes);
  assert.equal(consumed.produce, null);
});

test('e2e at a fixed rate: every produced record is consumed and timed', async () => {
  const result = await runPerf(
    parsePerfArgs([
      'e2e',
      '--brokers',
      brokers,
      '--topic',
      'e2e',
      '--partitions',
      '2',
      '--rate',
      '1000',
      '--records',
      '600',
      '--record-size',
      '64',
      '--acks',
      'all',
      '--quiet',
    ]),
    quiet,
  );
  assert.equal(result.status, 'ok');
  assert.equal(result.produce!.records, 600);
  assert.equal(result.consume!.records, 600);
  assert.equal(result.latencyKind, 'end-to-end');
  assert.equal(result.latency!.count, 600);
  assert.ok(result.latency!.min > 0);
});

test('compressed produce and consume agree on counts', async () => {
  const produced = await runPerf(
    parsePerfArgs([
      'produce',
      '--brokers',
      brokers,
      '--topic',
      'gz',
      '--records',
      '3000',
      '--compression',
      'gzip',
      '--quiet',
    ]),
    quiet,
  );
  const consumed = await runPerf(
    parsePerfArgs(['consume', '--brokers', brokers, '--topic', 'gz', '--quiet']),
    quiet,
  );
  assert.equal(produced.produce!.records, 3000);
  assert.equal(consumed.consume!.records, 3000);
  assert.equal(consumed.consume!.bytes, produced.produce!.bytes);
});

test('the CLI writes --json and --report, and compare reads them back', async () => {
  const out = mkdtempSync(join(tmpdir(), 'perf-cli-'));
  const logs: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...args: unknown[]) => void logs.push(args.join(' '));
  console.error = () => {};
  try {
    const code = await perf([
      'produce',
      '--brokers',
      brokers,
      '--topic',
      'cli',
      '--records',
      '500',
      '--json',
      '--report',
      out,
      '--quiet',
    ]);
    assert.equal(code, 0);
    const result = JSON.parse(logs.join('\n'));
    assert.equal(result.produce.records, 500);
    const report = readFileSync(join(out, 'index.html'), 'utf8');
    assert.ok(report.includes('Throughput over time'));
    logs.length = 0;
    const json = join(out, 'result.json');
    assert.equal(await perf(['compare', json, json]), 0);
    assert.match(logs.join('\n'), /produce records\/s .* 1\.00x/);
  } finally {
    console.log = log;
    console.error = error;
    rmSync(out, { recursive: true, force: true });
  }
});

test('an unreachable cluster fails fast with a clear message and exit status 1', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await assert.rejects(
    runPerf(
      parsePerfArgs(['produce', '--brokers', `127.0.0.1:${port}`, '--records', '10', '--quiet']),
      quiet,
    ),
    (error: Error) =>
      error.message.includes(`no broker reachable: cannot connect to 127.0.0.1:${port}`) &&
      /ECONNREFUSED/.test(error.message),
  );
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void errors.push(args.join(' '));
  try {
    assert.equal(await perf(['produce', '--brokers', `127.0.0.1:${port}`, '--records', '10', '--quiet']), 1);
  } finally {
    console.error = original;
  }
  assert.match(errors.join('\n'), /fjord perf: no broker reachable/);
});

test('a broker that hangs up is reported, not waited on', async () => {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    await assert.rejects(
      runPerf(
        parsePerfArgs(['produce', '--brokers', `127.0.0.1:${port}`, '--records', '10', '--quiet']),
        quiet,
      ),
      /closed by the broker/,
    );
  } finally {
    server.close();
  }
});

test('records the broker rejects are counted by error code and fail the run', async () => {
  const result = await runPerf(
    parsePerfArgs([
      'produce',
      '--brokers',
      brokers,
      '--topic',
      'too-large',
      '--records',
      '3',
      '--record-size',
      '2MB',
      '--quiet',
    ]),
    quiet,
  );
  assert.equal(result.status, 'fatal');
  assert.equal(result.produce!.records, 0);
  assert.deepEqual(Object.keys(result.produce!.errors), ['MESSAGE_TOO_LARGE']);
  assert.equal(result.produce!.errors.MESSAGE_TOO_LARGE, 3);
  assert.match(result.fatal!, /no record succeeded: MESSAGE_TOO_LARGE x3/);
});

test('idempotent produce, then a group that resumes where it committed', async () => {
  const produced = await runPerf(
    parsePerfArgs([
      'produce',
      '--brokers',
      brokers,
      '--topic',
      'idem',
      '--partitions',
      '2',
      '--records',
      '4000',
      '--idempotence',
      '--acks',
      'all',
      '--batch-size',
      '8KiB',
      '--quiet',
    ]),
    quiet,
  );
  assert.equal(produced.status, 'ok');
  assert.equal(produced.produce!.records, 4000);
  const args = [
    'consume',
    '--brokers',
    brokers,
    '--topic',
    'idem',
    '--group',
    'perf-group',
    '--records',
    '1500',
    '--quiet',
  ];
  const first = await runPerf(parsePerfArgs(args), quiet);
  assert.equal(first.status, 'ok');
  assert.equal(first.consume!.records, 1500);
  // Until the end from the committed offsets: exactly the rest.
  const rest = await runPerf(
    parsePerfArgs(['consume', '--brokers', brokers, '--topic', 'idem', '--group', 'perf-group', '--quiet']),
    quiet,
  );
  assert.equal(rest.status, 'ok');
  assert.equal(rest.consume!.records, 2500);
});

test('--idempotence against a broker without InitProducerId is one clear error', async () => {
  const { server, port } = await startStandInBroker();
  try {
    await assert.rejects(
      runPerf(
        parsePerfArgs([
          'produce',
          '--brokers',
          `127.0.0.1:${port}`,
          '--idempotence',
          '--acks',
          'all',
          '--records',
          '10',
          '--quiet',
        ]),
        quiet,
      ),
      /--idempotence: broker 127\.0\.0\.1:\d+ does not support InitProducerId/,
    );
  } finally {
    server.close();
  }
});

test('at a fixed rate, a producer that falls behind sends its backlog in bigger requests', async () => {
  // Every Produce is answered 20 ms late: with one request in flight and two records due per millisecond,
  // one-linger requests (2 records) could carry only 100 records/s.
  const { server, port, produceRequests } = await startStandInBroker({ produceDelayMs: 20 });
  try {
    const result = await runPerf(
      parsePerfArgs([
        'produce',
        '--brokers',
        `127.0.0.1:${port}`,
        '--rate',
        '2000',
        '--records',
        '401',
        '--linger-ms',
        '1',
        '--max-in-flight',
        '1',
        '--record-size',
        '64',
        '--quiet',
      ]),
      quiet,
    );
    assert.equal(result.status, 'ok');
    assert.equal(result.produce!.records, 401, 'the quota is met exactly (the odd record in a remainder)');
    assert.equal(result.produce!.requests, produceRequests());
    assert.ok(
      produceRequests() < 401 / 2 / 2,
      `the backlog is batched: ${produceRequests()} requests for 401 records`,
    );
    // Latency still counts from each record's due time, so the broker's 20 ms show in full.
    assert.ok(result.latency!.min >= 20_000, `min latency ${result.latency!.min} µs`);
  } finally {
    server.close();
  }
});
