// The main thread's side of the partition workers: starts them, places partitions on them, and turns
// operations into ring frames and completions back into promises.
//
// Each worker has two rings: requests (main produces, worker consumes) and completions (worker produces,
// main consumes through pump(), one wake-up per burst). Frames to a worker keep their order: when its request
// ring is full, later requests queue behind the first waiting one instead of overtaking it.
//
// Main thread; must not block.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { ListOffsetsSpec } from '../storage/index.js';
import {
  APPEND_HEADER_BYTES,
  APPEND_SHARED_REQUEST_BYTES,
  Op,
  READ_REQUEST_BYTES,
  decodeAppendCompletion,
  decodeControl,
  decodeReadCompletion,
  encodeAppendSharedRequest,
  encodeControl,
  encodeReadRequest,
  writeAppendHeader,
  type ControlMethod,
  type ControlMethods,
} from './messages.js';
import type {
  AppendOutcome,
  EpochEndOffsetOutcome,
  ListOffsetOutcome,
  PartitionOffsets,
  PartitionSize,
  PartitionSpec,
  ReadOutcome,
} from './partition-host.js';
import { PlacementTable } from './placement.js';
import { ReceiveArena, type ArenaLease } from './receive-arena.js';
import { createRing, pump, type Ring } from './ring.js';
import type { WorkerEvent, WorkerInit } from './worker.js';

export interface PoolOptions {
  workers: number;
  logDir: string;
  brokerProps: Record<string, string>;
  /** Partitions that exist (from the topic registry); placed before the workers load them from disk. */
  partitions: PartitionSpec[];
  ringBytes?: number;
  /** Size of the receive arena large Produce requests are read into (receive-arena.ts). */
  arenaBytes?: number;
  tickIntervalMs?: number;
  log: { warn(message: string): void; info(message: string): void };
}

type Resolver = (payload: Uint8Array) => void;

/** A read sent ahead of the fetch that will want it (see PartitionPool.read). */
interface ReadAhead {
  fetchOffset: number;
  maxBytes: number;
  flags: number;
  issuedAt: number;
  dropped: boolean;
  outcome: Promise<ReadOutcome>;
}

/** How long a read-ahead may wait for its fetch: the offsets it reports must stay recent. */
const READ_AHEAD_TTL_MS = 1000;

class WorkerChannel {
  readonly worker: Worker;
  readonly requests: Ring;
  readonly #completions: Ring;
  readonly #pending = new Map<number, Resolver>();
  readonly #backlog: { type: number; length: number; fill: (view: Uint8Array) => number }[] = [];
  #nextId = 1;
  #draining = false;
  #failed: Error | undefined;

  constructor(worker: Worker, requests: Ring, completions: Ring) {
    this.worker = worker;
    this.requests = requests;
    this.#completions = completions;
    void pump(completions, (_type, payload) => {
      const id = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
      const resolve = this.#pending.get(id);
      this.#pending.delete(id);
      // The payload is a view into the ring, valid only during this callback.
      resolve?.(payload.slice());
    });
  }

  /** Sends one request; `fill` writes the payload (the id is written by the caller via `id`). */
  send(type: number, length: number, fill: (view: Uint8Array, id: number) => void): Promise<Uint8Array> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) >>> 0 || 1;
    const done = new Promise<Uint8Array>((resolve) => this.#pending.set(id, resolve));
    const write = (view: Uint8Array): number => {
      fill(view, id);
      return length;
    };
    if (this.#backlog.length > 0 || !this.requests.tryWriteWith(type, length, write)) {
      this.#backlog.push({ type, length, fill: write });
      void this.#drainBacklog();
    }
    return done;
  }

  async #drainBacklog(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#backlog.length > 0) {
        const next = this.#backlog[0]!;
        if (this.requests.tryWriteWith(next.type, next.length, next.fill)) this.#backlog.shift();
        else if (!(await this.requests.waitForSpace(next.length, 1000)) && this.requests.closed) return;
      }
    } finally {
      this.#draining = false;
    }
  }

  fail(error: Error): void {
    this.#failed = error;
    this.#backlog.length = 0;
    for (const resolve of this.#pending.values()) resolve(new Uint8Array(0));
    this.#pending.clear();
  }

  get failure(): Error | undefined {
    return this.#failed;
  }

  close(): void {
    this.requests.close();
    this.#completions.close();
  }
}

/** Places a partition (and any lower-numbered ones of its topic not placed yet); returns its owner. */
function place(placement: PlacementTable, topic: string, partition: number): number {
  const count = placement.partitionCount(topic);
  if (count === 0) placement.addTopic(topic, partition + 1);
  else if (count <= partition) placement.addPartitions(topic, partition + 1);
  return placement.workerFor(topic, partition);
}

