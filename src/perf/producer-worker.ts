// A producer thread of `fjord perf`: one connection per partition leader, prebuilt Produce frames, up to
// maxInFlight pipelined requests per connection. Unthrottled, it sends whenever a connection has room and
// latency counts from the actual send. At a fixed rate, record i of this thread is due at
// start + i / rate; a request goes out when its last record is due (so a batch lingers while it fills), a
// request sent late carries every record due by then (up to the batch size), and latency counts from each
// record's due time, so a stalled broker cannot hide its backlog (coordinated omission). Runs in a worker
// thread only.
import { parentPort, workerData } from 'node:worker_threads';
import { errorInfo } from '../protocol/error-codes.js';
import { decodeResponse } from '../protocol/frame.js';
import { InitProducerId } from '../protocol/messages/init-producer-id.js';
import { Produce } from '../protocol/messages/produce.js';
import { CompressionType } from '../protocol/records/record-batch.js';
import { PerfConnection } from './connection.js';
import { Histogram } from './histogram.js';
import type { ControlMessage, StatsDelta, WorkerInit, WorkerMessage } from './messages.js';
import { meanRecordSize, parseHostPort, recordsPerSecond } from './options.js';
import {
  buildPart,
  buildTemplates,
  codecOf,
  fixCrc,
  nowMicros,
  patchPartition,
  PRODUCE_MAX_VERSION,
  PRODUCE_MIN_VERSION,
  setSequence,
  stampBatch,
  type FramePart,
  type FrameTemplate,
  type TemplateSpec,
} from './payload.js';

const init = workerData as WorkerInit;
const o = init.options;
const post = (message: WorkerMessage): void => parentPort!.postMessage(message);

class Stats {
  records = 0;
  bytes = 0;
  requests = 0;
  errors: Record<string, number> = {};
  latency = new Histogram();

  take(): StatsDelta {
    const delta = {
      records: this.records,
      bytes: this.bytes,
      requests: this.requests,
      errors: this.errors,
      latency: this.latency.toData(),
    };
    this.records = this.bytes = this.requests = 0;
    this.errors = {};
    this.latency.reset();
    return delta;
  }
}

interface Slot {
  template: FrameTemplate;
  busy: boolean;
}

