import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { createRing } from '../../src/partition/ring.js';
import type { RingHandle, RingTransport } from '../../src/partition/ring.js';
import { consume, produce } from './fixtures/peer-loops.js';
import { isCheckpoint, payloadLength } from './fixtures/traffic.js';
import type { PeerOptions, PeerResult } from './fixtures/traffic.js';

// Compiled CI runs load dist/test/partition/fixtures/ring-peer.js. Under tsx (`node --import tsx --test`)
// the source is next to us, but Node 20 does not apply --import hooks to worker threads, so the worker
// registers tsx itself before importing the .ts entry.
const underTsx = import.meta.url.endsWith('.ts');
const peerUrl = new URL(underTsx ? './fixtures/ring-peer.ts' : './fixtures/ring-peer.js', import.meta.url);

function newWorker(options: ConstructorParameters<typeof Worker>[1]): Worker {
  if (!underTsx) return new Worker(peerUrl, options);
  const bootstrap =
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(peerUrl.href)}); })` +
    `.catch((error) => { process.exitCode = 1; throw error; });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

interface Peer {
  result: Promise<PeerResult>;
}

function startPeer(
  options: PeerOptions & { ring: RingHandle; completions?: RingHandle; slow?: boolean },
  transferList: TransferListItem[],
): Peer {
  const worker = newWorker({ workerData: { slow: false, ...options }, transferList });
  const result = new Promise<PeerResult>((resolve, reject) => {
    let settled: PeerResult | undefined;
    worker.once('message', (message: PeerResult) => (settled = message));
    worker.once('error', reject);
    worker.once('exit', (code) =>
      settled !== undefined && code === 0 ? resolve(settled) : reject(new Error(`peer exited with ${code}`)),
    );
  });
  return { result };
}

const RING_BYTES = 64 * 1024;
const MAX_LENGTH = 8 * 1024;

function checkpoints(count: number): number {
  let n = 0;
  for (let seq = 0; seq < count; seq++) if (isCheckpoint(seq, count)) n++;
  return n;
}

for (const [transport, count] of [
  ['sab', 200_000],
  ['port', 60_000],
] as const satisfies ReadonlyArray<readonly [RingTransport, number]>) {
  describe(`ring (${transport}) between two threads`, { timeout: 60_000 }, () => {
    it(`main -> worker: ${count} variable-length messages arrive in order and intact, with backpressure`, async () => {
      const { local, handle, transferList } = createRing(RING_BYTES, transport);
      const peer = startPeer(
        { role: 'consumer', count, maxLength: MAX_LENGTH, ring: handle, slow: true },
        transferList,
      );
      const sent = await produce(local, count, MAX_LENGTH);
      assert.equal(sent.error, undefined);
      const received = await peer.result;
      assert.equal(received.error, undefined);
      assert.equal(received.received, count);
      // The consumer stopped at each checkpoint until this (main-thread, async) producer had to wait.
      assert.ok(sent.stats.spaceWaits >= checkpoints(count), `space waits ${sent.stats.spaceWaits}`);
      if (transport === 'sab') {
        assert.ok(received.stats.notifies <= sent.stats.spaceWaits);
        assert.ok(sent.stats.notifies <= received.stats.readWaits);
      }
    });

    it(`worker -> main: ${count} messages, the main thread waking without blocking`, async () => {
      const { local, handle, transferList } = createRing(RING_BYTES, transport);
      const peer = startPeer({ role: 'producer', count, maxLength: MAX_LENGTH, ring: handle }, transferList);
      const received = await consume(local, count, MAX_LENGTH, true);
      assert.equal(received.error, undefined);
      assert.equal(received.received, count);
      const sent = await peer.result;
      assert.equal(sent.error, undefined);
      assert.ok(sent.stats.spaceWaits >= checkpoints(count), `space waits ${sent.stats.spaceWaits}`);
      if (transport === 'sab') {
        // Wake-ups are coalesced: the worker notified at most once per time the main thread went to sleep.
        assert.ok(sent.stats.notifies <= received.stats.readWaits);
        assert.ok(received.stats.notifies <= sent.stats.spaceWaits);
      }
    });

    it('requests in, completions out: a worker echoes every frame back over the second ring', async () => {
      const echoCount = count / 4;
      // Small rings so both directions fill and both sides wait on each other.
      const requests = createRing(16 * 1024, transport);
      const completions = createRing(4 * 1024, transport);
      const maxLength = 2000;
      const peer = startPeer(
        { role: 'echo', count: echoCount, maxLength, ring: requests.handle, completions: completions.handle },
        [...requests.transferList, ...completions.transferList],
      );
      const [sent, received] = await Promise.all([
        produce(requests.local, echoCount, maxLength),
        consume(completions.local, echoCount, maxLength, false),
      ]);
      assert.equal(sent.error, undefined);
      assert.equal(received.error, undefined);
      assert.equal(received.received, echoCount);
      const echoed = await peer.result;
      assert.equal(echoed.error, undefined);
      assert.equal(echoed.received, echoCount);
    });
  });
}

describe('ring (sab) blocking waits in a worker', () => {
  it('time out on an empty ring, then wake for a frame from the main thread', async () => {
    const { local, handle } = createRing(1024, 'sab');
    const worker = newWorker({
      workerData: { role: 'probe', count: 1, maxLength: 0, ring: handle, slow: false },
    });
    const messages: unknown[] = [];
    const result = new Promise<PeerResult>((resolve, reject) => {
      worker.on('message', (message: unknown) => {
        messages.push(message);
        if (message === 'waiting') assert.equal(local.tryWrite(77, new Uint8Array([1, 2, 3])), true);
        else resolve(message as PeerResult);
      });
      worker.once('error', reject);
    });
    const probe = await result;
    assert.equal(probe.error, undefined);
    assert.equal(probe.received, 1);
    assert.equal(messages[0], 'waiting');
    await new Promise((resolve) => worker.once('exit', resolve));
  });
});

describe('test traffic', () => {
  it('includes empty and maximum-size messages', () => {
    assert.equal(payloadLength(100, MAX_LENGTH), 0);
    assert.equal(payloadLength(996, MAX_LENGTH), MAX_LENGTH);
  });
});
