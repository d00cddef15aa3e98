// Producer ids, unique across restarts: handed out from blocks whose end is made durable before any id of the
// block is used, so a crash at any point never reissues an id (it only skips the rest of a block).
//
// File `<log.dir>/fjord-producer-ids`, text, written atomically (temporary file, fsync, rename, fsync dir):
//   line 1: version, always 0
//   line 2: the first producer id no block has claimed yet (every id below it may have been issued)
// A missing file means no id was ever issued. A file that does not parse is an error: guessing could reissue
// ids still held by producers, which would let their batches be taken for one another's duplicates.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomically } from './checkpoint.js';

export const PRODUCER_IDS_FILE = 'fjord-producer-ids';
/** Ids claimed per write of the file (Kafka's controller also hands out blocks of 1000). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
const VERSION = '0';

export class ProducerIdBlockError extends Error {
  override name = 'ProducerIdBlockError';
}

export class ProducerIdAllocator {
  readonly #file: string;
  readonly #blockSize: number;
  /** The next id to hand out, and the end (exclusive) of the block it comes from. */
  #next: number;
  #blockEnd: number;

  /** Reads (or starts) the counter of `logDir`. Main thread; file I/O only when a block is claimed. */
  constructor(logDir: string, blockSize = PRODUCER_ID_BLOCK_SIZE) {
    this.#file = path.join(logDir, PRODUCER_IDS_FILE);
    this.#blockSize = blockSize;
    this.#next = this.#blockEnd = readClaimed(this.#file);
  }

  /** Every id below this may have been issued (by this run or an earlier one). */
  get claimedEnd(): number {
    return this.#blockEnd;
  }

  next(): number {
    if (this.#next >= this.#blockEnd) {
      const end = this.#blockEnd + this.#blockSize;
      fs.mkdirSync(path.dirname(this.#file), { recursive: true });
      writeFileAtomically(this.#file, `${VERSION}\n${end}\n`);
      this.#next = this.#blockEnd;
      this.#blockEnd = end;
    }
    return this.#next++;
  }
}

function readClaimed(file: string): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const [version, claimed, ...rest] = text.split('\n');
  const value = Number(claimed);
  if (
    version !== VERSION ||
    !/^\d+$/.test(claimed ?? '') ||
    !Number.isSafeInteger(value) ||
    rest.join('') !== ''
  ) {
    throw new ProducerIdBlockError(
      `${file}: not a producer id counter (${JSON.stringify(text.slice(0, 40))})`,
    );
  }
  return value;
}
