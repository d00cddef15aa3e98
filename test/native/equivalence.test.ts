// The addon and the TypeScript fallback give the same answers. Compares loadAddonForTests() with fallback.ts
// directly, so it runs (and means the same) in both CI modes.
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as fallback from '../../src/native/fallback.js';
import { addonLoadErrorForTests, loadAddonForTests, type NativeAddon } from '../../src/native/index.js';
import { prng, sendAndCollect, tempDir } from './helpers.js';

function addon(): NativeAddon {
  const loaded = loadAddonForTests();
  assert.ok(loaded, `the native addon did not load: ${addonLoadErrorForTests()}`);
  return loaded;
}

describe('native addon matches the TypeScript fallback', () => {
  const random = prng(0x5eed);
  // Inputs are random windows of one pool, so they start at every alignment.
  const pool = random.bytes((64 << 10) + 64);

  test('crc32c on 3000 random inputs (lengths 0..64 KiB, random offsets and seeds)', () => {
    const native = addon();
    for (let i = 0; i < 3000; i++) {
      // Every third input is short, to cover the byte-at-a-time tails.
      const length = i % 3 === 0 ? random.int(64) : random.int((64 << 10) + 1);
      const start = random.int(pool.length - length + 1);
      const data = pool.subarray(start, start + length);
      const seed = i % 2 === 0 ? 0 : random.next();
      const expected = fallback.crc32c(data, seed);
      assert.equal(native.crc32c(data, seed), expected, `input ${i}: start ${start} length ${length}`);
      assert.equal(native.crc32cTable(data, seed), expected, `table path, input ${i}`);
    }
  });

  describe('file regions', () => {
    const dir = tempDir('equivalence');
    const content = random.bytes(3 << 20);
    const path = join(dir.path, 'segment.log');
    let fd = -1;
    before(() => {
      writeFileSync(path, content);
      fd = openSync(path, 'r');
    });
    after(() => {
      closeSync(fd);
      dir.remove();
    });

    const regions: Array<[number, number]> = [
      [0, content.length],
      [1, 4095],
      [4096, 1 << 20],
      [content.length - 7, 100],
      [content.length, 10],
    ];
    for (let i = 0; i < 5; i++) regions.push([random.int(content.length), random.int(1 << 20) + 1]);

    test('sendfile delivers the same bytes and counts', async () => {
      const native = addon();
      for (const [position, length] of regions) {
        const a = await sendAndCollect((p) => native.sendfile(p.senderFd, fd, position, length));
        const b = await sendAndCollect((p) => fallback.sendfile(p.senderFd, fd, position, length));
        assert.equal(a.sent, b.sent, `sent at ${position}+${length}`);
        assert.ok(a.received.equals(b.received), `bytes at ${position}+${length}`);
        assert.ok(a.received.equals(content.subarray(position, position + length)));
      }
    });

    test('mmap reads the same bytes, and writes land in the file the same way', () => {
      const native = addon();
      for (const [position, requested] of regions) {
        const length = Math.min(requested, content.length - position);
        if (length === 0) continue;
        const a = native.mmap(fd, position, length, false);
        const b = fallback.mmap(fd, position, length, false);
        assert.ok(a.equals(b), `mapping at ${position}+${length}`);
        native.munmap(a);
        fallback.munmap(b);
      }
      const results = [native, fallback].map((impl, index) => {
        const copy = join(dir.path, `writable-${index}.log`);
        writeFileSync(copy, content);
        const copyFd = openSync(copy, 'r+');
        try {
          const mapping = impl.mmap(copyFd, 10_000, 50_000, true);
          mapping.fill(0xab, 123, 40_000);
          impl.flushMapping(mapping);
          impl.munmap(mapping);
        } finally {
          closeSync(copyFd);
        }
        return readFileSync(copy);
      });
      assert.ok(results[0]!.equals(results[1]!));
      assert.equal(results[0]![10_000 + 123], 0xab);
    });
  });
});
