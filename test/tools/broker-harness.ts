// Shared plumbing for tests that run a real broker: an embedded broker in a temp dir, child processes for the
// real clients (kcat, the Python scripts under test/integration/py/), and a look at what the broker stored.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressionOf, iterateBatches } from '../../src/protocol/records/record-batch.js';
import { compressionName } from '../../src/protocol/records/compression.js';
import { Broker } from '../../src/server/broker.js';
import { createLogger, type Logger } from '../../src/util/logger.js';
import { repoRoot } from './repo-root.js';

export const PYTHON = '/usr/bin/python3';
export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof CODECS)[number];

export interface TestBroker {
  broker: Broker;
  dataDir: string;
  bootstrap: string;
  /** Stops the broker and removes its data dir. */
  close(): Promise<void>;
}

/** Warnings and errors only, unless FJORD_LOG_LEVEL says otherwise: the clients' tests are noisy enough. */
export function testLogger(): Logger {
  return createLogger((process.env.FJORD_LOG_LEVEL as 'warn' | undefined) ?? 'warn');
}

/** An embedded broker on a free loopback port with its own temp data dir. */
export async function startTestBroker(config: Record<string, string> = {}): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-it-'));
  const broker = await Broker.start({ dataDir, port: 0, config, log: testLogger() });
  return {
    broker,
    dataDir,
    bootstrap: broker.bootstrap,
    close: async () => {
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command with `input` on stdin; rejects with its stderr on a non-zero exit or a timeout. */
export function run(
  command: string,
  args: string[],
  options: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 256 * 1024 * 1024,
        env: options.env ?? process.env,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          const shown = `${command} ${args.map((a) => (a.length > 80 ? a.slice(0, 80) + '…' : a)).join(' ')}`;
          reject(new Error(`${shown} failed: ${error.message}\n${stderr.slice(-4000)}`));
        } else resolve({ stdout, stderr });
      },
    );
    child.stdin!.on('error', () => {});
    child.stdin!.end(options.input ?? '');
  });
}

/** Runs test/integration/py/<script> with `request` as JSON on stdin and parses the JSON it prints. */
export async function runPython<T>(script: string, request: unknown, timeoutMs = 120_000): Promise<T> {
  const path = join(repoRoot(), 'test', 'integration', 'py', script);
  const { stdout } = await run(PYTHON, [path], { input: JSON.stringify(request), timeoutMs });
  return JSON.parse(stdout) as T;
}

export interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  records: number;
  codec: string;
}

/** The batches the broker wrote for one partition, read straight from its segment files. */
export function storedBatches(dataDir: string, topic: string, partition: number): StoredBatch[] {
  const dir = join(dataDir, `${topic}-${partition}`);
  const batches: StoredBatch[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()) {
    for (const { header } of iterateBatches(readFileSync(join(dir, name)))) {
      batches.push({
        baseOffset: header.baseOffset,
        lastOffset: header.baseOffset + header.lastOffsetDelta,
        records: header.recordCount,
        codec: compressionName(compressionOf(header.attributes)),
      });
    }
  }
  return batches;
}

/** A record as every client test writes and reads it: utf-8 text, null where Kafka has null. */
export interface TextRecord {
  partition?: number;
  offset?: number;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

/** Incompressible printable text of `bytes` bytes (deterministic), for the large-record tests. */
export function largeValue(bytes: number, seed = 1): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let x = seed >>> 0 || 1;
  const out = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = alphabet.charCodeAt(x & 63);
  }
  return out.toString('latin1');
}

/** `count` records keyed k<i> with value v<i>-<tag>; the key decides the partition. */
export function manyRecords(tag: string, count: number): TextRecord[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}-${tag}`, headers: [] }));
}

/**
 * Checks that `consumed` holds exactly `produced` (records keyed k<i>, value v<i>-<tag>): every record once,
 * each key on a single partition, offsets 0.. without gaps per partition, and producer order per partition.
 * Returns the records per partition.
 */
export function checkManyRecords(
  produced: TextRecord[],
  consumed: TextRecord[],
  partitions: number,
): Map<number, TextRecord[]> {
  const byPartition = new Map<number, TextRecord[]>();
  for (const r of consumed) {
    const list = byPartition.get(r.partition!) ?? [];
    list.push(r);
    byPartition.set(r.partition!, list);
  }
  const problems: string[] = [];
  if (consumed.length !== produced.length)
    problems.push(`consumed ${consumed.length} records, produced ${produced.length}`);
  const seen = new Set<string>();
  for (const [partition, list] of byPartition) {
    if (partition < 0 || partition >= partitions) problems.push(`record on partition ${partition}`);
    list.sort((a, b) => a.offset! - b.offset!);
    let lastIndex = -1;
    list.forEach((r, position) => {
      if (r.offset !== position) problems.push(`p${partition}: offset ${r.offset} at position ${position}`);
      const index = Number(r.key!.slice(1));
      const want = produced[index];
      if (!want || want.value !== r.value) problems.push(`p${partition}@${r.offset}: ${r.key}=${r.value}`);
      if (index <= lastIndex) problems.push(`p${partition}: ${r.key} after k${lastIndex}`);
      if (seen.has(r.key!)) problems.push(`${r.key} consumed twice`);
      seen.add(r.key!);
      lastIndex = index;
    });
  }
  if (problems.length > 0) throw new Error(problems.slice(0, 20).join('\n'));
  return byPartition;
}

/** The fields every client reports, for comparing records across clients. */
export function comparable(records: TextRecord[]): Omit<TextRecord, 'partition'>[] {
  return records.map((r) => ({
    offset: r.offset,
    key: r.key,
    value: r.value,
    headers: r.headers,
  }));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
