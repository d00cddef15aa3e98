// Crash test: a child process appends with flush.messages=1 and is SIGKILLed at random moments, 20 times.
// After each kill the log is reopened (unclean start, recovery from the checkpoint): every acknowledged batch
// must be present and intact, the log must read cleanly to its end (nothing torn is visible), and it must
// still accept appends. Then it is closed cleanly and the next child continues the same log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  isRecordBatchCrcValid,
  iterateBatches,
  readRecordBatchHeader,
} from '../../src/protocol/records/record-batch.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { batchOf, MemoryLogger, rng, tempDir } from './helpers.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';

const KILLS = Number(process.env.FJORD_STORAGE_KILLS ?? 20);
const childUrl = new URL(
  import.meta.url.endsWith('.ts') ? './crash-child.ts' : './crash-child.js',
  import.meta.url,
);
const config = resolveLogConfig({
  'flush.messages': 1,
  'segment.bytes': 96 * 1024,
  'segment.index.bytes': 4096,
  'index.interval.bytes': 1024,
  'file.delete.delay.ms': 0,
});

interface Ack {
  baseOffset: number;
  lastOffset: number;
  crc: number;
}

function runChild(dir: string, seed: number, killAfterAcks: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(childUrl), dir, String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const acks: Ack[] = [];
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        const [kind, a, b, c] = line.split(' ');
        if (kind === 'ack') acks.push({ baseOffset: Number(a), lastOffset: Number(b), crc: Number(c) });
      }
      if (!killed && acks.length >= killAfterAcks) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acks);
      else reject(new Error(`child exited with ${code}: ${err}`));
    });
  });
}

test(`crash: ${KILLS} SIGKILLs during flush.messages=1 appends lose no acknowledged batch`, async () => {
  const dir = tempDir('fjord-crash-');
  const random = rng(42);
  const acked: Ack[] = [];
  for (let round = 0; round < KILLS; round++) {
    const acks = await runChild(dir, round, 1 + Math.floor(random() * 25));
    acked.push(...acks);
    const logger = new MemoryLogger();
    const manager = LogManager.open({ logDir: dir, defaults: config, logger, cleaner: 'in-process' });
    const log = manager.get('crash', 0);
    assert.ok(log, `round ${round}: partition reloaded`);
    assert.ok(log.logEndOffset >= acked.at(-1)!.lastOffset + 1, `round ${round}: log end covers every ack`);
    for (const ack of acked) {
      const result = log.read(ack.baseOffset, 1);
      assert.ok(result.ok, `round ${round}: offset ${ack.baseOffset} readable`);
      const bytes = PartitionLog.readRegion(result.regions[0]!);
      const header = readRecordBatchHeader(bytes);
      assert.equal(header.baseOffset, ack.baseOffset, `round ${round}: batch at ${ack.baseOffset}`);
      assert.equal(header.baseOffset + header.lastOffsetDelta, ack.lastOffset);
      assert.equal(header.crc, ack.crc, `round ${round}: batch ${ack.baseOffset} intact`);
      assert.ok(isRecordBatchCrcValid(bytes));
    }
    // The whole log reads back as whole, valid batches up to the end offset.
    const all = log.read(log.logStartOffset, 1 << 30);
    assert.ok(all.ok);
    let next = 0;
    for (const region of all.regions) {
      const bytes = PartitionLog.readRegion(region);
      let consumed = 0;
      for (const { position, size, header } of iterateBatches(bytes)) {
        assert.equal(header.baseOffset, next, `round ${round}: contiguous offsets`);
        assert.ok(isRecordBatchCrcValid(bytes, position));
        next = header.baseOffset + header.lastOffsetDelta + 1;
        consumed = position + size;
      }
      assert.equal(consumed, bytes.length, `round ${round}: no partial batch visible`);
    }
    assert.equal(next, log.logEndOffset);
    const batch = batchOf([{ key: 'parent', value: `round ${round}`, timestamp: Date.now() }]);
    const appended = log.append(batch);
    assert.ok(appended.ok, `round ${round}: still accepts appends`);
    // The CRC does not cover the base offset, so the built batch's CRC is the stored one.
    acked.push({
      baseOffset: appended.baseOffset,
      lastOffset: appended.lastOffset,
      crc: readRecordBatchHeader(batch).crc,
    });
    await manager.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
