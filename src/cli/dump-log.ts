// `fjord dump-log FILE...`: kafka-dump-log for Fjord's (= Kafka's) segment files. A `.log` is walked batch by
// batch (headers only, records with --records, keys and values with --print-data-log); a `.index` or
// `.timeindex` is listed entry by entry with absolute offsets. Index files may carry a preallocated, zeroed
// tail while their segment is active; entries stop at the first all-zero entry after the first.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  compressionOf,
  decodeRecordBatch,
  isControlBatch,
  isRecordBatchCrcValid,
  isTransactional,
  iterateBatches,
  timestampTypeOf,
  type RecordBatchHeader,
} from '../protocol/records/record-batch.js';
import { OFFSET_INDEX_ENTRY_SIZE } from '../storage/offset-index.js';
import { TIME_INDEX_ENTRY_SIZE } from '../storage/time-index.js';
import { CliError, JSON_FLAG, UsageError, flag, printJson, runCommand, type CommandSpec } from './args.js';

export const dumpLogSpec: CommandSpec = {
  name: 'dump-log',
  usage: 'dump-log FILE... [options]',
  summary: 'Decode segment files: a .log (record batches), a .index (offset -> position) or a .timeindex.',
  flags: [
    {
      name: 'records',
      short: 'r',
      type: 'boolean',
      description: 'also list each record (offset, timestamp, sizes, header keys)',
    },
    {
      name: 'print-data-log',
      short: 'd',
      type: 'boolean',
      description: "also print each record's key and value (implies --records)",
    },
    JSON_FLAG,
  ],
  notes:
    "Reads files directly; no broker is needed. Works on a live broker's files (a partial last batch is reported, not an error).",
};

const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The base offset a segment file's name encodes (00000000000000000050.log -> 50). */
function baseOffsetOf(file: string): number {
  const match = /^(\d{20})\./.exec(basename(file));
  if (!match)
    throw new CliError(
      `${file}: not a segment file name (expected 20 digits, e.g. 00000000000000000000.log)`,
    );
  return Number(match[1]);
}

interface BatchOut {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  count: number;
  magic: number;
  crc: number;
  crcValid: boolean;
  compression: string;
  timestampType: 'CreateTime' | 'LogAppendTime';
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  partitionLeaderEpoch: number;
  transactional: boolean;
  control: boolean;
  records?: {
    offset: number;
    timestamp: number;
    keySize: number;
    valueSize: number;
    headerKeys: string[];
    key?: string | null;
    value?: string | null;
  }[];
}

async function dumpSegment(
  buf: Buffer,
  records: boolean,
  data: boolean,
): Promise<{ batches: BatchOut[]; trailingBytes: number }> {
  const batches: BatchOut[] = [];
  let end = 0;
  for (const { position, size, header } of iterateBatches(buf)) {
    end = position + size;
    const out = describeBatch(position, size, header, isRecordBatchCrcValid(buf, position));
    if (records) {
      const decoded = await decodeRecordBatch(buf, position);
      out.records = decoded.records.map((r) => ({
        offset: r.offset,
        timestamp: r.timestamp,
        keySize: r.key?.length ?? -1,
        valueSize: r.value?.length ?? -1,
        headerKeys: r.headers.map((h) => h.key),
        ...(data ? { key: r.key?.toString('utf8') ?? null, value: r.value?.toString('utf8') ?? null } : {}),
      }));
    }
    batches.push(out);
  }
  return { batches, trailingBytes: buf.length - end };
}

function describeBatch(position: number, size: number, h: RecordBatchHeader, crcValid: boolean): BatchOut {
  return {
    position,
    size,
    baseOffset: h.baseOffset,
    lastOffset: h.baseOffset + h.lastOffsetDelta,
    count: h.recordCount,
    magic: h.magic,
    crc: h.crc >>> 0,
    crcValid,
    compression: CODEC_NAMES[compressionOf(h.attributes)] ?? `unknown(${compressionOf(h.attributes)})`,
    timestampType: timestampTypeOf(h.attributes) === 1 ? 'LogAppendTime' : 'CreateTime',
    baseTimestamp: h.baseTimestamp,
    maxTimestamp: h.maxTimestamp,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    transactional: isTransactional(h.attributes),
    control: isControlBatch(h.attributes),
  };
}

/**
 * A preallocated index is all zeros after its entries, and (0, 0) is also a legal first entry (a first batch
 * holding one record), so the first entry counts only when the segment's own first batch agrees with it, or
 * when the file was trimmed to exactly one entry.
 */
