// `fjord perf` options: parsing and validation of the command line into a PerfOptions value that is passed
// as is (structured-cloned) to the load-generating worker threads.

export type PerfMode = 'produce' | 'consume' | 'e2e';

export type SizeDistribution =
  { kind: 'fixed'; size: number } | { kind: 'uniform'; min: number; max: number };

export type KeyDistribution =
  { kind: 'none' } | { kind: 'uniform'; count: number } | { kind: 'zipf'; count: number };

export type Rate = { unit: 'records'; perSecond: number } | { unit: 'bytes'; perSecond: number };

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface PerfOptions {
  mode: PerfMode;
  brokers: string[];
  topic: string;
  partitions: number;
  replicationFactor: number;
  recordSize: SizeDistribution;
  keys: KeyDistribution;
  /** -1 = all, 0 = none, 1 = leader. */
  acks: -1 | 0 | 1;
  compression: CompressionName;
  /** Target bytes of record payload per produced batch. */
  batchSize: number;
  /** How long a throttled producer lets a batch fill before sending it. */
  lingerMs: number;
  idempotence: boolean;
  producers: number;
  consumers: number;
  group: string | null;
  /** Total across producers; null = as fast as possible. */
  rate: Rate | null;
  /** Measured time after warm-up; null when records is set (or for consume until the end). */
  durationMs: number | null;
  /** Records to produce (or consume), excluding warm-up; null = run for durationMs. */
  records: number | null;
  warmupMs: number;
  /** Requests in flight per connection. */
  maxInFlight: number;
  /** Where a consumer starts when there is no committed offset. */
  from: 'earliest' | 'latest';
  requestTimeoutMs: number;
  json: boolean;
  report: string | null;
  quiet: boolean;
  clientId: string;
}

export class PerfUsageError extends Error {
  override name = 'PerfUsageError';
}

export const PERF_USAGE = `Usage: fjord perf produce|consume|e2e [options]
       fjord perf compare A.json B.json

Load-tests any Kafka-compatible cluster. Load runs on worker threads, one connection per thread.

  --brokers host:port[,..]    bootstrap brokers (default 127.0.0.1:9092)
  --topic NAME                topic (default fjord-perf), created if missing with:
  --partitions N              partitions (default 1)
  --replication-factor N      replication factor (default 1)
  --record-size SIZE          value bytes: 100, 1KiB, or uniform:100-1000 (default 100)
  --keys none|uniform:N|zipf:N  key distribution over N distinct keys (default none)
  --acks all|-1|0|1           (default 1)
  --compression none|gzip|snappy|lz4|zstd  (default none)
  --batch-size BYTES          payload bytes per batch (default 512KiB)
  --linger-ms MS              batch fill time when throttled (default 5); records overdue go
                              out together, up to --batch-size
  --idempotence               idempotent produce (needs InitProducerId on the broker)
  --producers N               producer threads (default 1)
  --consumers N               consumer threads (default 1)
  --group NAME                resume from and commit offsets of this consumer group
  --rate R                    records/s (10000, 10k/s) or bytes/s (50MB/s); default unthrottled
  --duration TIME             measured time: 30s, 2m, 500ms (default 10s)
  --records N                 records to produce/consume instead of a duration
  --warmup TIME               unmeasured time before measuring (default 0)
  --from earliest|latest      consumer start without a committed offset (consume default earliest)
  --max-in-flight N           pipelined requests per connection (default 5)
  --request-timeout TIME      (default 30s)
  --client-id ID              (default fjord-perf)
  --json                      print the result as JSON on stdout
  --report DIR                write DIR/index.html (charts) and DIR/result.json
  --quiet                     no progress lines

Without --records or --duration, consume reads until the end offsets seen at start. With several consumers,
--records stops them once the total is reached (what is already fetched still counts). Exit status: 0 ok,
1 usage or a fatal error (unreachable cluster, lost connection, nothing acknowledged), 3 the run finished
but some records failed (errors are listed by Kafka error code).`;

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** "100", "1KiB", "1.5MB" -> bytes. */
export function parseBytes(text: string, what = 'size'): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new PerfUsageError(`bad ${what} '${text}' (e.g. 100, 16KiB, 1MB)`);
  return Math.round(Number(match[1]) * unit);
}

