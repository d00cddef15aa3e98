import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as lz4 from 'lz4-napi';
import * as snappy from 'snappy';
import * as zstd from '@mongodb-js/zstd';
import { ProtocolError } from '../../../src/protocol/primitives/protocol-error.js';
import { CompressionType, compress, decompress } from '../../../src/protocol/records/compression.js';

// The plaintext of every fixture below: "fjord-" x 50, then bytes 0..255 (556 bytes).
const PLAIN = Buffer.concat([
  Buffer.from('fjord-'.repeat(50)),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
]);

// Made by python3-zstandard with write_content_size=False through a compressobj: a streaming frame without a
// content size, as zstd-jni (the Java client) writes.
const ZSTD_STREAMING =
  'KLUv/QBYdQgAZBBmam9yZC0AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKTlJWWl5iZmpucnZ6foKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr/AwcLDxMXGx8jJysvMzc7P0NHS09TV1tfY2drb3N3e3+Dh4uPk5ebn6Onq6+zt7u/w8fLz9PX29/j5+vv8/f7/AQAjUUsR';
// python3-lz4: lz4.frame.compress(PLAIN[:100]) + lz4.frame.compress(PLAIN[100:]), two concatenated frames.
const LZ4_TWO_FRAMES =
  'BCJNGGhAZAAAAAAAAAAjEAAAAG9mam9yZC0GAEZQLWZqb3IAAAAABCJNGGhAyAEAAAAAAACADAEAAG9kLWZqb3IGAK/w8QABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5/gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+v8DBwsPExcbHyMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8AAAAA';
// kafka-python's snappy_encode(PLAIN, xerial_blocksize=100): xerial framing with six blocks.
const SNAPPY_XERIAL =
  'glNOQVBQWQAAAAABAAAAAQAAAA5kFGZqb3JkLf4GAHYGAAAAAA5kFGQtZmpvcv4GAHYGAAAAAA5kFG9yZC1mav4GAHYGAAAAAGdk8GMAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjAAAAZ2TwY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxscAAAA6ONzIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==';
// python3-snappy: snappy.compress(PLAIN), raw snappy as librdkafka writes it.
const SNAPPY_RAW =
  'rAQUZmpvcmQt/gYA/gYA/gYA/gYAlgYA8P8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKTlJWWl5iZmpucnZ6foKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr/AwcLDxMXGx8jJysvMzc7P0NHS09TV1tfY2drb3N3e3+Dh4uPk5ebn6Onq6+zt7u/w8fLz9PX29/j5+vv8/f7/';

const b64 = (s: string) => Buffer.from(s, 'base64');

test('zstd: a streaming frame without a content size decodes', async () => {
  assert.deepEqual(await decompress(CompressionType.ZSTD, b64(ZSTD_STREAMING)), PLAIN);
});

test('lz4: concatenated frames decode in full, not just the first', async () => {
  const data = b64(LZ4_TWO_FRAMES);
  // The pitfall this guards against: the binding alone returns only the first frame's 100 bytes.
  assert.equal((await lz4.decompressFrame(data)).length, 100);
  assert.deepEqual(await decompress(CompressionType.LZ4, data), PLAIN);
});

test('snappy: xerial-framed and raw payloads both decode', async () => {
  assert.deepEqual(await decompress(CompressionType.SNAPPY, b64(SNAPPY_XERIAL)), PLAIN);
  assert.deepEqual(await decompress(CompressionType.SNAPPY, b64(SNAPPY_RAW)), PLAIN);
});

test('snappy is written with xerial framing in 32 KiB blocks', async () => {
  const data = Buffer.alloc(100_000, 7);
  const out = await compress(CompressionType.SNAPPY, data);
  assert.deepEqual(
    [...out.subarray(0, 16)],
    [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1],
  );
  let pos = 16;
  const blocks: number[] = [];
  while (pos < out.length) {
    const length = out.readInt32BE(pos);
    blocks.push(
      (await snappy.uncompress(out.subarray(pos + 4, pos + 4 + length), { asBuffer: true })).length,
    );
    pos += 4 + length;
  }
  assert.deepEqual(blocks, [32768, 32768, 32768, 100_000 - 3 * 32768]);
  assert.deepEqual(await decompress(CompressionType.SNAPPY, out), data);
});

