// Offsets at the edges, with real clients: acks=0 produces (no response at all) are stored like any other,
// and a fetch beyond the log end gets OFFSET_OUT_OF_RANGE so the client applies auto.offset.reset.
// Embedded broker with num.io.threads=1.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  run,
  runPython,
  startTestBroker,
  type TestBroker,
  type TextRecord,
} from '../tools/broker-harness.js';
import { ensureTopic, readPartition } from '../tools/raw-client.js';
import { WireClient } from '../tools/wire-client.js';

let b: TestBroker;
before(async () => {
  b = await startTestBroker({ 'num.io.threads': '1' });
});
after(async () => {
  await b?.close();
});

async function stored(topic: string): Promise<[number, string | null][]> {
  const client = await WireClient.connect(b.broker.port);
  try {
    return (await readPartition(client, topic, 0)).map((r) => [r.offset, r.value]);
  } finally {
    client.close();
  }
}

test('acks=0 from kcat and kafka-python: nothing is answered, everything is stored', async () => {
  const topic = 'acks-zero';
  const client = await WireClient.connect(b.broker.port);
  await ensureTopic(client, topic);
  client.close();
  await run('kcat', ['-b', b.bootstrap, '-t', topic, '-P', '-p', '0', '-X', 'acks=0'], {
    input: 'k1\nk2\nk3\n',
  });
  await runPython('kafka_python_client.py', {
    bootstrap: b.bootstrap,
    ops: [
      {
        op: 'produce',
        topic,
        acks: 0,
        records: ['p1', 'p2'].map((value) => ({ key: null, value, headers: [], partition: 0 })),
      },
    ],
  });
  // acks=0 gives the producer no signal; the records show up once the broker has appended them.
  let got: [number, string | null][] = [];
  for (let i = 0; i < 100 && got.length < 5; i++) {
    got = await stored(topic);
    if (got.length < 5) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(got, [
    [0, 'k1'],
    [1, 'k2'],
    [2, 'k3'],
    [3, 'p1'],
    [4, 'p2'],
  ]);
});

test('a fetch past the end gets OFFSET_OUT_OF_RANGE and the clients reset to the earliest offset', async () => {
  const topic = 'reset-me';
  await run('kcat', ['-b', b.bootstrap, '-t', topic, '-P', '-p', '0'], { input: 'r0\nr1\nr2\nr3\n' });
  const { stdout, stderr } = await run('kcat', [
    '-b',
    b.bootstrap,
    '-t',
    topic,
    '-C',
    '-e',
    '-p',
    '0',
    '-o',
    '100',
    '-X',
    'auto.offset.reset=earliest',
    '-f',
    '%o:%s\n',
  ]);
  assert.equal(stdout, '0:r0\n1:r1\n2:r2\n3:r3\n');
  assert.match(stderr, /Offset out of range/);
  for (const script of ['kafka_python_client.py', 'confluent_kafka_client.py']) {
    const [result] = await runPython<[{ records: TextRecord[] }]>(script, {
      bootstrap: b.bootstrap,
      ops: [{ op: 'consume', topic, partitions: [0], offset: 100, count: 4, auto_offset_reset: 'earliest' }],
    });
    assert.deepEqual(
      result.records.map((r) => [r.offset, r.value]),
      [
        [0, 'r0'],
        [1, 'r1'],
        [2, 'r2'],
        [3, 'r3'],
      ],
      script,
    );
  }
});
