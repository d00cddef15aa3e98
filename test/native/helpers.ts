// Shared fixtures for the native tests: a real loopback TCP connection whose sending end is a raw fd (as the
// broker's sockets are), temp files, and a seeded PRNG so every run sees the same "random" bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoopbackPair {
  /** The accepted server-side socket: bytes written to `senderFd` arrive at `reader`. */
  sender: net.Socket;
  senderFd: number;
  reader: net.Socket;
  close(): void;
}

export async function loopbackPair(): Promise<LoopbackPair> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const reader = net.connect(port, '127.0.0.1');
  reader.pause();
  const sender = await accepted;
  server.close();
  const senderFd = (sender as unknown as { _handle: { fd: number } })._handle.fd;
  if (typeof senderFd !== 'number' || senderFd < 0) throw new Error('the socket has no fd');
  return {
    sender,
    senderFd,
    reader,
    close() {
      sender.destroy();
      reader.destroy();
    },
  };
}

/** Collects everything `reader` receives until the peer ends. With `delayMs`, it pauses that long after every
 *  chunk, so the sender keeps running into a full socket buffer. */
export function collect(reader: net.Socket, delayMs = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    reader.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (delayMs > 0) {
        reader.pause();
        setTimeout(() => reader.resume(), delayMs);
      }
    });
    reader.once('end', () => resolve(Buffer.concat(chunks)));
    reader.once('error', reject);
    reader.resume();
  });
}

/** Sends with `send`, then ends the socket so the reader sees exactly the bytes that were sent. */
export async function sendAndCollect(
  send: (pair: LoopbackPair) => Promise<number>,
  delayMs = 0,
): Promise<{ sent: number; received: Buffer }> {
  const pair = await loopbackPair();
  try {
    const receiving = collect(pair.reader, delayMs);
    const sent = await send(pair);
    pair.sender.end();
    return { sent, received: await receiving };
  } finally {
    pair.close();
  }
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `fjord-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** xorshift32: deterministic bytes and numbers for a given seed. */
export function prng(seed: number): {
  next(): number;
  int(max: number): number;
  bytes(length: number): Buffer;
} {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return {
    next,
    int: (max) => next() % max,
    bytes(length) {
      const out = Buffer.allocUnsafe(length);
      for (let i = 0; i < length; i++) out[i] = next() & 0xff;
      return out;
    },
  };
}

/** Runs a full garbage collection so finalizers of dropped buffers get their turn. */
export async function collectGarbage(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