function dumpOffsetIndex(
  buf: Buffer,
  base: number,
  firstBatchLastOffset: number | undefined,
): { offset: number; position: number }[] {
  const out = [];
  for (let at = 0; at + OFFSET_INDEX_ENTRY_SIZE <= buf.length; at += OFFSET_INDEX_ENTRY_SIZE) {
    const relative = buf.readInt32BE(at);
    const position = buf.readInt32BE(at + 4);
    if (relative === 0 && position === 0) {
      const real = at === 0 && (firstBatchLastOffset === base || buf.length === OFFSET_INDEX_ENTRY_SIZE);
      if (!real) break;
    }
    out.push({ offset: base + relative, position });
  }
  return out;
}

/** The last offset of the first batch of the .log beside an index file, if there is one. */
async function firstBatchLastOffset(indexFile: string): Promise<number | undefined> {
  const log = indexFile.replace(/\.(index|timeindex)$/, '.log');
  const buf = await readFile(log).catch(() => undefined);
  if (buf === undefined) return undefined;
  try {
    for (const { header } of iterateBatches(buf)) return header.baseOffset + header.lastOffsetDelta;
  } catch {
    return undefined;
  }
  return undefined;
}

function dumpTimeIndex(buf: Buffer, base: number): { timestamp: number; offset: number }[] {
  const out = [];
  for (let at = 0; at + TIME_INDEX_ENTRY_SIZE <= buf.length; at += TIME_INDEX_ENTRY_SIZE) {
    const timestamp = Number(buf.readBigInt64BE(at));
    const relative = buf.readInt32BE(at + 8);
    if (timestamp === 0 && relative === 0) break;
    out.push({ timestamp, offset: base + relative });
  }
  return out;
}

export async function dumpLog(args: string[]): Promise<number> {
  return runCommand(dumpLogSpec, args, async (p) => {
    if (p.positionals.length === 0)
      throw new UsageError('name the .log, .index or .timeindex file(s) to decode');
    const data = flag(p, 'print-data-log');
    const records = data || flag(p, 'records');
    const json = flag(p, 'json');
    const results: unknown[] = [];
    for (const file of p.positionals) {
      const base = baseOffsetOf(file);
      const buf = await readFile(file).catch((error: NodeJS.ErrnoException) => {
        throw new CliError(error.code === 'ENOENT' ? `${file}: no such file` : `${file}: ${error.message}`);
      });
      if (file.endsWith('.log')) {
        const { batches, trailingBytes } = await dumpSegment(buf, records, data).catch((error: Error) => {
          throw new CliError(`${file}: ${error.message}`);
        });
        if (json) {
          results.push({ file, type: 'log', baseOffset: base, batches, trailingBytes });
          continue;
        }
        console.log(`Dumping ${file}`);
        console.log(`Log starting offset: ${base}`);
        for (const b of batches) {
          console.log(
            `baseOffset: ${b.baseOffset} lastOffset: ${b.lastOffset} count: ${b.count} baseSequence: ${b.baseSequence} ` +
              `lastSequence: ${b.baseSequence < 0 ? -1 : b.baseSequence + b.lastOffset - b.baseOffset} producerId: ${b.producerId} ` +
              `producerEpoch: ${b.producerEpoch} partitionLeaderEpoch: ${b.partitionLeaderEpoch} isTransactional: ${b.transactional} ` +
              `isControl: ${b.control} position: ${b.position} ${b.timestampType}: ${b.maxTimestamp} size: ${b.size} ` +
              `magic: ${b.magic} compresscodec: ${b.compression} crc: ${b.crc} isvalid: ${b.crcValid}`,
          );
          for (const r of b.records ?? []) {
            const headers = r.headerKeys.length
              ? ` headerKeys: [${r.headerKeys.join(',')}]`
              : ' headerKeys: []';
            const payload = data ? ` key: ${r.key ?? 'null'} payload: ${r.value ?? 'null'}` : '';
            console.log(
              `| offset: ${r.offset} ${b.timestampType}: ${r.timestamp} keySize: ${r.keySize} valueSize: ${r.valueSize}${headers}${payload}`,
            );
          }
        }
        if (trailingBytes > 0)
          console.log(
            `Found ${trailingBytes} trailing bytes after the last complete batch (a partial write)`,
          );
      } else if (file.endsWith('.timeindex')) {
        const entries = dumpTimeIndex(buf, base);
        if (json) {
          results.push({ file, type: 'timeindex', baseOffset: base, entries });
          continue;
        }
        console.log(`Dumping ${file}`);
        for (const e of entries) console.log(`timestamp: ${e.timestamp} offset: ${e.offset}`);
      } else if (file.endsWith('.index')) {
        const entries = dumpOffsetIndex(buf, base, await firstBatchLastOffset(file));
        if (json) {
          results.push({ file, type: 'index', baseOffset: base, entries });
          continue;
        }
        console.log(`Dumping ${file}`);
        for (const e of entries) console.log(`offset: ${e.offset} position: ${e.position}`);
      } else {
        throw new CliError(`${file}: unknown file type; dump-log reads .log, .index and .timeindex files`);
      }
    }
    if (json) printJson(results.length === 1 ? results[0] : results);
  });
}
