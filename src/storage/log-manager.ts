// All partition logs of one log dir, and the dir-level files:
//   <logDir>/<topic>-<partition>/            one PartitionLog each (see partition-log.ts)
//   <logDir>/<topic>-<partition>.<id>-delete  a deleted partition awaiting removal (removed on open)
//   recovery-point-offset-checkpoint          per partition: recovery starts here after an unclean stop
//   log-start-offset-checkpoint               per partition: log start offset (DeleteRecords, retention)
//   cleaner-offset-checkpoint                 per partition: first offset not yet compacted
//   .kafka_cleanshutdown                      present only after a clean close; removed on open
// (checkpoint formats in checkpoint.ts.)
//
// Several managers may share one log dir when partitions are spread over worker threads: pass `owns` so each
// loads only its partitions, and give each its own `cleanShutdownFile`. Checkpoint writes merge with the
// entries of partitions they do not own; concurrent writers can still lose each other's update, which only
// costs recovery time (a stale recovery point means more scanning, never lost data).
// Runs on the thread that owns these partitions (a partition worker).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import {
  CLEANER_OFFSET_CHECKPOINT,
  LOG_START_OFFSET_CHECKPOINT,
  RECOVERY_POINT_CHECKPOINT,
  readOffsetCheckpoint,
  writeFileAtomically,
  writeOffsetCheckpoint,
  type PartitionOffset,
} from './checkpoint.js';
import type { CleanerResult, CleanerTask } from './compaction.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './log-config.js';
import { PartitionLog } from './partition-log.js';
import { SILENT_LOGGER, type StorageLogger } from './segment.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';

export interface LogManagerOptions {
  logDir: string;
  /** Topic defaults (from broker properties: logConfigFromBrokerProps). */
  defaults?: LogConfig;
  /** A topic's resolved config, when it has overrides. */
  topicConfig?: (topic: string) => LogConfig | undefined;
  logger?: StorageLogger;
  now?: () => number;
  /** Which partitions this manager loads and checkpoints (default: every partition in the dir). */
  owns?: (topic: string, partition: number) => boolean;
  cleanShutdownFile?: string;
  /**
   * Where compaction runs: 'piscina' (a worker pool running the compiled cleaner-worker.js; falls back to
   * in-process when that file is absent, as under tsx), 'in-process', or a custom runner.
   */
  cleaner?: 'piscina' | 'in-process' | ((task: CleanerTask) => Promise<CleanerResult>);
  /** maintain(): retention check period (Kafka's log.retention.check.interval.ms, default 300000). */
  retentionCheckIntervalMs?: number;
  /** maintain(): checkpoint period (log.flush.offset.checkpoint.interval.ms, default 60000). */
  checkpointIntervalMs?: number;
  /** maintain(): compaction check period (log.cleaner.backoff.ms, default 15000). */
  cleanerBackoffMs?: number;
}

