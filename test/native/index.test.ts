// One suite for whichever implementation src/native/index.ts selected: CI runs it with the addon and again
// with FJORD_NO_NATIVE=1.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  crc32c,
  fallocate,
  fdatasync,
  flushMapping,
  mmap,
  munmap,
  nativeAvailable,
  sendfile,
} from '../../src/native/index.js';
import { collect, collectGarbage, loopbackPair, sendAndCollect, tempDir } from './helpers.js';

const BAD_FD = 1_000_000; // above any open-file limit, so never a real descriptor

const mode = nativeAvailable ? 'native addon' : 'TypeScript fallback';

describe(`crc32c (${mode})`, () => {
  test('known vectors', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
  });

  test('chaining equals one pass over the concatenation', () => {
    const data = randomBytes(10_000);
    const whole = crc32c(data);
    for (const split of [0, 1, 7, 8, 9, 4096, 9_999, 10_000]) {
      assert.equal(crc32c(data.subarray(split), crc32c(data.subarray(0, split))), whole, `split at ${split}`);
    }
    assert.equal(crc32c(new Uint8Array(0), whole), whole);
  });

  test('unaligned subarrays and plain Uint8Arrays', () => {
    const backing = randomBytes(4096 + 64);
    for (let start = 0; start < 16; start++) {
      for (const length of [0, 1, 7, 8, 15, 16, 17, 1000, 4096]) {
        const view = backing.subarray(start, start + length);
        const copy = new Uint8Array(Buffer.from(view));
        assert.equal(crc32c(view), crc32c(copy), `start ${start} length ${length}`);
        assert.equal(crc32c(view, 0xdeadbeef), crc32c(copy, 0xdeadbeef));
      }
    }
  });

  test('rejects what is not bytes or a uint32 seed', () => {
    assert.throws(() => crc32c('abc' as unknown as Uint8Array), { name: 'TypeError' });
    assert.throws(() => crc32c(Buffer.alloc(1), -1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => crc32c(Buffer.alloc(1), 2 ** 32), { code: 'ERR_OUT_OF_RANGE' });
  });
});

