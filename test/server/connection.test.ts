import assert from 'node:assert/strict';
import { mkdtempSync, openSync, closeSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Connection, CloseConnectionError, type FrameHandler } from '../../src/server/connection.js';
import { createFileRegionSender, type FileTransferMode } from '../../src/server/file-transfer.js';
import { ReceiveArena } from '../../src/partition/receive-arena.js';
import { RequestBudget } from '../../src/server/request-budget.js';

const quietLog = { warn: () => {} };

async function withServer(
  handler: FrameHandler,
  run: (client: net.Socket, received: () => Buffer, closed: Promise<void>) => Promise<void>,
  options: {
    maxRequestBytes?: number;
    maxInFlightRequests?: number;
    mode?: FileTransferMode;
    arena?: ReceiveArena;
  } = {},
): Promise<void> {
  const warnings: string[] = [];
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    new Connection(1, socket, handler, {
      maxRequestBytes: options.maxRequestBytes ?? 1 << 20,
      maxInFlightRequests: options.maxInFlightRequests ?? 100,
      maxBufferedResponseBytes: 1 << 20,
      fileSender: createFileRegionSender(options.mode ?? 'read'),
      ...(options.arena ? { sharedFrames: options.arena } : {}),
      log: { warn: (m) => warnings.push(m) },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  client.on('data', (d) => chunks.push(d));
  const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
  client.on('error', () => {});
  await new Promise<void>((resolve) => client.on('connect', resolve));
  try {
    await run(client, () => Buffer.concat(chunks), closed);
  } finally {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(predicate(), 'condition not reached in time');
}

test('responses leave in request order even when handlers complete out of order', async () => {
  // Request i echoes its payload after a delay that decreases with i, so completion order is reversed.
  const handler: FrameHandler = async (payload) => {
    const n = payload.readUInt32BE(0);
    await new Promise((r) => setTimeout(r, (20 - n) * 2));
    return [frame(payload)];
  };
  await withServer(handler, async (client, received) => {
    for (let i = 0; i < 20; i++) {
      const p = Buffer.alloc(4);
      p.writeUInt32BE(i);
      client.write(frame(p));
    }
    await until(() => received().length === 20 * 8);
    const data = received();
    assert.deepEqual(
      Array.from({ length: 20 }, (_, i) => data.readUInt32BE(i * 8 + 4)),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });
});

test('a frame split into single bytes and frames coalesced in one write are both parsed', async () => {
  const seen: string[] = [];
  const handler: FrameHandler = (payload) => {
    seen.push(payload.toString());
    return payload.toString() === 'silent' ? null : [frame(payload)];
  };
  await withServer(handler, async (client, received) => {
    const first = frame(Buffer.from('hello'));
    for (const byte of first) {
      client.write(Buffer.of(byte));
      await new Promise((r) => setImmediate(r));
    }
    client.write(
      Buffer.concat([frame(Buffer.from('silent')), frame(Buffer.from('a')), frame(Buffer.from(''))]),
    );
    await until(() => seen.length === 4);
    await until(() => received().length === 9 + 5 + 4);
    assert.deepEqual(seen, ['hello', 'silent', 'a', '']);
    assert.deepEqual(received(), Buffer.concat([first, frame(Buffer.from('a')), frame(Buffer.from(''))]));
  });
});

test('an oversized or negative size prefix closes only that connection', async () => {
  const handler: FrameHandler = (payload) => [frame(payload)];
  for (const size of [0x7fffffff, 2049, -1]) {
    await withServer(
      handler,
      async (client, _received, closed) => {
        const prefix = Buffer.alloc(4);
        prefix.writeInt32BE(size);
        client.write(prefix);
        await closed;
      },
      { maxRequestBytes: 2048 },
    );
  }
});

test('a handler that throws CloseConnectionError closes the connection without answering', async () => {
  const handler: FrameHandler = () => {
    throw new CloseConnectionError('malformed');
  };
  await withServer(handler, async (client, received, closed) => {
    client.write(frame(Buffer.from('x')));
    await closed;
    assert.equal(received().length, 0);
  });
});

test('reading pauses at the in-flight limit and resumes as requests complete', async () => {
  let started = 0;
  const gates: (() => void)[] = [];
  const handler: FrameHandler = (payload) => {
    started++;
    return new Promise((resolve) => gates.push(() => resolve([frame(payload)])));
  };
  await withServer(
    handler,
    async (client, received) => {
      for (let i = 0; i < 10; i++) client.write(frame(Buffer.from([i])));
      await until(() => started === 3);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(started, 3, 'no more than maxInFlightRequests handlers run at once');
      while (started < 10 || gates.length > 0) {
        gates.shift()?.();
        await new Promise((r) => setTimeout(r, 2));
      }
      await until(() => received().length === 10 * 5);
      assert.deepEqual(
        Array.from({ length: 10 }, (_, i) => received()[i * 5 + 4]),
        Array.from({ length: 10 }, (_, i) => i),
      );
    },
    { maxInFlightRequests: 3 },
  );
});

const dir = mkdtempSync(join(tmpdir(), 'fjord-conn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const mode of ['read', 'mmap', 'sendfile'] as const) {
  test(`file regions are sent between buffers in order (${mode})`, async () => {
    const content = Buffer.alloc(3 << 20);
    for (let i = 0; i < content.length; i++) content[i] = (i * 7 + (i >> 12)) & 0xff;
    const path = join(dir, `segment-${mode}.log`);
    writeFileSync(path, content);
    const fd = openSync(path, 'r');
    let released = 0;
    const position = 12345;
    const length = content.length - position - 999;
    const handler: FrameHandler = () => [
      Buffer.from('head'),
      {
        byteLength: length,
        parts: [
          { fd, position, length: 1000 },
          { fd, position: position + 1000, length: length - 1000 },
        ],
        release: () => released++,
      },
      Buffer.from('tail'),
    ];
    await withServer(
      handler,
      async (client, received) => {
        client.write(frame(Buffer.from('fetch')));
        client.write(frame(Buffer.from('fetch')));
        await until(() => received().length === 2 * (8 + length));
        const one = Buffer.concat([
          Buffer.from('head'),
          content.subarray(position, position + length),
          Buffer.from('tail'),
        ]);
        assert.ok(received().equals(Buffer.concat([one, one])));
        assert.equal(released, 2);
      },
      { mode },
    );
    closeSync(fd);
  });
}

void quietLog;

test('large Produce frames reuse buffers without corrupting later requests, and other frames are never reused', async () => {
  // Frames above 64 KiB arrive in several socket chunks, so the connection assembles them; Produce frames
  // (API key 0) go back to a small pool once answered. Each handler call checks its own content and keeps a
  // slice of non-Produce frames, which must stay intact after later frames are assembled.
  const kept: { slice: Buffer; fill: number }[] = [];
  const handler: FrameHandler = async (payload) => {
    const apiKey = payload.readInt16BE(0);
    const fill = payload[2]!;
    const intact = payload.subarray(2).every((byte) => byte === fill);
    if (apiKey !== 0) kept.push({ slice: payload.subarray(2), fill });
    await new Promise((r) => setTimeout(r, 1));
    return [frame(Buffer.from([intact ? 1 : 0]))];
  };
  await withServer(handler, async (client, received) => {
    const sizes = [70_000, 300_000, 90_000, 1_000_000, 70_000, 500_000, 200_000, 80_000];
    sizes.forEach((size, i) => {
      const payload = Buffer.alloc(size, (i * 37 + 11) & 0xff);
      payload.writeInt16BE(i % 3 === 0 ? 11 : 0, 0); // some JoinGroup-like frames among the Produce ones
      client.write(frame(payload));
    });
    await until(() => received().length === sizes.length * 5);
    assert.deepEqual(
      Array.from({ length: sizes.length }, (_, i) => received()[i * 5 + 4]),
      sizes.map(() => 1),
    );
    for (const { slice, fill } of kept)
      assert.ok(
        slice.every((byte) => byte === fill),
        'kept slice unchanged',
      );
  });
});

test('large Produce frames are read into the shared arena while it has room, and give it back when answered', async () => {
  // A 4-slab arena (1 MiB slabs). Every handler waits until all frames have arrived, so nothing is released
  // early and which frames fit is decided by arrival order alone.
  const arena = new ReceiveArena(4 << 20);
  const sizes = [1_000_000, 2_000_000, 1_500_000, 500_000, 40_000, 20_000, 300_000];
  // Produce frames at or above 32 KiB go to the arena: slab 0, slabs 1-2, (no run of 2 left), slab 3, (full).
  const expectShared = [true, true, false, true, false, false, false];
  const seen: { index: number; shared: boolean; intact: boolean }[] = [];
  let arrived = 0;
  let allArrived!: () => void;
  const everyone = new Promise<void>((resolve) => (allArrived = resolve));
  const handler: FrameHandler = async (payload) => {
    const index = payload[2]!;
    const intact = payload.subarray(3).every((byte) => byte === ((index * 41 + 7) & 0xff));
    seen.push({ index, shared: payload.buffer === arena.buffer, intact });
    if (++arrived === sizes.length) allArrived();
    await everyone;
    return [frame(Buffer.from([index, intact ? 1 : 0]))];
  };
  await withServer(
    handler,
    async (client, received) => {
      // One write holding every frame, then the socket delivers them in whatever chunks it likes.
      client.write(
        Buffer.concat(
          sizes.map((size, index) => {
            const payload = Buffer.alloc(size, (index * 41 + 7) & 0xff);
            payload.writeInt16BE(index === 6 ? 11 : 0, 0); // the last one is not a Produce request
            payload[2] = index;
            return frame(payload);
          }),
        ),
      );
      await until(() => received().length === sizes.length * 6);
      const answers = Array.from({ length: sizes.length }, (_, i) => [
        ...received().subarray(i * 6 + 4, i * 6 + 6),
      ]);
      assert.deepEqual(
        answers,
        sizes.map((_, i) => [i, 1]),
        'answered in order, every frame intact',
      );
      assert.deepEqual(
        seen.map(({ index, shared }) => [index, shared]),
        expectShared.map((shared, index) => [index, shared]),
      );
      await until(() => arena.leasedSlabs === 0);
    },
    { arena, maxRequestBytes: 4 << 20 },
  );
});

test('the broker-wide request budget bounds requests in flight across connections', async () => {
  // Two connections share a budget of 3 requests; each pipelines 5 requests whose handlers wait to be let go.
  const budget = new RequestBudget(3);
  const waiting: (() => void)[] = [];
  let peak = 0;
  const handler: FrameHandler = async (payload) => {
    peak = Math.max(peak, budget.requests);
    await new Promise<void>((resolve) => waiting.push(resolve));
    return [frame(payload)];
  };
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    new Connection(1, socket, handler, {
      maxRequestBytes: 1 << 20,
      maxInFlightRequests: 100,
      maxBufferedResponseBytes: 1 << 20,
      fileSender: createFileRegionSender('read'),
      budget,
      log: quietLog,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const clients = [0, 1].map(() => net.connect(port, '127.0.0.1'));
  const received = clients.map(() => [] as Buffer[]);
  clients.forEach((client, i) => client.on('data', (d) => received[i]!.push(d)));
  try {
    await Promise.all(clients.map((c) => new Promise((resolve) => c.on('connect', resolve))));
    clients.forEach((client, i) => {
      for (let n = 0; n < 5; n++) client.write(frame(Buffer.from(`c${i}r${n}`)));
    });
    await until(() => waiting.length === 3);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(waiting.length, 3, 'no fourth request was read while three were queued');
    // Let requests go one at a time: each answer lets exactly one more in.
    for (let answered = 0; answered < 10; answered++) {
      await until(() => waiting.length > 0);
      waiting.shift()!();
    }
    await until(() => received.every((chunks) => Buffer.concat(chunks).length === 5 * 8));
    assert.equal(peak, 3);
    assert.deepEqual(
      received.map((chunks) =>
        Buffer.concat(chunks)
          .toString('latin1')
          .replace(/\x00\x00\x00\x04/g, ' ')
          .trim(),
      ),
      ['c0r0 c0r1 c0r2 c0r3 c0r4', 'c1r0 c1r1 c1r2 c1r3 c1r4'],
    );
    assert.deepEqual([budget.requests, budget.bytes], [0, 0]);
  } finally {
    clients.forEach((c) => c.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('a client that disconnects half way through a large frame leaves nothing leased or charged', async () => {
  const arena = new ReceiveArena(2 << 20);
  const budget = new RequestBudget(10, 4 << 20);
  let handled = 0;
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    new Connection(
      1,
      socket,
      () => {
        handled++;
        return null;
      },
      {
        maxRequestBytes: 4 << 20,
        maxInFlightRequests: 10,
        maxBufferedResponseBytes: 1 << 20,
        fileSender: createFileRegionSender('read'),
        budget,
        sharedFrames: arena,
        log: quietLog,
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => client.on('connect', resolve));
    const header = Buffer.alloc(6);
    header.writeInt32BE(1_000_000, 0); // a Produce frame (API key 0) of 1 MB, of which 100 kB arrive
    client.write(Buffer.concat([header, Buffer.alloc(100_000 - 2, 1)]));
    await until(() => arena.leasedSlabs === 1 && budget.requests === 1);
    client.destroy();
    await until(() => arena.leasedSlabs === 0 && budget.requests === 0 && budget.bytes === 0);
    assert.equal(handled, 0, 'the incomplete frame was never handled');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
