import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARENA_SLAB_BYTES, ReceiveArena, type ArenaLease } from '../../src/partition/receive-arena.js';

const MiB = 1 << 20;

test('leases take contiguous slabs first fit and come back when the last reference is dropped', () => {
  const arena = new ReceiveArena(4 * MiB);
  const a = arena.allocate(100)!;
  const b = arena.allocate(MiB + 1)!; // two slabs
  assert.equal(a.bytes.length, 100);
  assert.equal(a.bytes.byteOffset, 0);
  assert.equal(b.bytes.byteOffset, MiB);
  assert.equal(b.bytes.length, MiB + 1);
  assert.equal(b.bytes.buffer, arena.buffer);
  assert.equal(arena.leasedSlabs, 3);
  assert.equal(arena.allocate(2 * MiB), null, 'only one slab is left');
  a.retain();
  a.release();
  assert.equal(arena.leasedSlabs, 3, 'one reference still held');
  a.release();
  assert.equal(arena.leasedSlabs, 2);
  const c = arena.allocate(MiB)!;
  assert.equal(c.bytes.byteOffset, 0, 'the freed first slab is reused first');
  assert.throws(() => {
    a.release();
  }, /released lease/);
  assert.throws(() => a.retain(), /released lease/);
  b.release();
  c.release();
  assert.equal(arena.leasedSlabs, 0);
  assert.equal(arena.allocate(4 * MiB)!.bytes.length, 4 * MiB);
  assert.equal(arena.allocate(1), null);
});

test('leaseOf finds the lease a view lies in, and nothing for other memory or freed slabs', () => {
  const arena = new ReceiveArena(2 * MiB);
  const lease = arena.allocate(1000)!;
  assert.equal(arena.leaseOf(lease.bytes.subarray(10, 20)), lease);
  assert.equal(arena.leaseOf(lease.bytes), lease);
  assert.equal(arena.leaseOf(Buffer.from(arena.buffer, 500, 600)), undefined, 'runs past the lease');
  assert.equal(arena.leaseOf(Buffer.from(arena.buffer, MiB, 10)), undefined, 'free slab');
  assert.equal(arena.leaseOf(Buffer.alloc(10)), undefined, 'not arena memory');
  lease.release();
  assert.equal(arena.leaseOf(Buffer.from(arena.buffer, 0, 10)), undefined, 'released');
});

test('sizes that are not whole slabs are refused', () => {
  assert.throws(() => new ReceiveArena(ARENA_SLAB_BYTES + 1), RangeError);
  assert.throws(() => new ReceiveArena(0), RangeError);
});

test('random allocations and releases never overlap live leases (against a slab model)', () => {
  // Model: which slabs each live lease covers. A seeded generator keeps the run reproducible.
  let seed = 12345;
  const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const slabs = 16;
  const arena = new ReceiveArena(slabs * MiB);
  const live: { lease: ArenaLease; refs: number }[] = [];
  for (let step = 0; step < 5000; step++) {
    if (live.length > 0 && random() < 0.45) {
      const i = Math.floor(random() * live.length);
      const entry = live[i]!;
      if (random() < 0.3) {
        entry.lease.retain();
        entry.refs++;
      } else {
        entry.lease.release();
        if (--entry.refs === 0) live.splice(i, 1);
      }
    } else {
      const length = 1 + Math.floor(random() * 3.5 * MiB);
      const used = new Set(live.flatMap(({ lease }) => slabsOf(lease)));
      const need = Math.ceil(length / MiB);
      const fits = firstFit(used, slabs, need);
      const lease = arena.allocate(length);
      assert.equal(lease === null, fits === -1, `step ${step}: allocation of ${need} slabs`);
      if (lease) {
        assert.equal(lease.bytes.byteOffset / MiB, fits, 'first fit');
        live.push({ lease, refs: 1 });
      }
    }
    const covered = live.flatMap(({ lease }) => slabsOf(lease));
    assert.equal(new Set(covered).size, covered.length, 'no slab in two live leases');
    assert.equal(arena.leasedSlabs, covered.length);
  }
});

function slabsOf(lease: ArenaLease): number[] {
  const first = lease.bytes.byteOffset / MiB;
  return Array.from({ length: Math.ceil(lease.bytes.length / MiB) }, (_, i) => first + i);
}

function firstFit(used: Set<number>, slabs: number, need: number): number {
  for (let start = 0; start + need <= slabs; start++) {
    let free = true;
    for (let s = start; s < start + need && free; s++) free = !used.has(s);
    if (free) return start;
  }
  return -1;
}

test('allocateWhenFree waits in line for room, and refuses what could never fit', async () => {
  const arena = new ReceiveArena(2 * MiB);
  const held = arena.allocate(2 * MiB)!;
  const order: string[] = [];
  const first = arena.allocateWhenFree(MiB).then((lease) => (order.push('first'), lease));
  const second = arena.allocateWhenFree(1).then((lease) => (order.push('second'), lease));
  assert.equal(await arena.allocateWhenFree(3 * MiB), null);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, [], 'nothing is free yet');
  held.release();
  const [a, b] = await Promise.all([first, second]);
  assert.deepEqual(order, ['first', 'second']);
  assert.deepEqual([a!.bytes.byteOffset, b!.bytes.byteOffset], [0, MiB]);
  assert.equal(arena.leasedSlabs, 2);
});
