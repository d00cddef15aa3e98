// Shared helpers of the storage tests: temp dirs, batch building, decoding what read() returns.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  buildRecordBatchSync,
  decodeRecordBatchSync,
  iterateBatches,
  type BuildBatchOptions,
} from '../../src/protocol/records/record-batch.js';
import { resolveLogConfig, type LogConfig } from '../../src/storage/log-config.js';
import { PartitionLog, type PartitionLogOptions } from '../../src/storage/partition-log.js';
import type { FileRegion, StorageLogger } from '../../src/storage/segment.js';

export function tempDir(prefix = 'fjord-storage-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface SimpleRecord {
  key: string | null;
  value: string | null;
  timestamp: number;
}

export function batchOf(records: SimpleRecord[], options: BuildBatchOptions = {}): Buffer {
  return buildRecordBatchSync(
    records.map((record) => ({
      key: record.key === null ? null : Buffer.from(record.key),
      value: record.value === null ? null : Buffer.from(record.value),
      timestamp: record.timestamp,
    })),
    options,
  );
}

export interface DecodedRecord extends SimpleRecord {
  offset: number;
}

export interface DecodedBatch {
  baseOffset: number;
  lastOffset: number;
  partitionLeaderEpoch: number;
  producerId: number;
  records: DecodedRecord[];
}

export function decodeBytes(bytes: Buffer): DecodedBatch[] {
  const out: DecodedBatch[] = [];
  let consumed = 0;
  for (const { position, size, header } of iterateBatches(bytes)) {
    const { records } = decodeRecordBatchSync(bytes, position);
    out.push({
      baseOffset: header.baseOffset,
      lastOffset: header.baseOffset + header.lastOffsetDelta,
      partitionLeaderEpoch: header.partitionLeaderEpoch,
      producerId: header.producerId,
      records: records.map((record) => ({
        offset: record.offset,
        key: record.key === null ? null : record.key.toString(),
        value: record.value === null ? null : record.value.toString(),
        timestamp: record.timestamp,
      })),
    });
    consumed = position + size;
  }
  if (consumed !== bytes.length)
    throw new Error(`region holds a partial batch: ${bytes.length - consumed} bytes`);
  return out;
}

export function readRegions(regions: FileRegion[]): DecodedBatch[] {
  return regions.flatMap((region) => decodeBytes(PartitionLog.readRegion(region)));
}

export class MemoryLogger implements StorageLogger {
  readonly warnings: string[] = [];
  readonly infos: string[] = [];
  warn(message: string): void {
    this.warnings.push(message);
  }
  info(message: string): void {
    this.infos.push(message);
  }
}

export function testConfig(overrides: Record<string, string | number> = {}): LogConfig {
  return resolveLogConfig({ 'segment.index.bytes': 4096, 'file.delete.delay.ms': 0, ...overrides });
}

export function openLog(
  dir: string,
  config: LogConfig,
  extra: Partial<PartitionLogOptions> = {},
): PartitionLog {
  return PartitionLog.open({ dir, topic: 't', partition: 0, config, ...extra });
}

/** A deterministic PRNG (mulberry32) so failures replay from a seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