/** "500ms", "30s", "2m", "1h", bare number = seconds -> milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim());
  if (!match) throw new PerfUsageError(`bad ${what} '${text}' (e.g. 500ms, 30s, 2m)`);
  const n = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

/** "100", "uniform:100-1000". */
export function parseSizeDistribution(text: string): SizeDistribution {
  const uniform = /^uniform:([^-]+)-(.+)$/i.exec(text);
  if (uniform) {
    const min = parseBytes(uniform[1]!, 'record size');
    const max = parseBytes(uniform[2]!, 'record size');
    if (min > max) throw new PerfUsageError(`record size range ${text}: min is above max`);
    return min === max ? { kind: 'fixed', size: min } : { kind: 'uniform', min, max };
  }
  if (/^[a-z]+:/i.test(text))
    throw new PerfUsageError(`bad record size '${text}' (a size or uniform:MIN-MAX)`);
  return { kind: 'fixed', size: parseBytes(text, 'record size') };
}

/** "none", "uniform:1000", "zipf:1000". */
export function parseKeys(text: string): KeyDistribution {
  if (text === 'none') return { kind: 'none' };
  const match = /^(uniform|zipf):(\d+)$/.exec(text);
  if (!match || Number(match[2]) < 1)
    throw new PerfUsageError(`bad --keys '${text}' (none, uniform:N or zipf:N)`);
  return { kind: match[1] as 'uniform' | 'zipf', count: Number(match[2]) };
}

/** "10000", "10k/s", "50MB/s", "1GiB/s". A size unit makes it a byte rate. */
export function parseRate(text: string): Rate {
  const t = text.trim().replace(/\/s$/i, '');
  const records = /^(\d+(?:\.\d+)?)\s*(k|m)?(?:rec|records|msg)?$/i.exec(t);
  if (records) {
    const scale = records[2] === undefined ? 1 : records[2].toLowerCase() === 'k' ? 1e3 : 1e6;
    const perSecond = Number(records[1]) * scale;
    if (!(perSecond > 0)) throw new PerfUsageError(`--rate must be positive`);
    return { unit: 'records', perSecond };
  }
  const perSecond = parseBytes(t, 'rate');
  if (!(perSecond > 0)) throw new PerfUsageError(`--rate must be positive`);
  return { unit: 'bytes', perSecond };
}

function parseAcks(text: string): -1 | 0 | 1 {
  if (text === 'all' || text === '-1') return -1;
  if (text === '0') return 0;
  if (text === '1') return 1;
  throw new PerfUsageError(`bad --acks '${text}' (all, -1, 0 or 1)`);
}

function positiveInt(text: string, what: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new PerfUsageError(`${what} must be an integer >= ${min}, not '${text}'`);
  return n;
}

const COMPRESSIONS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export function defaultOptions(mode: PerfMode): PerfOptions {
  return {
    mode,
    brokers: ['127.0.0.1:9092'],
    topic: 'fjord-perf',
    partitions: 1,
    replicationFactor: 1,
    recordSize: { kind: 'fixed', size: 100 },
    keys: { kind: 'none' },
    acks: 1,
    compression: 'none',
    // 512 KiB: with 5 requests in flight, 128 KiB batches left the harness latency-bound at a third of
    // the rate (132 vs 431 MB/s against Fjord, 1 KiB records, 16 partitions, measured).
    batchSize: 512 * 1024,
    lingerMs: 5,
    idempotence: false,
    producers: 1,
    consumers: 1,
    group: null,
    rate: null,
    durationMs: mode === 'consume' ? null : 10_000,
    records: null,
    warmupMs: 0,
    maxInFlight: 5,
    from: mode === 'e2e' ? 'latest' : 'earliest',
    requestTimeoutMs: 30_000,
    json: false,
    report: null,
    quiet: false,
    clientId: 'fjord-perf',
  };
}