async function main(): Promise<void> {
  const leaderOf = new Map(init.layout.partitions.map((p) => [p.partition, p.leader]));
  const partitions = init.layout.partitions.map((p) => p.partition);
  const connections = new Map<string, PerfConnection>();
  for (const leader of new Set(leaderOf.values())) {
    const { host, port } = parseHostPort(leader);
    const c = await PerfConnection.connect(host, port, {
      clientId: o.clientId,
      requestTimeoutMs: o.requestTimeoutMs,
    });
    connections.set(leader, c);
  }
  let version = PRODUCE_MAX_VERSION;
  for (const c of connections.values())
    version = Math.min(version, c.version(Produce, PRODUCE_MAX_VERSION, PRODUCE_MIN_VERSION));

  let producerId: number | undefined;
  let producerEpoch: number | undefined;
  if (o.idempotence) {
    const c = connections.values().next().value!;
    const v = c.version(InitProducerId, 4);
    const response = await c.request(InitProducerId, v, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (response.errorCode !== 0)
      throw new Error(`InitProducerId failed: ${errorInfo(response.errorCode).name}`);
    producerId = Number(response.producerId);
    producerEpoch = response.producerEpoch;
  }

  const keyBytes = o.keys.kind === 'none' ? 0 : 4 + String(o.keys.count).length;
  const perRecord = meanRecordSize(o.recordSize) + keyBytes;
  const maxByBatch = Math.max(1, Math.floor(o.batchSize / Math.max(1, perRecord)));
  const rate = o.rate === null ? null : recordsPerSecond(o.rate, o.recordSize) / o.producers;
  const recordsPerRequest =
    rate === null ? maxByBatch : Math.min(maxByBatch, Math.max(1, Math.round((rate * o.lingerMs) / 1000)));

  const spec: TemplateSpec = {
    topic: init.layout.topic,
    partitions,
    leaderOf: (p) => leaderOf.get(p)!,
    recordsPerRequest,
    recordSize: o.recordSize,
    keys: o.keys,
    compression: o.compression,
    acks: o.acks,
    timeoutMs: Math.min(o.requestTimeoutMs, 30_000),
    produceVersion: version,
    clientId: o.clientId,
    producerId,
    producerEpoch,
    seed: 0x5eed + init.index * 7919,
  };
  // Enough templates that one is always free while others are in flight on every connection.
  const templateCount = Math.max(8, o.maxInFlight * connections.size + 2);
  // At a fixed rate a request normally carries one linger's worth of records. When sending falls behind
  // (every request in flight while records come due), the backlog goes out in bigger requests, up to the
  // batch size, as a real producer's batches keep filling while it waits: with one size only, 5 in flight
  // x 100 KiB per round trip could not catch up after a hiccup, and the lateness grew to ~450 ms at
  // 100 MB/s while the broker answered in ~4 ms (measured).
  const sizes: number[] = [recordsPerRequest];
  if (rate !== null) {
    // Multiples of the base size, so a --records quota still ends on the remainder template.
    const top = Math.floor(maxByBatch / recordsPerRequest) * recordsPerRequest;
    for (let size = recordsPerRequest * 2; size < top; size *= 2) sizes.push(size);
    if (top > recordsPerRequest) sizes.push(top);
  }
  const pools: { size: number; slots: Slot[]; cursor: number }[] = [];
  for (const [k, size] of sizes.entries()) {
    const seed = k === 0 ? spec.seed : spec.seed + 1 + k;
    const templates = await buildTemplates({ ...spec, seed }, templateCount, size);
    pools.push({ size, slots: templates.map((template) => ({ template, busy: false })), cursor: 0 });
  }
  let remainder: Slot | undefined;
  if (init.quota !== null && init.quota % recordsPerRequest !== 0) {
    const [t] = await buildTemplates({ ...spec, seed: spec.seed + 1 }, 1, init.quota % recordsPerRequest);
    remainder = { template: t!, busy: false };
  }

  const e2e = o.mode === 'e2e';
  const rebuildForStamps = e2e && codecOf(o.compression) !== CompressionType.NONE;
  const sequences = new Map<number, number>();
  const stats = new Stats();
  let failure: Error | undefined;
  for (const c of connections.values()) {
    c.onFailure = (error) => {
      failure ??= error;
      wake();
    };
  }

  let stopping = false;
  post({ type: 'ready' });
  const startAt = await new Promise<number>((resolve) => {
    parentPort!.on('message', (message: ControlMessage) => {
      // Everyone starts at the same instant; the runner picks it a little ahead.
      if (message.type === 'start')
        setTimeout(() => resolve(message.at), Math.max(0, message.at - Date.now()));
      else if (message.type === 'stop') {
        stopping = true;
        wake();
      }
    });
  });
  const startUs = startAt * 1000;
  const measureFromUs = startUs + o.warmupMs * 1000;
  let scheduled = 0; // records sent so far (the rate schedule's index)
  let measuredSent = 0;
  let inFlight = 0;
  let partitionCursor = init.index;
  let timer: NodeJS.Timeout | undefined;
  let finished: (() => void) | undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));

  const reporter = setInterval(() => {
    post({
      type: 'stats',
      role: 'producer',
      index: init.index,
      warmup: nowMicros() < measureFromUs,
      delta: stats.take(),
      at: Date.now(),
    });
  }, 1000);

  function wake(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    setImmediate(pump);
  }

  function complete(
    part: FramePart,
    partSent: number,
    firstIndex: number,
    measured: boolean,
    response: Buffer,
  ): void {
    if (!measured) return;
    const ackUs = nowMicros();
    stats.requests++;
    const share = part.payloadBytes / part.records;
    if (o.acks === 0) {
      const n = measuredIn(firstIndex, part.records);
      stats.records += n;
      stats.bytes += n === part.records ? part.payloadBytes : Math.round(share * n);
      return;
    }
    const body = decodeResponse(Produce, version, response).body;
    const failed = new Map<number, number>();
    for (const topic of body.responses) {
      for (const p of topic.partitionResponses) if (p.errorCode !== 0) failed.set(p.index, p.errorCode);
    }
    let index = firstIndex;
    for (const batch of part.batches) {
      const code = failed.get(batch.partition);
      const n = measuredIn(index, batch.recordCount);
      if (code !== undefined) {
        const name = errorInfo(code).name;
        stats.errors[name] = (stats.errors[name] ?? 0) + n;
      } else {
        stats.records += n;
        stats.bytes +=
          n === batch.recordCount
            ? batch.payloadBytes
            : Math.round((batch.payloadBytes * n) / batch.recordCount);
        if (rate === null) stats.latency.record(ackUs - partSent, n);
        else
          for (let i = batch.recordCount - n; i < batch.recordCount; i++)
            stats.latency.record(ackUs - dueUs(index + i));
      }
      index += batch.recordCount;
    }
  }

  /**
   * How many of the `count` records from schedule index `first` are measured. Unthrottled, a request is
   * measured as a whole (by its send time, checked by the caller); at a rate, each record whose due time is
   * past the warm-up is, so the consumer side of an end-to-end run (which goes by the stamped time) agrees.
   */
  function measuredIn(first: number, count: number): number {
    if (rate === null) return count;
    const firstMeasured = Math.ceil(((measureFromUs - startUs) * rate) / 1e6);
    return Math.max(0, Math.min(count, first + count - firstMeasured));
  }

  function dueUs(index: number): number {
    return startUs + (index / rate!) * 1e6;
  }

  /**
   * A free template: the remainder when exactly `records` are left, else the biggest pool whose size fits
   * in `upTo` records (the ones due now and left in the quota), else the base size.
   */
  function nextSlot(records: number | null, upTo: number): Slot | undefined {
    if (records !== null && remainder && records === remainder.template.records)
      return remainder.busy ? undefined : remainder;
    for (let p = pools.length - 1; p >= 0; p--) {
      const pool = pools[p]!;
      if (p > 0 && pool.size > upTo) continue;
      for (let k = 0; k < pool.slots.length; k++) {
        const slot = pool.slots[(pool.cursor + k) % pool.slots.length]!;
        if (!slot.busy) {
          pool.cursor = (pool.cursor + k + 1) % pool.slots.length;
          return slot;
        }
      }
    }
    return undefined;
  }

  function pump(): void {
    for (;;) {
      if (failure) {
        finish();
        return;
      }
      const left = init.quota === null ? null : init.quota - measuredSent;
      if (stopping || (left !== null && left <= 0)) {
        finish();
        return;
      }
      const nowUs = nowMicros();
      // Records due by now that are not sent yet (at a rate), bounded by what the quota leaves.
      let upTo =
        rate === null ? recordsPerRequest : Math.floor(((nowUs - startUs) * rate) / 1e6) + 1 - scheduled;
      if (left !== null) upTo = Math.min(upTo, left);
      const slot = nextSlot(left !== null && left < recordsPerRequest ? left : null, upTo);
      if (!slot) return; // every template in flight: a completion wakes us
      const template = slot.template;
      if (rate !== null) {
        const due = dueUs(scheduled + template.records - 1);
        if (nowUs < due) {
          timer = setTimeout(pump, Math.max(0, (due - nowUs) / 1000));
          return;
        }
      }
      // Keyless frames go to the next partition in turn; keyed ones carry their partitions.
      const targets: [FramePart, PerfConnection][] = [];
      for (const part of template.parts) {
        if (part.rotatePartition) patchPartition(part, partitions[partitionCursor % partitions.length]!);
        const c = connections.get(
          part.rotatePartition ? leaderOf.get(part.batches[0]!.partition)! : part.leader,
        )!;
        if (c.inFlight >= o.maxInFlight) return;
        targets.push([part, c]);
      }
      if (template.parts[0]?.rotatePartition) partitionCursor++;
      const firstIndex = scheduled;
      const measuredRecords =
        rate === null
          ? nowUs >= measureFromUs
            ? template.records
            : 0
          : measuredIn(firstIndex, template.records);
      const measured = measuredRecords > 0;
      scheduled += template.records;
      measuredSent += measuredRecords;
      slot.busy = true;
      let pending = targets.length;
      let index = firstIndex;
      for (const [part0, c] of targets) {
        let part = part0;
        const partFirst = index;
        index += part.records;
        const stampTime = (i: number): number => (rate === null ? nowUs : dueUs(partFirst + i));
        if (rebuildForStamps) part = rebuildStamped(part, stampTime);
        else if (e2e || producerId !== undefined) {
          let offsetInPart = 0;
          for (const batch of part.batches) {
            const base = offsetInPart;
            if (e2e) stampBatch(part.frame, batch, (i) => stampTime(base + i), Date.now());
            if (producerId !== undefined) {
              const seq = sequences.get(batch.partition) ?? 0;
              setSequence(part.frame, batch, seq);
              sequences.set(batch.partition, (seq + batch.recordCount) % 2 ** 31);
            }
            fixCrc(part.frame, batch);
            offsetInPart += batch.recordCount;
          }
        }
        inFlight++;
        const sentUs = nowMicros();
        const settle = (): void => {
          inFlight--;
          if (--pending === 0) slot.busy = false;
          pump();
        };
        const p = rebuildForStamps ? sendRebuilt(c, part) : c.sendFrame(part.frame, o.acks !== 0);
        p.then(
          (response) => {
            try {
              complete(part, sentUs, partFirst, measured, response);
            } catch (error) {
              failure ??= error as Error;
            }
            settle();
          },
          (error: Error) => {
            failure ??= error;
            if (measured)
              stats.errors.NETWORK_EXCEPTION = (stats.errors.NETWORK_EXCEPTION ?? 0) + part.records;
            settle();
          },
        );
      }
    }
  }

  // Compressed end-to-end: values are inside the compressed payload, so the batch is rebuilt per send.
  const rebuilt = new WeakMap<FramePart, Promise<FramePart>>();
  function rebuildStamped(part: FramePart, timeOf: (i: number) => number): FramePart {
    let i = 0;
    for (const records of part.inputs) for (const r of records) r.value!.writeDoubleBE(timeOf(i++), 0);
    const entries = part.batches.map(
      (b, k) => [b.partition, part.inputs[k]!] as [number, (typeof part.inputs)[0]],
    );
    rebuilt.set(part, buildPart(spec, part.leader, entries, codecOf(o.compression), false));
    return part;
  }
  async function sendRebuilt(c: PerfConnection, part: FramePart): Promise<Buffer> {
    const fresh = await rebuilt.get(part)!;
    return c.sendFrame(fresh.frame, o.acks !== 0);
  }

  let finishing = false;
  function finish(): void {
    if (inFlight > 0 || finishing) return;
    finishing = true;
    finished!();
  }

  pump();
  await done;
  clearInterval(reporter);
  if (timer) clearTimeout(timer);
  post({
    type: 'stats',
    role: 'producer',
    index: init.index,
    warmup: false,
    delta: stats.take(),
    at: Date.now(),
  });
  for (const c of connections.values()) {
    c.onFailure = undefined;
    c.close();
  }
  if (failure) throw failure;
  post({ type: 'done', role: 'producer', index: init.index });
}

main().catch((error: Error) => {
  post({ type: 'fatal', message: error.message });
  process.exit(1);
});