describe(`sendfile (${mode})`, () => {
  const dir = tempDir('sendfile');
  const content = randomBytes(16 << 20);
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

  test('16 MiB to a slow loopback reader arrives byte for byte', async () => {
    const pair = await loopbackPair();
    try {
      let settled = false;
      const sending = sendfile(pair.senderFd, fd, 0, content.length).finally(() => (settled = true));
      // The reader has not read yet: 16 MiB cannot fit in the socket buffers, so sendfile must be waiting
      // on a full non-blocking socket (EAGAIN), neither done nor failed.
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(settled, false);
      const receiving = collect(pair.reader, 1);
      assert.equal(await sending, content.length);
      pair.sender.end();
      const received = await receiving;
      assert.equal(received.length, content.length);
      assert.ok(received.equals(content), 'received bytes differ from the file');
    } finally {
      pair.close();
    }
  });

  test('from an unaligned offset', async () => {
    const { sent, received } = await sendAndCollect((p) => sendfile(p.senderFd, fd, 12_345, 1_000_000));
    assert.equal(sent, 1_000_000);
    assert.ok(received.equals(content.subarray(12_345, 1_012_345)));
  });

  test('past the end of the file sends what is there', async () => {
    const start = content.length - 1000;
    const { sent, received } = await sendAndCollect((p) => sendfile(p.senderFd, fd, start, 5000));
    assert.equal(sent, 1000);
    assert.ok(received.equals(content.subarray(start)));
    const beyond = await sendAndCollect((p) => sendfile(p.senderFd, fd, content.length + 10, 100));
    assert.equal(beyond.sent, 0);
    assert.equal(beyond.received.length, 0);
  });

  test('length 0 sends nothing', async () => {
    const { sent, received } = await sendAndCollect((p) => sendfile(p.senderFd, fd, 0, 0));
    assert.equal(sent, 0);
    assert.equal(received.length, 0);
  });

  test('a bad fd rejects with EBADF', async () => {
    const pair = await loopbackPair();
    try {
      await assert.rejects(sendfile(pair.senderFd, BAD_FD, 0, 100), { code: 'EBADF' });
      await assert.rejects(sendfile(BAD_FD, fd, 0, 100), { code: 'EBADF' });
    } finally {
      pair.close();
    }
  });

  test('invalid arguments reject before any I/O', async () => {
    await assert.rejects(sendfile(-1, fd, 0, 1), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(sendfile(1, fd, 0.5, 1), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(sendfile(1, fd, 0, '1' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe(`mmap, flushMapping, munmap (${mode})`, () => {
  const dir = tempDir('mmap');
  after(() => dir.remove());
  const content = randomBytes(3 * 4096 + 100);

  function file(name: string): { path: string; fd: number } {
    const path = join(dir.path, name);
    writeFileSync(path, content);
    return { path, fd: openSync(path, 'r+') };
  }

  test('a read-only mapping sees the file, at any offset', () => {
    const { fd } = file('read.bin');
    try {
      const whole = mmap(fd, 0, content.length, false);
      assert.ok(whole.equals(content));
      const inner = mmap(fd, 5000, 3000, false);
      assert.ok(inner.equals(content.subarray(5000, 8000)));
      munmap(whole);
      munmap(inner);
    } finally {
      closeSync(fd);
    }
  });

  test('writes to a writable mapping persist after flushMapping and after munmap', () => {
    const { path, fd } = file('write.bin');
    try {
      const mapping = mmap(fd, 4096, 200, true);
      mapping.write('flushed', 10);
      flushMapping(mapping);
      assert.equal(readFileSync(path).subarray(4106, 4113).toString(), 'flushed');
      const unaligned = mmap(fd, 8191, 10, true);
      unaligned.write('munmapped');
      munmap(unaligned);
      assert.equal(readFileSync(path).subarray(8191, 8200).toString(), 'munmapped');
      munmap(mapping);
      const expected = Buffer.from(content);
      expected.write('flushed', 4106);
      expected.write('munmapped', 8191);
      assert.ok(readFileSync(path).equals(expected), 'nothing else in the file changed');
    } finally {
      closeSync(fd);
    }
  });

  test('munmap detaches the buffer, is idempotent, and GC afterwards is harmless', async () => {
    const { fd } = file('gc.bin');
    try {
      const released = mmap(fd, 0, content.length, false);
      const view = released.subarray(10, 20);
      munmap(released);
      assert.equal(released.length, 0);
      assert.equal(view.length, 0);
      munmap(released);
      // Mappings dropped without munmap are released by their finalizer.
      for (let i = 0; i < 50; i++) mmap(fd, 4096, 4096, i % 2 === 0);
      await collectGarbage();
      const again = mmap(fd, 0, 16, false);
      assert.ok(again.equals(content.subarray(0, 16)));
      munmap(again);
    } finally {
      closeSync(fd);
    }
  });

  test('edge cases: empty region, past the end, foreign buffers, bad fd', () => {
    const { fd } = file('edges.bin');
    try {
      const empty = mmap(fd, content.length, 0, true);
      assert.equal(empty.length, 0);
      flushMapping(empty);
      munmap(empty);
      assert.throws(() => mmap(fd, content.length - 10, 11, false), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => flushMapping(Buffer.alloc(10)), { code: 'ERR_INVALID_ARG_TYPE' });
      munmap(Buffer.alloc(10)); // not a mapping: nothing to release
      assert.throws(() => mmap(BAD_FD, 0, 10, false), { code: 'EBADF' });
    } finally {
      closeSync(fd);
    }
  });
});

describe(`fallocate, fdatasync (${mode})`, () => {
  const dir = tempDir('alloc');
  after(() => dir.remove());

  test('fallocate extends the file and never shrinks it', () => {
    const fd = openSync(join(dir.path, 'prealloc.index'), 'w+');
    try {
      fallocate(fd, 0, 1 << 20);
      assert.equal(fstatSync(fd).size, 1 << 20);
      fallocate(fd, 100, 10);
      assert.equal(fstatSync(fd).size, 1 << 20);
      fallocate(fd, 1 << 20, 4096);
      assert.equal(fstatSync(fd).size, (1 << 20) + 4096);
      fallocate(fd, 10 << 20, 0);
      assert.equal(fstatSync(fd).size, (1 << 20) + 4096);
      assert.throws(() => fallocate(BAD_FD, 0, 10), { code: 'EBADF' });
    } finally {
      closeSync(fd);
    }
  });

  test('fdatasync succeeds on a file and fails with EBADF on a bad fd', () => {
    const path = join(dir.path, 'synced.log');
    const fd = openSync(path, 'w');
    try {
      writeFileSync(fd, 'durable');
      fdatasync(fd);
      assert.equal(readFileSync(path, 'utf8'), 'durable');
      assert.throws(() => fdatasync(BAD_FD), { code: 'EBADF', syscall: 'fdatasync' });
    } finally {
      closeSync(fd);
    }
  });
});