/**
 * Starts a worker thread on worker.js. Running from the TypeScript sources (tests under tsx), there is no
 * worker.js, and Node 20 does not hand the --import hooks to workers, so the worker registers tsx itself.
 */
function spawnWorker(init: WorkerInit, transferList: TransferListItem[]): Worker {
  const compiled = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData: init, transferList });
  const source = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: init, transferList });
}

export class PartitionPool {
  readonly placement: PlacementTable;
  /** Shared with every worker: connections read large Produce requests into it (receive-arena.ts). */
  readonly arena: ReceiveArena;
  readonly #channels: WorkerChannel[];
  readonly #specs = new Map<number, PartitionSpec>();
  readonly #ids = new Map<string, number>();
  /** At most one read-ahead per partition id (see read()). */
  readonly #readAhead = new Map<number, ReadAhead>();
  #nextPartitionId = 1;

  private constructor(placement: PlacementTable, arena: ReceiveArena, channels: WorkerChannel[]) {
    this.placement = placement;
    this.arena = arena;
    this.#channels = channels;
  }

  /** Starts the workers, each loading its share of the existing partitions from disk. */
  static async start(options: PoolOptions): Promise<PartitionPool> {
    const placement = new PlacementTable(options.workers);
    const sorted = [...options.partitions].sort((a, b) =>
      a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
    );
    for (const spec of sorted) place(placement, spec.topic, spec.partition);
    // Large batches travel through the receive arena, so the request ring carries small frames only; its
    // pages stay resident once a lap has touched them, so it is kept small.
    const ringBytes = options.ringBytes ?? 8 << 20;
    const arena = new ReceiveArena(options.arenaBytes);
    const channels: WorkerChannel[] = [];
    const ready: Promise<void>[] = [];
    for (let index = 0; index < options.workers; index++) {
      const requests = createRing(ringBytes);
      const completions = createRing(4 << 20);
      const owned = sorted
        .filter((spec) => placement.workerFor(spec.topic, spec.partition) === index)
        .map((spec) => `${spec.topic}\u0000${spec.partition}`);
      const init: WorkerInit = {
        index,
        logDir: options.logDir,
        brokerProps: options.brokerProps,
        owned,
        requests: requests.handle,
        completions: completions.handle,
        arena: arena.buffer,
        tickIntervalMs: options.tickIntervalMs ?? 1000,
      };
      const worker = spawnWorker(init, [...requests.transferList, ...completions.transferList]);
      const channel = new WorkerChannel(worker, requests.local, completions.local);
      channels.push(channel);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (event: WorkerEvent) => {
            if (event.kind === 'ready') resolve();
            else if (event.level === 'warn') options.log.warn(`[worker ${index}] ${event.message}`);
            else options.log.info(`[worker ${index}] ${event.message}`);
          });
          worker.on('error', (error) => {
            options.log.warn(`partition worker ${index} failed: ${error.stack ?? error.message}`);
            channel.fail(error);
            reject(error);
          });
          worker.on('exit', (code) => {
            if (!channel.failure) channel.fail(new Error(`partition worker ${index} exited (${code})`));
          });
        }),
      );
    }
    await Promise.all(ready);
    const pool = new PartitionPool(placement, arena, channels);
    await pool.open(options.partitions);
    return pool;
  }

  get workerCount(): number {
    return this.#channels.length;
  }

  /** Opens partitions (new or existing), placing new ones; returns their ids in order. */
  async open(specs: Omit<PartitionSpec, 'id'>[]): Promise<number[]> {
    const byWorker = new Map<number, PartitionSpec[]>();
    const ids = specs.map((spec) => {
      let worker = this.placement.workerFor(spec.topic, spec.partition);
      if (worker < 0) worker = place(this.placement, spec.topic, spec.partition);
      const existing = this.idOf(spec.topic, spec.partition);
      const full = { ...spec, id: existing ?? this.#nextPartitionId++ };
      this.#specs.set(full.id, full);
      this.#ids.set(`${spec.topic}\u0000${spec.partition}`, full.id);
      byWorker.set(worker, [...(byWorker.get(worker) ?? []), full]);
      return full.id;
    });
    await Promise.all([...byWorker].map(([worker, list]) => this.#control(worker, 'open', { specs: list })));
    return ids;
  }

  /** The numeric id of an open partition. */
  idOf(topic: string, partition: number): number | undefined {
    for (const spec of this.#specs.values())
      if (spec.topic === topic && spec.partition === partition) return spec.id;
    return undefined;
  }

  async delete(topic: string): Promise<void> {
    const byWorker = new Map<number, number[]>();
    for (const spec of [...this.#specs.values()].filter((s) => s.topic === topic)) {
      const worker = this.placement.workerFor(topic, spec.partition);
      byWorker.set(worker, [...(byWorker.get(worker) ?? []), spec.id]);
      this.#specs.delete(spec.id);
      this.#ids.delete(`${topic}\u0000${spec.partition}`);
      this.#dropReadAhead(spec.id);
    }
    // One worker at a time: deleting rewrites the log dir's shared checkpoint files.
    for (const [worker, ids] of byWorker) await this.#control(worker, 'delete', { ids });
    this.placement.removeTopic(topic);
  }

  #channelFor(id: number): WorkerChannel | undefined {
    const spec = this.#specs.get(id);
    if (!spec) return undefined;
    return this.#channels[this.placement.workerFor(spec.topic, spec.partition)];
  }

  /** Appends producer batches (copied once, into the worker's ring). */
  /**
   * Appends record batches on the partition's worker. Batches a connection read into the receive arena are
   * named by their region (APPEND_SHARED); others are copied into the request ring, or, when too large for
   * it, into an arena lease of their own (waiting for one if need be), so the ring can stay small.
   */
  async append(id: number, records: Uint8Array): Promise<AppendOutcome> {
    const channel = this.#channelFor(id);
    if (!channel) return { ok: false, reason: 'unknown-partition', message: `no partition ${id}` };
    const existing = this.arena.leaseOf(records);
    if (existing) {
      existing.retain();
      return this.#appendShared(channel, id, records, existing);
    }
    const length = APPEND_HEADER_BYTES + records.length;
    if (length > channel.requests.maxPayloadBytes) {
      // The arena frees up as appends complete, so waiting for it cannot deadlock.
      const lease = await this.arena.allocateWhenFree(records.length);
      if (!lease) {
        return {
          ok: false,
          reason: 'record-too-large',
          message: `${records.length} bytes exceed the receive arena (${this.arena.buffer.byteLength} bytes)`,
        };
      }
      lease.bytes.set(records);
      return this.#appendShared(channel, id, lease.bytes, lease);
    }
    const payload = await channel.send(Op.APPEND, length, (view, requestId) => {
      writeAppendHeader(view, requestId, id);
      view.set(records, APPEND_HEADER_BYTES);
    });
    if (payload.length === 0) return { ok: false, reason: 'storage-error', message: String(channel.failure) };
    return decodeAppendCompletion(payload).outcome;
  }

  /** APPEND_SHARED for batches in the arena; drops the caller's reference to `lease` when answered. */
  async #appendShared(
    channel: WorkerChannel,
    id: number,
    records: Uint8Array,
    lease: ArenaLease,
  ): Promise<AppendOutcome> {
    try {
      const payload = await channel.send(Op.APPEND_SHARED, APPEND_SHARED_REQUEST_BYTES, (view, requestId) =>
        encodeAppendSharedRequest(view, requestId, id, records.byteOffset, records.length),
      );
      if (payload.length === 0)
        return { ok: false, reason: 'storage-error', message: String(channel.failure) };
      return decodeAppendCompletion(payload).outcome;
    } finally {
      lease.release();
    }
  }

  /**
   * Whole batches from `fetchOffset` within `maxBytes` (see PartitionHost.read).
   *
   * Read-ahead: when a read stops because of `maxBytes` with more below the high watermark (a consumer
   * catching up), the next read (from its nextOffset, same limit and flags) is sent to the worker at once, so
   * the consumer's next fetch finds it done or in flight instead of paying a worker round trip after the
   * previous response has gone out. Data below the high watermark does not change, so such a read returns
   * exactly the batches a later one would; only the offsets it reports (high watermark, log start) may be a
   * moment old, which Kafka allows a fetch too. A read-ahead is used once, within READ_AHEAD_TTL_MS, and
   * dropped by deleteRecords and delete. A reader at the end of the log never triggers one.
   */
  async read(id: number, fetchOffset: number, maxBytes: number, flags: number): Promise<ReadOutcome> {
    const ahead = this.#readAhead.get(id);
    let outcome: ReadOutcome | undefined;
    if (ahead) {
      this.#readAhead.delete(id);
      if (
        ahead.fetchOffset === fetchOffset &&
        ahead.maxBytes === maxBytes &&
        ahead.flags === flags &&
        performance.now() - ahead.issuedAt < READ_AHEAD_TTL_MS
      ) {
        const early = await ahead.outcome;
        // deleteRecords or delete may have dropped it while it was in flight.
        if (early.ok && !ahead.dropped) outcome = early;
      }
    }
    outcome ??= await this.#readNow(id, fetchOffset, maxBytes, flags);
    if (outcome.ok && outcome.bytes > 0 && outcome.nextOffset < outcome.highWatermark) {
      this.#readAhead.set(id, {
        fetchOffset: outcome.nextOffset,
        maxBytes,
        flags,
        issuedAt: performance.now(),
        dropped: false,
        // Nobody may ever ask for it: a failure must not become an unhandled rejection.
        outcome: this.#readNow(id, outcome.nextOffset, maxBytes, flags).catch((): ReadOutcome => ({
          ok: false,
          reason: 'unknown-partition',
        })),
      });
    }
    return outcome;
  }

  async #readNow(id: number, fetchOffset: number, maxBytes: number, flags: number): Promise<ReadOutcome> {
    const channel = this.#channelFor(id);
    if (!channel) return { ok: false, reason: 'unknown-partition' };
    const payload = await channel.send(Op.READ, READ_REQUEST_BYTES, (view, requestId) =>
      encodeReadRequest(view, requestId, id, fetchOffset, maxBytes, flags),
    );
    if (payload.length === 0) return { ok: false, reason: 'unknown-partition' };
    return decodeReadCompletion(payload).outcome;
  }

  #dropReadAhead(id: number): void {
    const ahead = this.#readAhead.get(id);
    if (ahead) ahead.dropped = true;
    this.#readAhead.delete(id);
  }

  async listOffset(id: number, spec: ListOffsetsSpec): Promise<ListOffsetOutcome> {
    const worker = this.#workerOf(id);
    if (worker === undefined) return { ok: false, reason: 'unknown-partition' };
    return this.#control(worker, 'listOffset', { id, spec });
  }

  async deleteRecords(id: number, offset: number): Promise<ControlMethods['deleteRecords']['result']> {
    this.#dropReadAhead(id);
    const worker = this.#workerOf(id);
    if (worker === undefined) return { ok: false, reason: 'unknown-partition' };
    return this.#control(worker, 'deleteRecords', { id, offset });
  }

  async offsets(id: number): Promise<PartitionOffsets | null> {
    const worker = this.#workerOf(id);
    return worker === undefined ? null : this.#control(worker, 'offsets', { id });
  }

  /** OffsetForLeaderEpoch: where `epoch` ends in the partition's log (see PartitionHost.epochEndOffset). */
  async epochEndOffset(id: number, epoch: number): Promise<EpochEndOffsetOutcome> {
    const worker = this.#workerOf(id);
    if (worker === undefined) return { ok: false, reason: 'unknown-partition' };
    return this.#control(worker, 'epochEndOffset', { id, epoch });
  }

  /** The topic and partition behind an id (for sizes()). */
  partitionOf(id: number): { topic: string; partition: number } | undefined {
    const spec = this.#specs.get(id);
    return spec ? { topic: spec.topic, partition: spec.partition } : undefined;
  }

  async sizes(): Promise<PartitionSize[]> {
    const all = await Promise.all(this.#channels.map((_, worker) => this.#control(worker, 'sizes', {})));
    return all.flat();
  }

  async checkpoint(): Promise<void> {
    for (let worker = 0; worker < this.#channels.length; worker++)
      await this.#control(worker, 'checkpoint', {});
  }

  /** Clean shutdown: each worker flushes, closes its logs and writes its checkpoints, one after another. */
  async close(): Promise<void> {
    for (let worker = 0; worker < this.#channels.length; worker++) {
      const channel = this.#channels[worker]!;
      if (!channel.failure) await this.#control(worker, 'close', {}).catch(() => {});
      channel.close();
      await channel.worker.terminate();
    }
  }

  #workerOf(id: number): number | undefined {
    const spec = this.#specs.get(id);
    return spec ? this.placement.workerFor(spec.topic, spec.partition) : undefined;
  }

  async #control<M extends ControlMethod>(
    worker: number,
    method: M,
    args: ControlMethods[M]['args'],
  ): Promise<ControlMethods[M]['result']> {
    const channel = this.#channels[worker]!;
    const request = encodeControl(0, { method, args });
    const payload = await channel.send(Op.CONTROL, request.length, (view, requestId) => {
      view.set(request);
      new DataView(view.buffer, view.byteOffset, 4).setUint32(0, requestId, true);
    });
    if (payload.length === 0) throw channel.failure ?? new Error('partition worker is gone');
    const { body } = decodeControl<{ ok: boolean; value: ControlMethods[M]['result']; error?: string }>(
      payload,
    );
    if (!body.ok) throw new Error(`${method} failed on worker ${worker}: ${body.error}`);
    return body.value;
  }
}
