import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  atomicsDisabled,
  createRing,
  DATA_OFFSET,
  kMagic,
  kHeadIndex,
  kTailIndex,
  openRing,
  PortRing,
  pump,
  RingBuffer,
  RingClosedError,
} from '../../src/partition/ring.js';
import type { Ring, RingTransport } from '../../src/partition/ring.js';

// Both ends of one ring in this thread: [producer end, consumer end].
function pair(capacity: number, transport: RingTransport): [Ring, Ring] {
  const { local, handle } = createRing(capacity, transport);
  return [local, openRing(handle)];
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

function readAll(ring: Ring): Array<{ type: number; payload: number[] }> {
  const out = [];
  for (let message = ring.read(); message !== null; message = ring.read()) {
    out.push({ type: message.type, payload: [...message.payload] });
  }
  return out;
}

for (const transport of ['sab', 'port'] as const) {
  describe(`ring (${transport}), one thread`, () => {
    it('rounds the capacity up to a power of two and allows frames of up to half of it', () => {
      const [producer] = pair(1000, transport);
      assert.equal(producer.capacityBytes, 1024);
      assert.equal(producer.maxPayloadBytes, 512 - 8);
      assert.equal(producer.transport, transport);
    });

    it('fills up, refuses the next frame, and takes it after release', () => {
      const [producer, consumer] = pair(1024, transport);
      let written = 0;
      // 100-byte payloads take 112 bytes with header and padding: 9 fit in 1024.
      while (producer.tryWrite(written % 5, bytes(100, written))) written++;
      assert.equal(written, 9);
      assert.equal(producer.tryWrite(0, bytes(100, 99)), false);
      assert.equal(consumer.available(), 9 * 112);

      const first = consumer.read();
      assert.ok(first);
      assert.deepEqual([...first.payload], [...bytes(100, 0)]);
      // Read is not release: the space is still taken.
      assert.equal(producer.tryWrite(0, bytes(100, 9)), false);
      consumer.release();
      assert.equal(producer.tryWrite(9 % 5, bytes(100, 9)), true);

      const rest = readAll(consumer);
      assert.deepEqual(
        rest.map((m) => m.type),
        [1, 2, 3, 4, 0, 1, 2, 3, 4],
      );
      rest.forEach((message, i) => assert.deepEqual(message.payload, [...bytes(100, i + 1)]));
      assert.equal(consumer.read(), null);
      assert.equal(consumer.isEmpty(), true);
    });

    it('carries zero-length payloads and keeps their type', () => {
      const [producer, consumer] = pair(256, transport);
      assert.equal(producer.tryWrite(42, new Uint8Array(0)), true);
      assert.equal(producer.tryWrite(7, bytes(3, 1)), true);
      assert.equal(producer.tryWrite(0x7fffffff, new Uint8Array(0)), true);
      assert.deepEqual(readAll(consumer), [
        { type: 42, payload: [] },
        { type: 7, payload: [...bytes(3, 1)] },
        { type: 0x7fffffff, payload: [] },
      ]);
    });

    it('rejects a frame larger than half the capacity with a clear error, and bad types', () => {
      const [producer, consumer] = pair(128, transport);
      assert.equal(producer.maxPayloadBytes, 56);
      assert.throws(
        () => producer.tryWrite(1, new Uint8Array(57)),
        (error: Error & { code?: string }) =>
          error instanceof RangeError &&
          error.code === 'ERR_RING_FRAME_TOO_LARGE' &&
          /57 payload bytes exceeds the ring's maximum of 56/.test(error.message),
      );
      assert.throws(() => producer.tryReserve(-1, 4), RangeError);
      assert.throws(() => producer.tryReserve(1.5, 4), RangeError);
      // Nothing was half-written by the refused frames.
      assert.equal(producer.tryWrite(1, bytes(56, 3)), true);
      assert.deepEqual(readAll(consumer), [{ type: 1, payload: [...bytes(56, 3)] }]);
    });

    it('reserve and commit write in place, and a shorter commit only uses what it keeps', () => {
      const [producer, consumer] = pair(128, transport);
      const view = producer.tryReserve(3, 56);
      assert.ok(view);
      assert.equal(view.length, 56);
      assert.throws(() => producer.tryReserve(3, 1), /commit\(\) the previous reservation/);
      view.set([9, 8, 7, 6]);
      assert.throws(() => producer.commit(57), RangeError);
      producer.commit(4);
      // 4 bytes committed take 16 of the 128: a 56-byte frame (64) and a 40-byte frame (48) still fit.
      assert.equal(producer.tryWrite(4, bytes(56, 1)), true);
      assert.equal(
        producer.tryWriteWith(5, 40, (target) => (target.set([1, 2]), 2)),
        true,
      );
      assert.throws(() => producer.commit(), /without a reservation/);
      assert.deepEqual(readAll(consumer), [
        { type: 3, payload: [9, 8, 7, 6] },
        { type: 4, payload: [...bytes(56, 1)] },
        { type: 5, payload: [1, 2] },
      ]);
    });

    it('wakes an async reader when a frame arrives and an async writer when space is released', async () => {
      const [producer, consumer] = pair(128, transport);
      const readable = consumer.waitReadable();
      setTimeout(() => producer.tryWrite(1, bytes(56, 1)), 5);
      assert.equal(await readable, true);
      assert.equal(producer.tryWrite(2, bytes(56, 2)), true);
      assert.equal(producer.tryWrite(3, bytes(56, 3)), false, 'two 64-byte frames fill 128 bytes');
      const space = producer.waitForSpace(56);
      setTimeout(() => {
        assert.equal(consumer.read()?.type, 1);
        consumer.release();
      }, 5);
      assert.equal(await space, true);
      assert.equal(producer.tryWrite(3, bytes(56, 3)), true);
      assert.deepEqual(readAll(consumer), [
        { type: 2, payload: [...bytes(56, 2)] },
        { type: 3, payload: [...bytes(56, 3)] },
      ]);
      assert.equal(await consumer.waitReadable(5), false, 'times out when nothing comes');
    });

    it('after close: no more writes, committed frames still readable, waiters told', async () => {
      const [producer, consumer] = pair(128, transport);
      assert.equal(producer.tryWrite(1, bytes(8, 1)), true);
      assert.equal(producer.tryWrite(2, bytes(56, 2)), true);
      assert.equal(producer.tryWrite(3, bytes(56, 3)), false);
      const waiting = producer.waitForSpace(56);
      consumer.close();
      assert.equal(await waiting, false);
      assert.throws(() => producer.tryWrite(1, bytes(1, 1)), RingClosedError);
      assert.deepEqual(
        readAll(consumer).map((m) => m.type),
        [1, 2],
      );
      assert.equal(await consumer.waitReadable(), false);
      assert.equal(consumer.closed, true);
    });

    it('pump delivers every frame in order in bounded bursts and ends when the ring closes', async () => {
      const [producer, consumer] = pair(4096, transport);
      const seen: number[] = [];
      const done = pump(
        consumer,
        (type, payload) => {
          assert.deepEqual([...payload], [...bytes(type % 50, type)]);
          seen.push(type);
        },
        16,
      );
      let next = 0;
      while (next < 2000) {
        while (next < 2000 && producer.tryWrite(next, bytes(next % 50, next))) next++;
        await producer.waitForSpace(64);
      }
      producer.close();
      await done;
      assert.deepEqual(
        seen,
        Array.from({ length: 2000 }, (_, i) => i),
      );
    });

    it('keeps order and contents through random traffic (fast-check, fixed seed)', () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('write' as const), length: fc.nat(248), type: fc.nat(1000) }),
        fc.record({ kind: fc.constant('read' as const), frames: fc.integer({ min: 1, max: 4 }) }),
        fc.constant({ kind: 'release' as const }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
          const [producer, consumer] = pair(512, transport);
          const sent: Array<{ type: number; payload: number[] }> = [];
          let next = 0;
          let unreleased = 0;
          let seed = 0;
          for (const step of ops) {
            if (step.kind === 'write') {
              const payload = bytes(step.length, seed++);
              const ok = producer.tryWrite(step.type, payload);
              // Everything read has been released and nothing is unread: any legal frame must fit.
              if (next === sent.length && unreleased === 0) assert.equal(ok, true);
              if (ok) sent.push({ type: step.type, payload: [...payload] });
            } else if (step.kind === 'read') {
              for (let i = 0; i < step.frames; i++) {
                const message = consumer.read();
                if (message === null) {
                  assert.equal(next, sent.length);
                  break;
                }
                assert.deepEqual({ type: message.type, payload: [...message.payload] }, sent[next]);
                next++;
                unreleased++;
              }
            } else {
              consumer.release();
              unreleased = 0;
            }
          }
          assert.deepEqual(readAll(consumer), sent.slice(next));
        }),
        { seed: 4242, numRuns: 150 },
      );
    });
  });
}

