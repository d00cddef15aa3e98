import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { startCaptureProxy } from './capture-proxy.js';

function requestFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  clientId: string,
  body: Buffer,
) {
  const id = Buffer.from(clientId);
  const header = Buffer.alloc(10);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(id.length, 8);
  const payload = Buffer.concat([header, id, body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

function responseFrame(correlationId: number, body: Buffer) {
  const frame = Buffer.alloc(8);
  frame.writeInt32BE(4 + body.length, 0);
  frame.writeInt32BE(correlationId, 4);
  return Buffer.concat([frame, body]);
}

const endpoint = (host: string, port: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(port);
  return Buffer.concat([Buffer.from(host), b]);
};

test('records frames split across writes, pairs responses, and rewrites advertised ports', async () => {
  // A fake broker: answers every request with its correlation id and an advertised "127.0.0.1" + own port.
  let brokerPort = 0;
  const broker = createServer((socket: Socket) => {
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        const correlationId = pending.readInt32BE(8);
        pending = pending.subarray(4 + size);
        socket.write(responseFrame(correlationId, endpoint('127.0.0.1', brokerPort)));
      }
    });
  });
  await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  brokerPort = (broker.address() as AddressInfo).port;

  const proxy = await startCaptureProxy({ upstream: `127.0.0.1:${brokerPort}` });
  const proxyPort = Number(proxy.bootstrap.split(':')[1]);
  assert.notEqual(proxyPort, brokerPort);
  try {
    const client = connect(proxyPort, '127.0.0.1');
    const received: Buffer[] = [];
    client.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((resolve) => client.once('connect', resolve));

    proxy.setLabel('first');
    const metadata = requestFrame(3, 12, 7, 'golden', Buffer.from([1, 2, 3]));
    // Split one frame over three writes to exercise reassembly.
    client.write(metadata.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 20));
    client.write(metadata.subarray(3, 11));
    await new Promise((r) => setTimeout(r, 20));
    client.write(metadata.subarray(11));
    while (proxy.frames.length < 2) await new Promise((r) => setTimeout(r, 10));
    proxy.setLabel('second');
    // Produce (apiKey 0) responses must pass through untouched.
    client.write(requestFrame(0, 9, 8, 'golden', Buffer.alloc(0)));

    while (proxy.frames.length < 4) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    client.destroy();

    assert.deepEqual(
      proxy.frames.map((f) => [f.direction, f.apiKey, f.apiVersion, f.correlationId, f.clientId, f.label]),
      [
        ['request', 3, 12, 7, 'golden', 'first'],
        ['response', 3, 12, 7, undefined, 'first'],
        ['request', 0, 9, 8, 'golden', 'second'],
        ['response', 0, 9, 8, undefined, 'second'],
      ],
    );
    assert.deepEqual(proxy.frames[0]?.bytes, metadata);
    // Recorded as the broker sent it...
    assert.deepEqual(proxy.frames[1]?.bytes, responseFrame(7, endpoint('127.0.0.1', brokerPort)));
    // ...but the client saw the proxy's port in the Metadata response and the broker's in the Produce one.
    assert.deepEqual(
      Buffer.concat(received),
      Buffer.concat([
        responseFrame(7, endpoint('127.0.0.1', proxyPort)),
        responseFrame(8, endpoint('127.0.0.1', brokerPort)),
      ]),
    );
  } finally {
    await proxy.stop();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
});
