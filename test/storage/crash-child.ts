// Child process of crash.test.ts: appends batches with flush.messages=1 forever and prints one
// `ack <baseOffset> <lastOffset> <crc>` line after each append returns. The parent SIGKILLs it at random.
import * as fs from 'node:fs';
import { buildRecordBatchSync, readRecordBatchHeader } from '../../src/protocol/records/record-batch.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { rng } from './helpers.js';

const [dir, seedText] = process.argv.slice(2);
const random = rng(Number(seedText));
export const crashConfig = resolveLogConfig({
  'flush.messages': 1,
  'segment.bytes': 96 * 1024,
  'segment.index.bytes': 4096,
  'index.interval.bytes': 1024,
  'file.delete.delay.ms': 0,
});
const manager = LogManager.open({ logDir: dir!, defaults: crashConfig, cleaner: 'in-process' });
const log = manager.getOrCreate('crash', 0, crashConfig);
fs.writeSync(1, `ready ${log.logEndOffset}\n`);
for (let n = 0; ; n++) {
  const count = 1 + Math.floor(random() * 20);
  const size = 10 + Math.floor(random() * 3000);
  const records = Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`${seedText}-${n}-${i}`),
    value: Buffer.alloc(size, (n + i) & 0xff),
    timestamp: Date.now(),
  }));
  const batch = buildRecordBatchSync(records);
  const result = log.append(batch);
  if (!result.ok) throw new Error(`append failed: ${result.message}`);
  fs.writeSync(1, `ack ${result.baseOffset} ${result.lastOffset} ${readRecordBatchHeader(batch).crc}\n`);
}