describe('ring (sab) layout', () => {
  // 128-byte ring: frames of 40-byte payloads take 48 bytes, 24-byte payloads take 32.
  it('fills the ring exactly to its end without padding, then continues at offset 0', () => {
    const [producer, consumer] = pair(128, 'sab');
    assert.equal(producer.tryWrite(1, bytes(40, 1)), true);
    assert.equal(producer.tryWrite(2, bytes(40, 2)), true);
    assert.equal(producer.tryWrite(3, bytes(24, 3)), true); // bytes 96..128, an exact fit
    assert.equal(consumer.available(), 128);
    assert.equal(producer.tryWrite(4, new Uint8Array(0)), false);
    assert.deepEqual(
      readAll(consumer).map((m) => m.type),
      [1, 2, 3],
    );
    consumer.release();
    // The same three frames fit again only if the write position came back to exactly 0.
    for (const [type, length] of [
      [4, 40],
      [5, 40],
      [6, 24],
    ] as const) {
      assert.equal(producer.tryWrite(type, bytes(length, type)), true);
    }
    assert.deepEqual(readAll(consumer), [
      { type: 4, payload: [...bytes(40, 4)] },
      { type: 5, payload: [...bytes(40, 5)] },
      { type: 6, payload: [...bytes(24, 6)] },
    ]);
  });

  it('pads the gap at the end when a frame does not fit there, and the reader skips it', () => {
    const [producer, consumer] = pair(128, 'sab');
    assert.equal(producer.tryWrite(1, bytes(40, 1)), true);
    assert.equal(producer.tryWrite(2, bytes(40, 2)), true);
    readAll(consumer);
    consumer.release();
    // At offset 96 only 32 bytes remain: the 48-byte frame goes to offset 0 behind 32 bytes of padding.
    assert.equal(producer.tryWrite(3, bytes(40, 3)), true);
    assert.equal(consumer.available(), 32 + 48);
    const buffer = (producer as RingBuffer).buffer;
    assert.deepEqual([...new Uint8Array(buffer, DATA_OFFSET + 8, 40)], [...bytes(40, 3)]);
    assert.deepEqual(readAll(consumer), [{ type: 3, payload: [...bytes(40, 3)] }]);
    assert.equal(consumer.available(), 0);
  });

  it('works across the 2^32 wrap of the free-running cursors', () => {
    const ring = RingBuffer.create(256);
    const words = new Int32Array(ring.buffer);
    // Start both cursors 200 bytes before 2^32, as after ~4 GiB of traffic.
    words[kHeadIndex] = words[kTailIndex] = 2 ** 32 - 200;
    const producer = RingBuffer.from(ring.buffer);
    const consumer = RingBuffer.from(ring.buffer);
    let written = 0;
    let read = 0;
    for (let round = 0; round < 20; round++) {
      while (producer.tryWrite(written, bytes(written % 90, written))) written++;
      assert.ok(consumer.available() > 0);
      for (let message = consumer.read(); message !== null; message = consumer.read()) {
        assert.deepEqual(
          { type: message.type, payload: [...message.payload] },
          {
            type: read,
            payload: [...bytes(read % 90, read)],
          },
        );
        read++;
      }
      consumer.release();
    }
    assert.equal(read, written);
    assert.ok(Atomics.load(words, kHeadIndex) >>> 0 < 2 ** 31, 'the head wrapped past 2^32');
  });

  it('places a maximum-size frame at every position of an empty ring', () => {
    const [producer, consumer] = pair(128, 'sab');
    for (let position = 0; position < 256; position += 8) {
      assert.equal(producer.tryWrite(position, bytes(56, position)), true, `at cursor ${position}`);
      assert.deepEqual(readAll(consumer), [{ type: position, payload: [...bytes(56, position)] }]);
      // Move the cursor on by 8 bytes with an empty frame.
      assert.equal(producer.tryWrite(0, new Uint8Array(0)), true);
      readAll(consumer);
      consumer.release();
    }
  });

  it('RingBuffer.from opens the same ring and refuses other buffers', () => {
    const ring = RingBuffer.create(64);
    const other = RingBuffer.from(ring.buffer);
    assert.equal(ring.tryWrite(9, bytes(5, 9)), true);
    assert.deepEqual(readAll(other), [{ type: 9, payload: [...bytes(5, 9)] }]);
    assert.throws(() => RingBuffer.from(new SharedArrayBuffer(DATA_OFFSET + 64)), /bad magic/);
    const wrongSize = new SharedArrayBuffer(DATA_OFFSET + 128);
    new Int32Array(wrongSize).set(new Int32Array(ring.buffer, 0, DATA_OFFSET / 4));
    assert.equal(new Int32Array(wrongSize)[kMagic], new Int32Array(ring.buffer)[kMagic]);
    assert.throws(() => RingBuffer.from(wrongSize), /bad magic or size/);
    assert.throws(() => RingBuffer.create(0), RangeError);
  });

  it('refuses to block the main thread', () => {
    const ring = RingBuffer.create(64);
    assert.equal(ring.canBlock, false);
    assert.throws(() => ring.waitReadableSync(1), /main thread must not block/);
    assert.throws(() => ring.waitForSpaceSync(1, 1), /main thread must not block/);
  });

  it('notifies only a reader that announced it sleeps, once per sleep', async () => {
    const [producer, consumer] = pair(1024, 'sab');
    for (let i = 0; i < 5; i++) producer.tryWrite(i, bytes(8, i));
    assert.equal(producer.stats().notifies, 0);
    readAll(consumer);
    consumer.release();
    const readable = consumer.waitReadable();
    for (let i = 0; i < 5; i++) producer.tryWrite(i, bytes(8, i));
    assert.equal(await readable, true);
    assert.equal(producer.stats().notifies, 1);
    assert.equal(consumer.stats().readWaits, 1);
    assert.equal(readAll(consumer).length, 5);
  });
});

describe('ring (port) fallback', () => {
  it('FJORD_DISABLE_ATOMICS=1 selects it, and it cannot block', () => {
    assert.equal(atomicsDisabled({ FJORD_DISABLE_ATOMICS: '1' }), true);
    assert.equal(atomicsDisabled({}), false);
    const saved = process.env.FJORD_DISABLE_ATOMICS;
    process.env.FJORD_DISABLE_ATOMICS = '1';
    const { local, handle, transferList } = createRing(64);
    if (saved === undefined) delete process.env.FJORD_DISABLE_ATOMICS;
    else process.env.FJORD_DISABLE_ATOMICS = saved;
    assert.ok(local instanceof PortRing);
    assert.equal(handle.kind, 'port');
    assert.equal(transferList.length, 1);
    assert.ok(createRing(64, 'sab').local instanceof RingBuffer);
    assert.equal(local.canBlock, false);
    assert.throws(() => local.waitReadableSync(), /cannot block/);
  });
});