/** Parses `produce|consume|e2e [options]`. Throws PerfUsageError with a message fit for the user. */
export function parsePerfArgs(argv: string[]): PerfOptions {
  const [mode, ...args] = argv;
  if (mode !== 'produce' && mode !== 'consume' && mode !== 'e2e') {
    throw new PerfUsageError(mode === undefined ? 'missing mode' : `unknown mode '${mode}'`);
  }
  const o = defaultOptions(mode);
  let durationSet = false;
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]!;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new PerfUsageError(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--brokers':
      case '--bootstrap-server':
        o.brokers = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (o.brokers.length === 0) throw new PerfUsageError('--brokers is empty');
        for (const b of o.brokers) parseHostPort(b);
        break;
      case '--topic':
        o.topic = value();
        if (!/^[a-zA-Z0-9._-]{1,249}$/.test(o.topic)) throw new PerfUsageError(`bad topic name '${o.topic}'`);
        break;
      case '--partitions':
        o.partitions = positiveInt(value(), '--partitions');
        break;
      case '--replication-factor':
        o.replicationFactor = positiveInt(value(), '--replication-factor');
        break;
      case '--record-size':
        o.recordSize = parseSizeDistribution(value());
        break;
      case '--keys':
        o.keys = parseKeys(value());
        break;
      case '--acks':
        o.acks = parseAcks(value());
        break;
      case '--compression': {
        const c = value() as CompressionName;
        if (!COMPRESSIONS.includes(c))
          throw new PerfUsageError(`bad --compression '${c}' (${COMPRESSIONS.join(', ')})`);
        o.compression = c;
        break;
      }
      case '--batch-size':
        o.batchSize = parseBytes(value(), '--batch-size');
        if (o.batchSize < 1) throw new PerfUsageError('--batch-size must be positive');
        break;
      case '--linger-ms':
        o.lingerMs = positiveInt(value(), '--linger-ms', 0);
        break;
      case '--idempotence':
        o.idempotence = true;
        break;
      case '--producers':
        o.producers = positiveInt(value(), '--producers');
        break;
      case '--consumers':
        o.consumers = positiveInt(value(), '--consumers');
        break;
      case '--group':
        o.group = value();
        break;
      case '--rate':
        o.rate = parseRate(value());
        break;
      case '--duration':
        o.durationMs = parseDuration(value(), '--duration');
        if (o.durationMs <= 0) throw new PerfUsageError('--duration must be positive');
        durationSet = true;
        break;
      case '--records':
        o.records = positiveInt(value(), '--records');
        break;
      case '--warmup':
        o.warmupMs = parseDuration(value(), '--warmup');
        break;
      case '--from': {
        const f = value();
        if (f !== 'earliest' && f !== 'latest')
          throw new PerfUsageError(`bad --from '${f}' (earliest or latest)`);
        o.from = f;
        break;
      }
      case '--max-in-flight':
        o.maxInFlight = positiveInt(value(), '--max-in-flight');
        break;
      case '--request-timeout':
        o.requestTimeoutMs = parseDuration(value(), '--request-timeout');
        break;
      case '--client-id':
        o.clientId = value();
        break;
      case '--json':
        o.json = true;
        break;
      case '--report':
        o.report = value();
        break;
      case '--quiet':
      case '-q':
        o.quiet = true;
        break;
      default:
        throw new PerfUsageError(`unknown option '${arg}'`);
    }
  }
  if (o.records !== null && !durationSet) o.durationMs = null;
  if (o.idempotence) {
    if (o.acks !== -1) throw new PerfUsageError('--idempotence needs --acks all');
    if (o.maxInFlight > 5) throw new PerfUsageError('--idempotence allows at most 5 requests in flight');
  }
  if (o.recordSize.kind === 'fixed' && o.recordSize.size < 8 && o.mode === 'e2e') {
    throw new PerfUsageError('e2e needs --record-size of at least 8 bytes (the value carries a timestamp)');
  }
  if (o.recordSize.kind === 'uniform' && o.recordSize.min < 8 && o.mode === 'e2e') {
    throw new PerfUsageError('e2e needs --record-size of at least 8 bytes (the value carries a timestamp)');
  }
  return o;
}

export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(text.trim());
  if (!match || Number(match[2]) > 65535)
    throw new PerfUsageError(`bad broker address '${text}' (host:port)`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) };
}

/** Mean value size of a distribution, for converting byte rates and sizing batches. */
export function meanRecordSize(d: SizeDistribution): number {
  return d.kind === 'fixed' ? d.size : (d.min + d.max) / 2;
}

/** Total records/s a rate means for this record size. */
export function recordsPerSecond(rate: Rate, d: SizeDistribution): number {
  return rate.unit === 'records' ? rate.perSecond : rate.perSecond / Math.max(1, meanRecordSize(d));
}
