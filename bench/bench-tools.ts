// Helpers shared by the broker benchmarks (broker.bench.ts, e2e-latency.ts, sweeps.ts): a Fjord broker in a child process per
// configuration, `fjord perf` and librdkafka's rdkafka_performance as clients, the CPU a process used (from
// /proc), and a probe that measures how late this machine runs an idle process's 1 ms timer (scheduling
// jitter that no broker can beat).
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PerfResult } from '../src/perf/run.js';
import { repoRoot } from '../test/tools/repo-root.js';

export const ROOT = repoRoot();

export const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** rdkafka_performance: $RDKAFKA_PERFORMANCE, or .tools/rdkafka-perf/, built there from Debian's examples. */
export function rdkafkaPerformance(): string {
  const fromEnv = process.env.RDKAFKA_PERFORMANCE;
  if (fromEnv) return fromEnv;
  const binary = join(ROOT, '.tools', 'rdkafka-perf', 'rdkafka_performance');
  if (existsSync(binary)) return binary;
  const script = join(ROOT, '..', 'shared', 'tools', 'build-rdkafka-performance.sh');
  const result = spawnSync('bash', [script], {
    env: { ...process.env, BUILD: join(ROOT, '.tools', 'rdkafka-perf') },
    encoding: 'utf8',
  });
  if (result.status !== 0 || !existsSync(binary))
    throw new Error(`building rdkafka_performance failed: ${result.stderr || result.stdout}`);
  return binary;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** utime + stime of a process (all its threads) from /proc, in seconds; NaN where /proc is missing. */
export function processCpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

export interface FjordProcess {
  bootstrap: string;
  pid: number;
  /** CPU seconds (user + system, every thread) the broker has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * `node [nodeArgs] bin/fjord.js start` on a free port, with `--override key=value` for each entry of
 * `overrides`. The log dir is a fresh temp dir removed by stop(), or `options.logDir`, which is kept (data
 * filled once and served by several brokers). `options.root` runs another checkout's build.
 */
export async function startFjord(
  overrides: Record<string, string> = {},
  nodeArgs: string[] = [],
  options: { logDir?: string; root?: string } = {},
): Promise<FjordProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-bench-'));
  const port = await freePort();
  const props: Record<string, string> = {
    'log.dirs': options.logDir ?? join(dir, 'data'),
    listeners: `PLAINTEXT://127.0.0.1:${port}`,
    // One __consumer_offsets partition: the 50 default ones cost start-up time and are never used here.
    'offsets.topic.num.partitions': '1',
    ...overrides,
  };
  const args = Object.entries(props).flatMap(([k, v]) => ['--override', `${k}=${v}`]);
  const root = options.root ?? ROOT;
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin', 'fjord.js'), 'start', ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`fjord start did not listen in 60 s:\n${output}`)),
      60_000,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fjord start exited with ${code}:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    bootstrap: `127.0.0.1:${port}`,
    pid: child.pid!,
    cpuSeconds: () => processCpuSeconds(child.pid),
    async stop() {
      await stopChild(child, 'SIGTERM', 30_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  killAfterMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}

export interface RunOutput {
  output: string;
  /** CPU seconds of the child (user + system), last sampled from /proc before it exited. */
  cpuSeconds: number;
  wallSeconds: number;
}

/**
 * Runs a command to completion (or SIGINT after `interruptAfterMs`, SIGKILL after `timeoutMs`), returning
 * stdout + stderr, and its CPU time sampled from /proc just before it exits (every 100 ms).
 */
export async function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; interruptAfterMs?: number } = {},
): Promise<RunOutput> {
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  let cpuSeconds = 0;
  const sampler = setInterval(() => {
    const cpu = processCpuSeconds(child.pid);
    if (Number.isFinite(cpu)) cpuSeconds = cpu;
  }, 100);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const interrupt =
    options.interruptAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill('SIGINT'), options.interruptAfterMs);
  const kill = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  await exited;
  clearInterval(sampler);
  clearTimeout(interrupt);
  clearTimeout(kill);
  return { output, cpuSeconds, wallSeconds: (performance.now() - started) / 1000 };
}

/** `fjord perf ARGS --json --quiet` in its own process; the parsed result and the process's CPU time. */
export async function fjordPerf(args: string[]): Promise<{ result: PerfResult; cpuSeconds: number }> {
  const { output, cpuSeconds } = await run(process.execPath, [
    join(ROOT, 'bin', 'fjord.js'),
    'perf',
    ...args,
    '--json',
    '--quiet',
  ]);
  const start = output.indexOf('{');
  try {
    return {
      result: JSON.parse(output.slice(start, output.lastIndexOf('}') + 1)) as PerfResult,
      cpuSeconds,
    };
  } catch {
    throw new Error(`fjord perf ${args.join(' ')} printed no JSON result:\n${output.slice(-2000)}`);
  }
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles (nearest rank) of a list of values, in the values' unit. */
export function percentiles(values: number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
  };
}

/**
 * How late an otherwise idle Node process on this machine runs a 1 ms timer, for `durationMs`: the
 * scheduling jitter every thread here suffers (other processes, the hypervisor), in ms.
 */
export async function timerJitter(durationMs: number): Promise<Percentiles> {
  const script = `
    const lateness = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      lateness.push(Math.max(0, now - last - 1));
      last = now;
    }, 1);
    setTimeout(() => { clearInterval(timer); console.log(JSON.stringify(lateness)); }, ${durationMs});`;
  const { output } = await run(process.execPath, ['-e', script], { timeoutMs: durationMs + 30_000 });
  return percentiles(JSON.parse(output) as number[]);
}

/**
 * The client benchmarks' broker: bench/client-bench-broker.ts in a forked child process, so its CPU is not
 * counted as the client's. It prints its port on the first line and stops when its stdin closes.
 */
export async function startClientBenchBroker(): Promise<{ bootstrap: string; stop(): Promise<void> }> {
  const here = fileURLToPath(import.meta.url);
  const child = fork(new URL(`./client-bench-broker${extname(here)}`, import.meta.url), [], {
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`broker child exited with ${code}`)));
  });
  return {
    bootstrap: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}
