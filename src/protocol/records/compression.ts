// Compression codecs of RecordBatch v2 (attributes bits 0-2). The compressed unit is the records section of
// one batch (everything after the 61-byte header).
//
//   GZIP    RFC 1952, possibly several concatenated members (node:zlib reads them all).
//   SNAPPY  Read: raw snappy, or the xerial stream the Java client writes (magic 82 'SNAPPY' 00, int32 version,
//           int32 compatible version, then blocks of int32 big-endian length + raw snappy). Write: xerial
//           with 32 KiB blocks, like the Java client and kafka-python; the Java client (snappy-java), librdkafka
//           and kafka-python all read both forms, and xerial is what the reference implementation emits.
//   LZ4     The LZ4 frame format (magic 04 22 4D 18). Frames are walked here because lz4-napi decodes only
//           the first of several concatenated frames and would silently drop the rest.
//   ZSTD    Zstandard frames, including streaming frames without a content size (as zstd-jni writes).
//
// Every decoder bounds its output before inflating (a zip bomb is a ProtocolError, not an OOM): gzip through
// zlib's maxOutputLength; snappy, lz4 and zstd by reading the sizes their framing declares.
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import type * as SnappyModule from 'snappy';
import type * as Lz4Module from 'lz4-napi';
import type * as ZstdModule from '@mongodb-js/zstd';
import { ProtocolError } from '../primitives/protocol-error.js';

// The three codec libraries are native modules that cost every thread loading them a few MB and some start-up
// time, so each is loaded on first use: a broker's partition workers that never meet a snappy, lz4 or zstd
// batch never load it.
let snappyLoaded: typeof SnappyModule | undefined;
let lz4Loaded: typeof Lz4Module | undefined;
let zstdLoaded: typeof ZstdModule | undefined;
const snappyLib = async () => (snappyLoaded ??= await import('snappy'));
const lz4Lib = async () => (lz4Loaded ??= await import('lz4-napi'));
const zstdLib = async () => (zstdLoaded ??= await import('@mongodb-js/zstd'));

export const CompressionType = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

export const DEFAULT_MAX_DECOMPRESSED_SIZE = 64 * 1024 * 1024;

export interface DecompressOptions {
  /** Output larger than this is an error (default 64 MiB). */
  maxDecompressedSize?: number;
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const XERIAL_MAGIC = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_BLOCK_SIZE = 32 * 1024;

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function compressionName(type: number): string {
  return ['none', 'gzip', 'snappy', 'lz4', 'zstd'][type] ?? `unknown(${type})`;
}

function tooLarge(size: number, limit: number): ProtocolError {
  return new ProtocolError(`decompressed size ${size} exceeds the limit of ${limit} bytes`);
}

// --- gzip -------------------------------------------------------------------------------------------------

function gzipError(err: unknown, limit: number): ProtocolError {
  if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
    return new ProtocolError(`gzip: decompressed size exceeds the limit of ${limit} bytes`);
  }
  return new ProtocolError(`gzip: ${(err as Error).message}`);
}

export function gzipCompressSync(data: Uint8Array): Buffer {
  return gzipSync(data);
}

export function gzipDecompressSync(data: Uint8Array, limit = DEFAULT_MAX_DECOMPRESSED_SIZE): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: limit });
  } catch (err) {
    throw gzipError(err, limit);
  }
}

// --- snappy -----------------------------------------------------------------------------------------------