test('gzip: concatenated members decode in full', async () => {
  const data = Buffer.concat([gzipSync(PLAIN.subarray(0, 200)), gzipSync(PLAIN.subarray(200))]);
  assert.deepEqual(await decompress(CompressionType.GZIP, data), PLAIN);
});

test('every codec round-trips, including empty input', async () => {
  for (const type of Object.values(CompressionType)) {
    for (const data of [PLAIN, Buffer.alloc(0), Buffer.alloc(200_000, 'ab')]) {
      const out = await compress(type, data);
      assert.deepEqual(await decompress(type, out), data, `type ${type}, ${data.length} bytes`);
    }
  }
});

test('decompressed size limit: a bomb is a ProtocolError for every codec', async () => {
  const bomb = Buffer.alloc(4 * 1024 * 1024);
  const limit = { maxDecompressedSize: 1024 * 1024 };
  for (const type of Object.values(CompressionType)) {
    const out = await compress(type, bomb);
    await assert.rejects(
      decompress(type, out, limit),
      { name: 'ProtocolError', message: /limit/ },
      `type ${type}`,
    );
  }
  // Framings other than ours: raw snappy, a zstd frame with its content size, concatenated lz4 frames.
  await assert.rejects(decompress(CompressionType.SNAPPY, await snappy.compress(bomb), limit), ProtocolError);
  await assert.rejects(decompress(CompressionType.ZSTD, await zstd.compress(bomb, 1), limit), ProtocolError);
  const frame = await lz4.compressFrame(Buffer.alloc(800 * 1024));
  await assert.rejects(decompress(CompressionType.LZ4, Buffer.concat([frame, frame]), limit), ProtocolError);
});

test('the default limit is 64 MiB', async () => {
  const bomb = Buffer.alloc(65 * 1024 * 1024);
  const out = await compress(CompressionType.ZSTD, bomb);
  await assert.rejects(decompress(CompressionType.ZSTD, out), { name: 'ProtocolError', message: /67108864/ });
});

test('truncated or garbage payloads are a ProtocolError for every codec', async () => {
  for (const type of [
    CompressionType.GZIP,
    CompressionType.SNAPPY,
    CompressionType.LZ4,
    CompressionType.ZSTD,
  ]) {
    const out = await compress(type, PLAIN);
    for (const cut of [0, 1, 5, 17, out.length >> 1, out.length - 1]) {
      await assert.rejects(decompress(type, out.subarray(0, cut)), ProtocolError, `type ${type} cut ${cut}`);
    }
    await assert.rejects(
      decompress(type, Buffer.from('not compressed at all')),
      ProtocolError,
      `type ${type}`,
    );
  }
  await assert.rejects(decompress(7, PLAIN), { name: 'ProtocolError', message: /unknown compression/ });
});

test(
  'fuzz: mutated and truncated compressed payloads throw only ProtocolError',
  { timeout: 60_000 },
  async () => {
    const fc = (await import('fast-check')).default;
    const payloads: [number, Buffer][] = [];
    for (const type of [
      CompressionType.GZIP,
      CompressionType.SNAPPY,
      CompressionType.LZ4,
      CompressionType.ZSTD,
    ]) {
      payloads.push([type, await compress(type, Buffer.concat([PLAIN, PLAIN.subarray(0, 100)]))]);
    }
    payloads.push(
      [CompressionType.SNAPPY, b64(SNAPPY_RAW)],
      [CompressionType.ZSTD, b64(ZSTD_STREAMING)],
      [CompressionType.LZ4, b64(LZ4_TWO_FRAMES)],
    );
    const limit = 4096;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: payloads.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }),
        fc.option(fc.nat()),
        async (which, flips, cut) => {
          const [type, payload] = payloads[which]!;
          let data = Buffer.from(payload);
          for (const [where, xor] of flips) data[where % data.length]! ^= xor;
          if (cut !== null) data = data.subarray(0, cut % (data.length + 1));
          try {
            const out = await decompress(type, data, { maxDecompressedSize: limit });
            assert.ok(out.length <= limit);
          } catch (err) {
            if (!(err instanceof ProtocolError)) throw err;
          }
        },
      ),
      { seed: 777, numRuns: 3000 },
    );
  },
);
