// Entry point of a partition worker thread. It owns a disjoint set of partitions (a PartitionHost) and
// serves the main thread's requests from its request ring, answering on its completion ring.
//
// The loop drains every request that is there without touching the event loop (appends and reads are
// synchronous file operations), then sleeps with Atomics.waitAsync rather than Atomics.wait, so that the few
// asynchronous jobs (ListOffsets by timestamp decompresses batches, compaction runs in piscina) and the
// periodic tick (flush.ms, retention, compaction) still make progress while the worker is idle.
import { parentPort, workerData } from 'node:worker_threads';
import { logConfigFromBrokerProps } from '../storage/index.js';
import {
  Op,
  decodeAppendSharedRequest,
  decodeControl,
  decodeReadRequest,
  encodeAppendCompletion,
  encodeControl,
  encodeReadCompletion,
  readAppendRequest,
  READ_COMMITTED_FLAG,
  STRICT_MAX_BYTES_FLAG,
  type ControlMethod,
  type ControlMethods,
} from './messages.js';
import { PartitionHost } from './partition-host.js';
import { openRing, type Ring, type RingHandle } from './ring.js';

export interface WorkerInit {
  index: number;
  logDir: string;
  brokerProps: Record<string, string>;
  /** "topic\u0000partition" keys this worker loads from disk at start. */
  owned: string[];
  requests: RingHandle;
  completions: RingHandle;
  /** The receive arena (receive-arena.ts): APPEND_SHARED requests name regions of it. */
  arena: SharedArrayBuffer;
  tickIntervalMs: number;
}

/** Messages a worker posts to the main thread outside the rings. */
export type WorkerEvent = { kind: 'log'; level: 'warn' | 'info'; message: string } | { kind: 'ready' };

const init = workerData as WorkerInit;
const post = (event: WorkerEvent): void => parentPort!.postMessage(event);
const requests: Ring = openRing(init.requests);
const completions: Ring = openRing(init.completions);
const owned = new Set(init.owned);

const host = new PartitionHost({
  logDir: init.logDir,
  defaults: logConfigFromBrokerProps(init.brokerProps),
  owns: (topic, partition) => owned.has(`${topic}\u0000${partition}`),
  cleanShutdownFile: `.kafka_cleanshutdown.w${init.index}`,
  brokerProps: init.brokerProps,
  logger: {
    warn: (message) => post({ kind: 'log', level: 'warn', message }),
    info: (message) => post({ kind: 'log', level: 'info', message }),
  },
});

const backlog: { type: number; payload: Uint8Array }[] = [];

/** Queues a completion. Completions are matched by id, so ones that wait for space may be overtaken. */
function complete(type: number, payload: Uint8Array): void {
  if (backlog.length === 0 && completions.tryWrite(type, payload)) return;
  backlog.push({ type, payload });
}

/** Writes queued completions; the main thread drains its ring without ever blocking, so space comes back. */
async function flushBacklog(): Promise<void> {
  while (backlog.length > 0) {
    const next = backlog[0]!;
    if (completions.tryWrite(next.type, next.payload)) backlog.shift();
    else if (completions.canBlock) completions.waitForSpaceSync(next.payload.length, 100);
    else await completions.waitForSpace(next.payload.length, 100);
  }
}

async function control(id: number, method: ControlMethod, args: unknown): Promise<void> {
  let body: unknown;
  try {
    body = { ok: true, value: await runControl(method, args as never) };
  } catch (error) {
    body = { ok: false, error: (error as Error).message };
  }
  complete(Op.CONTROL, encodeControl(id, body));
  await flushBacklog();
}

async function runControl<M extends ControlMethod>(
  method: M,
  args: ControlMethods[M]['args'],
): Promise<ControlMethods[M]['result']> {
  const argsOf = <K extends ControlMethod>(_: K) => args as unknown as ControlMethods[K]['args'];
  switch (method) {
    case 'open':
      host.open(argsOf('open').specs);
      return null;
    case 'delete':
      host.delete(argsOf('delete').ids);
      return null;
    case 'listOffset':
      return host.listOffset(argsOf('listOffset').id, argsOf('listOffset').spec);
    case 'deleteRecords':
      return host.deleteRecords(argsOf('deleteRecords').id, argsOf('deleteRecords').offset);
    case 'offsets':
      return host.offsets(argsOf('offsets').id) ?? null;
    case 'epochEndOffset':
      return host.epochEndOffset(argsOf('epochEndOffset').id, argsOf('epochEndOffset').epoch);
    case 'sizes':
      return host.sizes();
    case 'checkpoint':
      host.checkpoint();
      return null;
    case 'close':
      closing = true;
      await host.close();
      return null;
  }
  throw new Error(`unknown control method ${String(method)}`);
}

let closing = false;
let lastTick = Date.now();

/** Maintenance (flush.ms, retention, checkpoints, compaction), at most once per tick interval. */
function maybeTick(): void {
  const now = Date.now();
  if (closing || now - lastTick < init.tickIntervalMs) return;
  lastTick = now;
  try {
    host.tick(now);
  } catch (error) {
    post({ kind: 'log', level: 'warn', message: `maintenance: ${(error as Error).message}` });
  }
}

let lastYield = Date.now();

/**
 * Lets the event loop run a turn every few milliseconds even under sustained load: compaction results (from
 * piscina) and other I/O callbacks are macrotasks, which a loop that only awaits promises would starve.
 */
async function yieldNow(): Promise<void> {
  const now = Date.now();
  if (now - lastYield < 20) return;
  lastYield = now;
  await new Promise((resolve) => setImmediate(resolve));
}

async function serve(): Promise<void> {
  post({ kind: 'ready' });
  for (;;) {
    for (let message = requests.read(); message !== null; message = requests.read()) {
      const { type, payload } = message;
      if (type === Op.APPEND) {
        const { id, partition, records } = readAppendRequest(payload);
        const buffer = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
        complete(Op.APPEND, encodeAppendCompletion(id, host.append(partition, buffer)));
      } else if (type === Op.APPEND_SHARED) {
        const { id, partition, arenaOffset, length } = decodeAppendSharedRequest(payload);
        const buffer = Buffer.from(init.arena, arenaOffset, length);
        complete(Op.APPEND, encodeAppendCompletion(id, host.append(partition, buffer)));
      } else if (type === Op.READ) {
        const r = decodeReadRequest(payload);
        const outcome = host.read(
          r.partition,
          r.fetchOffset,
          r.maxBytes,
          (r.flags & READ_COMMITTED_FLAG) !== 0,
          (r.flags & STRICT_MAX_BYTES_FLAG) !== 0,
        );
        complete(Op.READ, encodeReadCompletion(r.id, outcome));
      } else if (type === Op.CONTROL) {
        const { id, body } = decodeControl<{ method: ControlMethod; args: unknown }>(payload);
        void control(id, body.method, body.args);
      }
    }
    requests.release();
    await flushBacklog();
    maybeTick();
    await yieldNow();
    if (!(await requests.waitReadable(init.tickIntervalMs)) && requests.closed) break;
  }
}

void serve();
