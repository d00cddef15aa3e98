// The perf runner (main thread): sets the cluster up, starts producer and consumer worker threads, merges
// their once-a-second statistics into totals, a per-second series and latency histograms, prints progress,
// decides when the run ends, and returns a PerfResult (the --json and report input).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { checkIdempotence, connectBootstrap, prepareTopic, type TopicLayout } from './cluster.js';
import { Histogram, type LatencySummary } from './histogram.js';
import type { ControlMessage, StatsDelta, WorkerInit, WorkerMessage } from './messages.js';
import type { PerfMode, PerfOptions } from './options.js';

export interface SideResult {
  records: number;
  /** Key + value bytes. */
  bytes: number;
  requests: number;
  recordsPerSec: number;
  /** MB = 10^6 bytes. */
  mbPerSec: number;
  errors: Record<string, number>;
  errorCount: number;
}

export interface SeriesPoint {
  /** Seconds since measuring started (end of the second). */
  t: number;
  produceRecords: number;
  produceBytes: number;
  consumeRecords: number;
  consumeBytes: number;
  errors: number;
  /** Latency (ms) of records completed in this second: produce latency, or end-to-end in e2e runs. */
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface PerfResult {
  tool: 'fjord perf';
  version: 1;
  mode: PerfMode;
  status: 'ok' | 'errors' | 'fatal';
  fatal: string | null;
  startedAt: string;
  /** Measured seconds (after warm-up). */
  durationSec: number;
  options: PerfOptions;
  topic: { name: string; partitions: number; created: boolean };
  produce: SideResult | null;
  consume: SideResult | null;
  /** Which latency the histogram holds. */
  latencyKind: 'produce' | 'end-to-end' | null;
  /** Microseconds. */
  latency: LatencySummary | null;
  /** (percentile, µs) points for the percentile plot. */
  latencyCurve: { percentile: number; value: number }[];
  series: SeriesPoint[];
}

export interface RunHooks {
  /** A progress line (once a second); default: stderr. */
  progress?: (line: string) => void;
}

/** Starts a worker on its compiled .js, or under tsx when running from the TypeScript sources (tests). */
function spawn(name: string, init: WorkerInit): Worker {
  const compiled = new URL(`./${name}.js`, import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData: init });
  const source = new URL(`./${name}.ts`, import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

class Side {
  records = 0;
  bytes = 0;
  requests = 0;
  errors: Record<string, number> = {};

  add(delta: StatsDelta): void {
    this.records += delta.records;
    this.bytes += delta.bytes;
    this.requests += delta.requests;
    for (const [k, v] of Object.entries(delta.errors)) this.errors[k] = (this.errors[k] ?? 0) + v;
  }

  get errorCount(): number {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }

  result(seconds: number): SideResult {
    return {
      records: this.records,
      bytes: this.bytes,
      requests: this.requests,
      recordsPerSec: seconds > 0 ? this.records / seconds : 0,
      mbPerSec: seconds > 0 ? this.bytes / 1e6 / seconds : 0,
      errors: { ...this.errors },
      errorCount: this.errorCount,
    };
  }
}

interface Bucket {
  produceRecords: number;
  produceBytes: number;
  consumeRecords: number;
  consumeBytes: number;
  errors: number;
  latency: Histogram;
}

const ms = (us: number): number => us / 1000;

/** Splits `total` into `parts` integers that differ by at most one. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export async function runPerf(options: PerfOptions, hooks: RunHooks = {}): Promise<PerfResult> {
  const progress = hooks.progress ?? ((line: string) => process.stderr.write(line + '\n'));
  const bootstrap = await connectBootstrap(options);
  let layout: TopicLayout;
  try {
    layout = await prepareTopic(bootstrap, options, options.mode !== 'consume');
    if (options.idempotence && options.mode !== 'consume') checkIdempotence(bootstrap);
  } finally {
    bootstrap.close();
  }

  const producing = options.mode !== 'consume';
  const consuming = options.mode !== 'produce';
  const produce = new Side();
  const consume = new Side();
  const latency = new Histogram();
  const buckets = new Map<number, Bucket>();
  const series: SeriesPoint[] = [];
  const producerQuotas =
    options.records !== null && producing ? split(options.records, options.producers) : null;
  const partitions = layout.partitions.map((p) => p.partition);
  const consumerCount = consuming ? Math.min(options.consumers, partitions.length) : 0;
  const inits: WorkerInit[] = [];
  for (let i = 0; i < consumerCount; i++) {
    inits.push({
      role: 'consumer',
      index: i,
      options,
      layout,
      // A single consume-mode reader stops at exactly N; several are stopped by the runner.
      quota:
        options.mode === 'consume' && options.records !== null && consumerCount === 1
          ? options.records
          : null,
      partitions: partitions.filter((_, k) => k % consumerCount === i),
    });
  }
  for (let i = 0; producing && i < options.producers; i++) {
    inits.push({
      role: 'producer',
      index: i,
      options,
      layout,
      quota: producerQuotas?.[i] ?? null,
      partitions,
    });
  }

  let fatal: string | null = null;
  let measureStart = 0;
  let startAt = 0;
  const workers: Worker[] = [];
  const done = new Set<Worker>();
  let readyCount = 0;
  const lastStatsAt = { producer: 0, consumer: 0 };
  let onReady: () => void = () => {};
  let onChange: () => void = () => {};

  const bucketAt = (at: number): Bucket => {
    // Workers report once a second from the common start, so a report closes the second it rounds to.
    const index = Math.max(1, Math.round((at - measureStart) / 1000));
    let b = buckets.get(index);
    if (!b) {
      b = {
        produceRecords: 0,
        produceBytes: 0,
        consumeRecords: 0,
        consumeBytes: 0,
        errors: 0,
        latency: new Histogram(),
      };
      buckets.set(index, b);
    }
    return b;
  };
  const latencyRole = options.mode === 'e2e' ? 'consumer' : options.mode === 'produce' ? 'producer' : null;

  const roles = new Map<Worker, 'producer' | 'consumer'>();
  for (const init of inits) {
    const worker = spawn(init.role === 'producer' ? 'producer-worker' : 'consumer-worker', init);
    workers.push(worker);
    roles.set(worker, init.role);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') {
        readyCount++;
        onReady();
      } else if (m.type === 'fatal') {
        fatal ??= m.message;
        onReady();
        onChange();
      } else if (m.type === 'done') {
        done.add(worker);
        onChange();
      } else if (m.type === 'stats' && !m.warmup) {
        lastStatsAt[m.role] = Math.max(lastStatsAt[m.role], m.at);
        const side = m.role === 'producer' ? produce : consume;
        side.add(m.delta);
        const b = bucketAt(m.at);
        const errs = Object.values(m.delta.errors).reduce((a, c) => a + c, 0);
        b.errors += errs;
        if (m.role === 'producer') {
          b.produceRecords += m.delta.records;
          b.produceBytes += m.delta.bytes;
        } else {
          b.consumeRecords += m.delta.records;
          b.consumeBytes += m.delta.bytes;
        }
        if (m.role === latencyRole) {
          latency.merge(m.delta.latency);
          b.latency.merge(m.delta.latency);
        }
        onChange();
      }
    });
    worker.on('error', (error) => {
      fatal ??= `worker failed: ${error.message}`;
      onReady();
      onChange();
    });
    worker.on('exit', () => {
      done.add(worker);
      onChange();
    });
  }

  const post = (role: 'producer' | 'consumer' | 'all', message: ControlMessage): void => {
    for (const w of workers)
      if (!done.has(w) && (role === 'all' || roles.get(w) === role)) w.postMessage(message);
  };
  const allOf = (role: 'producer' | 'consumer'): boolean =>
    workers.every((w) => roles.get(w) !== role || done.has(w));

  await new Promise<void>((resolve) => {
    onReady = () => {
      if (fatal !== null || readyCount === workers.length) resolve();
    };
    onReady();
  });

  let ticker: NodeJS.Timeout | undefined;
  let previous = { at: 0, produce: { records: 0, bytes: 0 }, consume: { records: 0, bytes: 0 } };
  const startedAt = new Date();
  if (fatal === null) {
    startAt = Date.now() + 20;
    measureStart = startAt + options.warmupMs;
    post('all', { type: 'start', at: startAt });
    const endAt = options.durationMs === null ? null : measureStart + options.durationMs;
    let stopSent = false;
    let drainUntil: number | null = null;

    await new Promise<void>((resolve) => {
      const check = (): void => {
        const now = Date.now();
        if (fatal !== null) {
          post('all', { type: 'stop' });
          if (workers.every((w) => done.has(w))) resolve();
          return;
        }
        if (endAt !== null && now >= endAt && !stopSent) {
          stopSent = true;
          post(producing ? 'producer' : 'consumer', { type: 'stop' });
        }
        if (options.mode === 'consume' && options.records !== null && consume.records >= options.records) {
          post('consumer', { type: 'stop' });
        }
        if (options.mode === 'e2e' && allOf('producer')) {
          drainUntil ??= now + 10_000;
          if (consume.records >= produce.records || now >= drainUntil) post('consumer', { type: 'stop' });
        }
        if (workers.every((w) => done.has(w))) resolve();
      };
      onChange = check;
      const endTimer = endAt === null ? undefined : setTimeout(check, Math.max(0, endAt - Date.now()));
      endTimer?.unref();
      // Ticks trail the workers' once-a-second reports (aligned on startAt) so each line sees a full second.
      const tick = (): void => {
        check();
        if (!options.quiet) progress(progressLine());
        finalizeBuckets(false);
      };
      ticker = setTimeout(
        () => {
          tick();
          ticker = setInterval(tick, 1000);
        },
        Math.max(0, startAt + 1150 - Date.now()),
      );
      check();
    });
  }
  if (ticker) clearTimeout(ticker); // clears an interval too
  await Promise.all(workers.map((w) => w.terminate()));
  finalizeBuckets(true);

  // Measured time ends with the last report of a side's workers (the final one follows their last completion).
  const secondsOf = (role: 'producer' | 'consumer'): number =>
    startAt === 0 || lastStatsAt[role] <= measureStart ? 0 : (lastStatsAt[role] - measureStart) / 1000;
  const durationSec = Math.max(secondsOf('producer'), secondsOf('consumer'));
  const produceResult = producing ? produce.result(secondsOf('producer')) : null;
  // End to end, consumers count the records sent in the producers' window, so rates share that window.
  const consumeSeconds = options.mode === 'e2e' ? secondsOf('producer') : secondsOf('consumer');
  const consumeResult = consuming ? consume.result(consumeSeconds) : null;
  if (fatal === null) {
    const main = produceResult ?? consumeResult!;
    if (main.records === 0 && main.errorCount > 0) {
      fatal = `no record succeeded: ${Object.entries(main.errors)
        .map(([k, v]) => `${k} x${v}`)
        .join(', ')}`;
    }
  }
  const errorCount = (produceResult?.errorCount ?? 0) + (consumeResult?.errorCount ?? 0);
  return {
    tool: 'fjord perf',
    version: 1,
    mode: options.mode,
    status: fatal !== null ? 'fatal' : errorCount > 0 ? 'errors' : 'ok',
    fatal,
    startedAt: startedAt.toISOString(),
    durationSec,
    options,
    topic: { name: layout.topic, partitions: layout.partitions.length, created: layout.created },
    produce: produceResult,
    consume: consumeResult,
    latencyKind: latencyRole === null ? null : options.mode === 'e2e' ? 'end-to-end' : 'produce',
    latency: latencyRole === null ? null : latency.summary(),
    latencyCurve: latency.percentileCurve(),
    series,
  };

  function finalizeBuckets(all: boolean): void {
    const current = Math.floor((Date.now() - measureStart) / 1000);
    for (const index of [...buckets.keys()].sort((a, b) => a - b)) {
      if (!all && index >= current) break;
      const b = buckets.get(index)!;
      buckets.delete(index);
      const has = b.latency.count > 0;
      series.push({
        t: index,
        produceRecords: b.produceRecords,
        produceBytes: b.produceBytes,
        consumeRecords: b.consumeRecords,
        consumeBytes: b.consumeBytes,
        errors: b.errors,
        p50: has ? ms(b.latency.percentile(50)) : null,
        p99: has ? ms(b.latency.percentile(99)) : null,
        max: has ? ms(b.latency.max) : null,
      });
    }
  }

  function progressLine(): string {
    const now = Date.now();
    const elapsed = Math.floor((now - startAt) / 1000);
    if (now < measureStart) return `[${String(elapsed).padStart(4)}s] warming up`;
    // Rates over the time since the previous line, so a stall shows at once.
    const seconds = Math.max(0.001, (now - Math.max(measureStart, previous.at)) / 1000);
    const parts: string[] = [];
    const rate = (side: Side, last: { records: number; bytes: number }, label: string) =>
      `${label} ${fmtInt((side.records - last.records) / seconds)} rec/s ` +
      `${((side.bytes - last.bytes) / 1e6 / seconds).toFixed(1)} MB/s`;
    if (producing) parts.push(rate(produce, previous.produce, 'produce'));
    if (consuming) parts.push(rate(consume, previous.consume, 'consume'));
    previous = {
      at: now,
      produce: { records: produce.records, bytes: produce.bytes },
      consume: { records: consume.records, bytes: consume.bytes },
    };
    if (latencyRole !== null && latency.count > 0)
      parts.push(`p99 ${ms(latency.percentile(99)).toFixed(2)} ms`);
    parts.push(`errors ${produce.errorCount + consume.errorCount}`);
    if (options.durationMs !== null) {
      parts.push(`${Math.max(0, Math.ceil((measureStart + options.durationMs - now) / 1000))}s left`);
    } else if (options.records !== null) {
      const doneRecords = producing ? produce.records : consume.records;
      parts.push(`${fmtInt(Math.max(0, options.records - doneRecords))} records left`);
    }
    return `[${String(elapsed).padStart(4)}s] ${parts.join(' | ')}`;
  }
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
