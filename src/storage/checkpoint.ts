// Checkpoint files, in Kafka's text formats, written atomically (write a temporary file, fsync, rename, fsync dir).
//
// Offset checkpoints, one per log dir: `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`,
// `cleaner-offset-checkpoint`:
//   line 1: version, always 0
//   line 2: entry count N
//   N lines: `<topic> <partition> <offset>` separated by single spaces
//
// `leader-epoch-checkpoint`, one per partition directory (the epoch -> start offset cache):
//   line 1: version, always 0
//   line 2: entry count N
//   N lines: `<leaderEpoch> <startOffset>`, epochs and start offsets increasing
//
// A file that does not parse is reported and treated as absent: every checkpoint only lets recovery skip
// work, so losing one costs time, never data.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';
export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

// Each thread loads its own copy of this module, so the random part tells threads apart and the counter tells
// one thread's writes apart. (Not node:crypto: loading it adds to every partition worker's start-up.)
const TMP_PREFIX = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
let tmpCounter = 0;

/**
 * Writes `text` to `file` so that a crash leaves either the old or the new content. The temporary name is
 * unique, because partition workers sharing a log dir may rewrite the same checkpoint file at the same time.
 */
export function writeFileAtomically(file: string, text: string): void {
  const tmp = `${file}.${TMP_PREFIX}-${++tmpCounter}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, text);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  syncDir(path.dirname(file));
}

export function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  }
}

function parseLines(file: string, fields: number): string[][] | undefined {
  // Most partitions have no leader-epoch checkpoint yet: asking first is cheaper than building an ENOENT
  // error with its stack for each of them (a restart with 1 000 partitions opens that many).
  if (!fs.existsSync(file)) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const lines = text.split('\n').filter((line) => line !== '');
  if (lines[0] !== '0')
    throw new Error(`${file}: unsupported checkpoint version ${JSON.stringify(lines[0])}`);
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count !== lines.length - 2) {
    throw new Error(
      `${file}: entry count ${JSON.stringify(lines[1])} does not match ${lines.length - 2} lines`,
    );
  }
  return lines.slice(2).map((line, i) => {
    const parts = line.split(' ');
    if (parts.length !== fields) throw new Error(`${file}: malformed line ${i + 3}: ${JSON.stringify(line)}`);
    return parts;
  });
}

function parseOffset(text: string, file: string): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw new Error(`${file}: bad offset ${text}`);
  return value;
}

/** Reads an offset checkpoint; a missing file is an empty list. Throws on a malformed file. */
export function readOffsetCheckpoint(file: string): PartitionOffset[] {
  const rows = parseLines(file, 3) ?? [];
  return rows.map(([topic, partition, offset]) => ({
    topic: topic!,
    partition: parseOffset(partition!, file),
    offset: parseOffset(offset!, file),
  }));
}

export function writeOffsetCheckpoint(file: string, entries: readonly PartitionOffset[]): void {
  const lines = entries.map((entry) => `${entry.topic} ${entry.partition} ${entry.offset}\n`);
  writeFileAtomically(file, `0\n${entries.length}\n${lines.join('')}`);
}

export function readEpochCheckpoint(file: string): EpochEntry[] {
  const rows = parseLines(file, 2) ?? [];
  return rows.map(([epoch, startOffset]) => ({
    epoch: parseOffset(epoch!, file),
    startOffset: parseOffset(startOffset!, file),
  }));
}

export function writeEpochCheckpoint(file: string, entries: readonly EpochEntry[]): void {
  const lines = entries.map((entry) => `${entry.epoch} ${entry.startOffset}\n`);
  writeFileAtomically(file, `0\n${entries.length}\n${lines.join('')}`);
}
