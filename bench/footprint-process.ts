// A `fjord start` broker in a child process, for the footprint benchmarks (footprint.ts, footprint-soak.ts):
// start it on a free port and time its first answered request, read its memory from /proc, stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
export const FJORD = join(repoRoot(), 'bin', 'fjord.js');

export interface ProcessMemory {
  rssMb: number;
  anonMb: number;
  fileMb: number;
  threads: number;
}

/** VmRSS and its parts for a process (Linux /proc). */
export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return {
    rssMb: kb('VmRSS') / 1024,
    anonMb: kb('RssAnon') / 1024,
    fileMb: (kb('RssFile') + kb('RssShmem')) / 1024,
    threads: kb('Threads'),
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((done) => server.close(done));
  return port;
}

const API_VERSIONS_V0 = (() => {
  const clientId = Buffer.from('footprint');
  const frame = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  frame.writeInt32BE(frame.length - 4, 0);
  frame.writeInt16BE(18, 4); // ApiVersions
  frame.writeInt16BE(0, 6);
  frame.writeInt32BE(1, 8); // correlation id
  frame.writeInt16BE(clientId.length, 12);
  clientId.copy(frame, 14);
  return frame;
})();

/** One ApiVersions v0 round trip; resolves to whether a well-formed answer (error code 0) came back. */
function apiVersions(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(ok);
    };
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.setTimeout(2000, () => finish(false));
    socket.on('connect', () => socket.write(API_VERSIONS_V0));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 10 && received.length >= 4 + received.readInt32BE(0)) {
        finish(received.readInt32BE(4) === 1 && received.readInt16BE(8) === 0);
      }
    });
  });
}

export interface Started {
  child: ChildProcess;
  port: number;
  /** Spawn to first answered request. */
  ms: number;
}

/** Spawns `fjord start` with `overrides` (key=value) and waits for its first answered ApiVersions. */
export async function startFjord(dataDir: string, overrides: string[] = []): Promise<Started> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      FJORD,
      'start',
      '--override',
      `log.dirs=${dataDir}`,
      '--override',
      `listeners=PLAINTEXT://127.0.0.1:${port}`,
      ...overrides.flatMap((o) => ['--override', o]),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = once(child, 'exit');
  for (;;) {
    if (await apiVersions(port)) return { child, port, ms: performance.now() - started };
    if (child.exitCode !== null) throw new Error(`fjord start exited with ${child.exitCode}: ${stderr}`);
    await Promise.race([new Promise((done) => setTimeout(done, 2)), exited]);
  }
}

/** SIGTERM, then waits for the exit (a clean shutdown). */
export async function stopFjord(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
