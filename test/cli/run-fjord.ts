// Runs the real `fjord` binary (bin/fjord.js -> dist/, so build first: `npx tsc -p tsconfig.json`) as a child
// process. Asynchronous on purpose: the broker under test lives in this process and must keep serving while
// the command runs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../src/server/broker.js';
import type { Logger } from '../../src/util/logger.js';
import { repoRoot } from '../tools/repo-root.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function fjord(
  args: string[],
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'fjord.js'), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };

export interface TestBroker {
  broker: Broker;
  dataDir: string;
  /** `--brokers host:port`, ready to spread into an argument list. */
  flag: string[];
  stop(): Promise<void>;
  remove(): void;
}

export async function startBroker(): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-cli-'));
  const broker = await Broker.start({
    dataDir,
    port: 0,
    log: quiet,
    // One __consumer_offsets partition keeps start-up short; no rebalance delay lets a group form at once.
    config: { 'offsets.topic.num.partitions': '1', 'group.initial.rebalance.delay.ms': '0' },
  });
  let stopped = false;
  return {
    broker,
    dataDir,
    flag: ['--brokers', broker.bootstrap],
    async stop() {
      if (stopped) return;
      stopped = true;
      await broker.stop();
    },
    remove() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