function isXerial(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** The uncompressed length a raw snappy block declares (its leading unsigned varint). */
function snappyDeclaredLength(data: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (start + i >= end) throw new ProtocolError('snappy: truncated length preamble');
    const byte = data[start + i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return value;
  }
  throw new ProtocolError('snappy: bad length preamble');
}

async function snappyRaw(block: Buffer): Promise<Buffer> {
  try {
    const snappy = await snappyLib();
    return (await snappy.uncompress(block, { asBuffer: true })) as Buffer;
  } catch (err) {
    throw new ProtocolError(`snappy: ${(err as Error).message}`);
  }
}

async function snappyDecompress(data: Buffer, limit: number): Promise<Buffer> {
  if (!isXerial(data)) {
    const declared = snappyDeclaredLength(data, 0, data.length);
    if (declared > limit) throw tooLarge(declared, limit);
    return snappyRaw(data);
  }
  // Walk the block table first so the total is bounded before anything is inflated.
  const blocks: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new ProtocolError('snappy: truncated xerial block length');
    const length = data.readInt32BE(pos);
    pos += 4;
    if (length < 0 || pos + length > data.length) throw new ProtocolError('snappy: bad xerial block length');
    const block = data.subarray(pos, pos + length);
    pos += length;
    total += snappyDeclaredLength(block, 0, block.length);
    if (total > limit) throw tooLarge(total, limit);
    blocks.push(block);
  }
  const parts = await Promise.all(blocks.map(snappyRaw));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

async function snappyCompress(data: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  header.set(XERIAL_MAGIC, 0);
  header.writeInt32BE(1, 8); // version
  header.writeInt32BE(1, 12); // minimum compatible version
  parts.push(header);
  const blocks: Promise<Buffer>[] = [];
  const snappy = await snappyLib();
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_SIZE) {
    blocks.push(snappy.compress(data.subarray(pos, pos + XERIAL_BLOCK_SIZE)) as Promise<Buffer>);
  }
  for (const block of await Promise.all(blocks)) {
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

// --- lz4 --------------------------------------------------------------------------------------------------

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

interface FrameSpan {
  start: number;
  end: number;
  /** Upper bound of the decoded size, from the block sizes. */
  bound: number;
  /** The content size the frame header declares, or -1. Not trusted as a bound, only to fail early. */
  declared: number;
  skippable: boolean;
}

function readUint32LE(data: Uint8Array, pos: number): number {
  return (data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16) | (data[pos + 3]! << 24)) >>> 0;
}

function need(data: Uint8Array, pos: number, bytes: number, codec: string): void {
  if (pos + bytes > data.length) throw new ProtocolError(`${codec}: truncated frame`);
}

/** Skippable frames (magic 0x184D2A50..5F) are shared by the LZ4 and zstd frame formats. */
function isSkippable(magic: number): boolean {
  return (magic & 0xfffffff0) === 0x184d2a50;
}

function lz4Frame(data: Uint8Array, start: number): FrameSpan {
  need(data, start, 4, 'lz4');
  const magic = readUint32LE(data, start);
  if (isSkippable(magic)) {
    need(data, start, 8, 'lz4');
    const end = start + 8 + readUint32LE(data, start + 4);
    need(data, end, 0, 'lz4');
    return { start, end, bound: 0, declared: -1, skippable: true };
  }
  if (magic !== LZ4_MAGIC) throw new ProtocolError('lz4: bad frame magic');
  need(data, start, 7, 'lz4');
  const flags = data[start + 4]!;
  const bd = data[start + 5]!;
  if (flags >> 6 !== 1) throw new ProtocolError(`lz4: unsupported frame version ${flags >> 6}`);
  const blockMax = LZ4_BLOCK_MAX[(bd >> 4) & 7]!;
  if (blockMax === 0) throw new ProtocolError('lz4: bad block maximum size');
  const blockChecksum = (flags & 0x10) !== 0;
  const hasContentSize = (flags & 0x08) !== 0;
  const contentChecksum = (flags & 0x04) !== 0;
  const hasDictId = (flags & 0x01) !== 0;
  let pos = start + 6;
  let contentSize = -1;
  if (hasContentSize) {
    need(data, pos, 8, 'lz4');
    contentSize = readUint32LE(data, pos) + readUint32LE(data, pos + 4) * 2 ** 32;
    pos += 8;
  }
  if (hasDictId) pos += 4;
  pos += 1; // header checksum
  let bound = 0;
  for (;;) {
    need(data, pos, 4, 'lz4');
    const word = readUint32LE(data, pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax) throw new ProtocolError('lz4: block larger than the frame allows');
    pos += size + (blockChecksum ? 4 : 0);
    need(data, pos, 0, 'lz4');
    bound += blockMax;
  }
  if (contentChecksum) pos += 4;
  need(data, pos, 0, 'lz4');
  return { start, end: pos, bound, declared: contentSize, skippable: false };
}

/**
 * Walks every frame, summing the decoded-size bounds. `slack` is one maximum block: a bound counts whole
 * blocks, so a legitimate payload just under the limit may be over-estimated by up to that much; the exact
 * size is checked again after inflating.
 */
function frames(
  data: Uint8Array,
  walk: (d: Uint8Array, s: number) => FrameSpan,
  limit: number,
  slack: number,
): FrameSpan[] {
  const spans: FrameSpan[] = [];
  let pos = 0;
  let bound = 0;
  if (data.length === 0) throw new ProtocolError('empty compressed payload');
  while (pos < data.length) {
    const span = walk(data, pos);
    pos = span.end;
    if (span.skippable) continue;
    if (span.declared > limit) throw tooLarge(span.declared, limit);
    bound += span.bound;
    if (bound > limit + slack) throw tooLarge(bound, limit);
    spans.push(span);
  }
  return spans;
}

async function lz4Decompress(data: Buffer, limit: number): Promise<Buffer> {
  const spans = frames(data, lz4Frame, limit, 4 * 1024 * 1024);
  const parts: Buffer[] = [];
  let total = 0;
  const lz4 = await lz4Lib();
  for (const span of spans) {
    let part: Buffer;
    try {
      part = await lz4.decompressFrame(data.subarray(span.start, span.end));
    } catch (err) {
      throw new ProtocolError(`lz4: ${(err as Error).message}`);
    }
    total += part.length;
    if (total > limit) throw tooLarge(total, limit);
    parts.push(part);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

// --- zstd -------------------------------------------------------------------------------------------------

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX = 128 * 1024;

function zstdFrame(data: Uint8Array, start: number): FrameSpan {
  need(data, start, 4, 'zstd');
  const magic = readUint32LE(data, start);
  if (isSkippable(magic)) {
    need(data, start, 8, 'zstd');
    const end = start + 8 + readUint32LE(data, start + 4);
    need(data, end, 0, 'zstd');
    return { start, end, bound: 0, declared: -1, skippable: true };
  }
  if (magic !== ZSTD_MAGIC) throw new ProtocolError('zstd: bad frame magic');
  need(data, start, 5, 'zstd');
  const descriptor = data[start + 4]!;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const checksum = (descriptor & 0x04) !== 0;
  const dictIdSize = [0, 1, 2, 4][descriptor & 3]!;
  const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  let pos = start + 5 + (singleSegment ? 0 : 1) + dictIdSize;
  need(data, pos, fcsSize, 'zstd');
  let contentSize = -1;
  if (fcsSize === 1) contentSize = data[pos]!;
  else if (fcsSize === 2) contentSize = (data[pos]! | (data[pos + 1]! << 8)) + 256;
  else if (fcsSize === 4) contentSize = readUint32LE(data, pos);
  else if (fcsSize === 8) contentSize = readUint32LE(data, pos) + readUint32LE(data, pos + 4) * 2 ** 32;
  pos += fcsSize;
  let bound = 0;
  for (;;) {
    need(data, pos, 3, 'zstd');
    const header = data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16);
    pos += 3;
    const last = (header & 1) !== 0;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw new ProtocolError('zstd: reserved block type');
    if (type === 1) {
      pos += 1; // RLE: one byte repeated `size` times
      bound += size;
    } else {
      pos += size;
      bound += type === 0 ? size : ZSTD_BLOCK_MAX;
    }
    need(data, pos, 0, 'zstd');
    if (last) break;
  }
  if (checksum) pos += 4;
  need(data, pos, 0, 'zstd');
  return { start, end: pos, bound, declared: contentSize, skippable: false };
}

async function zstdDecompress(data: Buffer, limit: number): Promise<Buffer> {
  const spans = frames(data, zstdFrame, limit, ZSTD_BLOCK_MAX);
  if (spans.length === 0) throw new ProtocolError('zstd: no data frame');
  let out: Buffer;
  const zstd = await zstdLib();
  try {
    out = await zstd.decompress(data);
  } catch (err) {
    throw new ProtocolError(`zstd: ${(err as Error).message.replace(/^zstd: /, '')}`);
  }
  if (out.length > limit) throw tooLarge(out.length, limit);
  return out;
}

// --- entry points -----------------------------------------------------------------------------------------

export async function compress(type: CompressionType, data: Uint8Array): Promise<Buffer> {
  const input = asBuffer(data);
  switch (type) {
    case CompressionType.NONE:
      return input;
    case CompressionType.GZIP:
      return gzipAsync(input);
    case CompressionType.SNAPPY:
      return snappyCompress(input);
    case CompressionType.LZ4:
      return (await lz4Lib()).compressFrame(input);
    case CompressionType.ZSTD:
      return (await zstdLib()).compress(input, 3);
    default:
      throw new RangeError(`unknown compression type ${type as number}`);
  }
}

export async function decompress(
  type: number,
  data: Uint8Array,
  options: DecompressOptions = {},
): Promise<Buffer> {
  const limit = options.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED_SIZE;
  const input = asBuffer(data);
  switch (type) {
    case CompressionType.NONE:
      if (input.length > limit) throw tooLarge(input.length, limit);
      return input;
    case CompressionType.GZIP:
      try {
        return await gunzipAsync(input, { maxOutputLength: limit });
      } catch (err) {
        throw gzipError(err, limit);
      }
    case CompressionType.SNAPPY:
      return snappyDecompress(input, limit);
    case CompressionType.LZ4:
      return lz4Decompress(input, limit);
    case CompressionType.ZSTD:
      return zstdDecompress(input, limit);
    default:
      throw new ProtocolError(`unknown compression type ${type}`);
  }
}