/** `<topic>-<partition>` -> parts; undefined for anything else (deleted dirs, stray files). */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const match = /^(.+)-(\d+)$/.exec(name);
  if (!match) return undefined;
  return { topic: match[1]!, partition: Number(match[2]) };
}

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class LogManager {
  readonly logDir: string;
  #options: LogManagerOptions;
  #logs = new Map<string, PartitionLog>();
  #logger: StorageLogger;
  /** The compaction pool, created (and piscina loaded) by the first compaction pass. */
  #pool: Promise<Piscina> | undefined;
  #cleanerInWorker = false;
  #runCleaner: ((task: CleanerTask) => Promise<CleanerResult>) | undefined;
  #cleanShutdownFile: string;
  #owns: (topic: string, partition: number) => boolean;

  private constructor(options: LogManagerOptions) {
    this.logDir = options.logDir;
    this.#options = options;
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.#owns = options.owns ?? (() => true);
    this.#cleanShutdownFile = path.join(this.logDir, options.cleanShutdownFile ?? CLEAN_SHUTDOWN_FILE);
    const cleaner = options.cleaner ?? 'piscina';
    if (typeof cleaner === 'function') {
      this.#runCleaner = cleaner;
    } else if (cleaner === 'piscina') {
      const workerUrl = new URL('./cleaner-worker.js', import.meta.url);
      if (fs.existsSync(fileURLToPath(workerUrl))) {
        this.#cleanerInWorker = true;
        // No thread runs until there is work (minThreads 0), and piscina itself is only loaded then: most
        // partition workers never compact anything.
        this.#runCleaner = async (task) => {
          this.#pool ??= import('piscina').then(
            ({ Piscina }) =>
              new Piscina({ filename: workerUrl.href, minThreads: 0, maxThreads: 1, idleTimeout: 5000 }),
          );
          return (await this.#pool).run(task) as Promise<CleanerResult>;
        };
      }
    }
  }

  /** Whether compaction passes run in a piscina worker (false: in this thread). */
  get cleanerInWorker(): boolean {
    return this.#cleanerInWorker;
  }

  /** Opens every (owned) partition in `logDir`, recovering as needed. */
  static open(options: LogManagerOptions): LogManager {
    const manager = new LogManager(options);
    manager.#load();
    return manager;
  }

  #load(): void {
    fs.mkdirSync(this.logDir, { recursive: true });
    const cleanShutdown = fs.existsSync(this.#cleanShutdownFile);
    const read = (name: string): Map<string, number> => {
      const out = new Map<string, number>();
      try {
        for (const entry of readOffsetCheckpoint(path.join(this.logDir, name))) {
          out.set(key(entry.topic, entry.partition), entry.offset);
        }
      } catch (error) {
        this.#logger.warn(`${(error as Error).message}; ignoring it`);
      }
      return out;
    };
    const recoveryPoints = read(RECOVERY_POINT_CHECKPOINT);
    const logStarts = read(LOG_START_OFFSET_CHECKPOINT);
    const cleanerOffsets = read(CLEANER_OFFSET_CHECKPOINT);
    for (const entry of fs.readdirSync(this.logDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name.endsWith('-delete')) {
        fs.rmSync(path.join(this.logDir, entry.name), { recursive: true, force: true });
        continue;
      }
      const parsed = parsePartitionDirName(entry.name);
      if (!parsed || !this.#owns(parsed.topic, parsed.partition)) continue;
      const id = key(parsed.topic, parsed.partition);
      const recoveryPoint = recoveryPoints.get(id);
      const logStartOffset = logStarts.get(id);
      const cleanerCheckpoint = cleanerOffsets.get(id);
      const log = PartitionLog.open({
        ...this.#logOptions(parsed.topic, parsed.partition),
        cleanShutdown,
        ...(recoveryPoint === undefined ? {} : { recoveryPoint }),
        ...(logStartOffset === undefined ? {} : { logStartOffset }),
        ...(cleanerCheckpoint === undefined ? {} : { cleanerCheckpoint }),
      });
      this.#logs.set(id, log);
    }
    // From now on a crash is an unclean shutdown.
    fs.rmSync(this.#cleanShutdownFile, { force: true });
  }

  #logOptions(topic: string, partition: number, config?: LogConfig) {
    return {
      dir: path.join(this.logDir, partitionDirName(topic, partition)),
      topic,
      partition,
      config: config ?? this.configFor(topic),
      logger: this.#logger,
      ...(this.#options.now ? { now: this.#options.now } : {}),
      ...(this.#runCleaner ? { runCleaner: this.#runCleaner } : {}),
    };
  }

  configFor(topic: string): LogConfig {
    return this.#options.topicConfig?.(topic) ?? this.#options.defaults ?? DEFAULT_LOG_CONFIG;
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.#logs.get(key(topic, partition));
  }

  /** The partition's log, created empty (with `config`, else the topic's config) if it does not exist. */
  getOrCreate(topic: string, partition: number, config?: LogConfig): PartitionLog {
    const existing = this.get(topic, partition);
    if (existing) {
      if (config) existing.updateConfig(config);
      return existing;
    }
    const log = PartitionLog.open({ ...this.#logOptions(topic, partition, config), recoveryPoint: 0 });
    this.#logs.set(key(topic, partition), log);
    return log;
  }

  logs(): PartitionLog[] {
    return [...this.#logs.values()];
  }

  /** Deletes a partition's log (topic deletion); reads in flight keep working for file.delete.delay.ms. */
  deleteLog(topic: string, partition: number): boolean {
    const log = this.get(topic, partition);
    if (!log) return false;
    this.#logs.delete(key(topic, partition));
    log.delete();
    this.checkpoint();
    return true;
  }

  /** Writes the three offset checkpoints for the owned logs (merging other managers' entries). */
  checkpoint(): void {
    const write = (name: string, value: (log: PartitionLog) => number): void => {
      const file = path.join(this.logDir, name);
      let others: PartitionOffset[] = [];
      if (this.#options.owns) {
        try {
          others = readOffsetCheckpoint(file).filter((entry) => !this.#owns(entry.topic, entry.partition));
        } catch {
          others = [];
        }
      }
      const mine = this.logs().map((log) => ({
        topic: log.topic,
        partition: log.partition,
        offset: value(log),
      }));
      writeOffsetCheckpoint(file, [...others, ...mine]);
    };
    write(RECOVERY_POINT_CHECKPOINT, (log) => log.recoveryPoint);
    write(LOG_START_OFFSET_CHECKPOINT, (log) => log.logStartOffset);
    write(CLEANER_OFFSET_CHECKPOINT, (log) => log.cleanerCheckpoint);
  }

  /** Retention for every log (a scheduler calls this every log.retention.check.interval.ms). */
  runRetention(now?: number): number {
    let deleted = 0;
    for (const log of this.logs()) deleted += log.deleteOldSegments(now);
    return deleted;
  }

  /** One compaction pass for each compacted log that needs one. Returns segments replaced. */
  async runCompaction(now?: number): Promise<number> {
    let replaced = 0;
    for (const log of this.logs()) {
      if (log.closed || !log.config.cleanupPolicy.compact) continue;
      replaced += await log.compact(now === undefined ? {} : { now });
    }
    return replaced;
  }

  /** flush.ms for every log. Returns how many flushed. */
  flushDue(now?: number): number {
    let flushed = 0;
    for (const log of this.logs()) if (log.flushIfDue(now)) flushed++;
    return flushed;
  }

  #lastRetentionMs = -Infinity;
  #lastCheckpointMs = -Infinity;
  #lastCleanerMs = -Infinity;
  #compacting: Promise<number> | undefined;

  /**
   * The periodic work in one call, for an owner thread that has no free-running timers (a partition worker
   * blocked in Atomics.wait between requests): flush.ms flushes, retention, checkpoints and compaction, each
   * when its interval has passed. Compaction is started, not awaited (its swap-in runs on a later turn).
   */
  maintain(now = this.#options.now?.() ?? Date.now()): {
    flushed: number;
    deleted: number;
    checkpointed: boolean;
    compactionStarted: boolean;
  } {
    const flushed = this.flushDue(now);
    let deleted = 0;
    if (now - this.#lastRetentionMs >= (this.#options.retentionCheckIntervalMs ?? 300_000)) {
      this.#lastRetentionMs = now;
      deleted = this.runRetention(now);
    }
    let checkpointed = false;
    if (deleted > 0 || now - this.#lastCheckpointMs >= (this.#options.checkpointIntervalMs ?? 60_000)) {
      this.#lastCheckpointMs = now;
      this.checkpoint();
      checkpointed = true;
    }
    let compactionStarted = false;
    if (!this.#compacting && now - this.#lastCleanerMs >= (this.#options.cleanerBackoffMs ?? 15_000)) {
      this.#lastCleanerMs = now;
      compactionStarted = true;
      this.#compacting = this.runCompaction(now).finally(() => (this.#compacting = undefined));
    }
    return { flushed, deleted, checkpointed, compactionStarted };
  }

  /** Clean shutdown: flush and close every log, write the checkpoints and the clean-shutdown marker. */
  async close(): Promise<void> {
    await this.#compacting;
    for (const log of this.logs()) log.close();
    this.checkpoint();
    writeFileAtomically(this.#cleanShutdownFile, '');
    this.#logs.clear();
    await (await this.#pool)?.destroy();
  }
}
