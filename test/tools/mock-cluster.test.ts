import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { startMockCluster } from './mock-cluster.js';

test('mock cluster serves metadata, produce and fetch to kcat', async () => {
  const cluster = await startMockCluster({ brokers: 3, topics: [{ name: 'mc-test', partitions: 2 }] });
  try {
    assert.match(cluster.bootstrap, /^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    const metadata = JSON.parse(
      execFileSync('kcat', ['-b', cluster.bootstrap, '-L', '-J', '-t', 'mc-test'], { encoding: 'utf8' }),
    ) as { brokers: unknown[]; topics: { topic: string; partitions: unknown[] }[] };
    assert.equal(metadata.brokers.length, 3);
    assert.deepEqual(
      metadata.topics.map((t) => [t.topic, t.partitions.length]),
      [['mc-test', 2]],
    );

    execFileSync('kcat', ['-b', cluster.bootstrap, '-t', 'mc-test', '-p', '1', '-P', '-K:'], {
      input: 'k1:one\nk2:two\n',
    });
    const consumed = execFileSync(
      'kcat',
      [
        '-b',
        cluster.bootstrap,
        '-t',
        'mc-test',
        '-p',
        '1',
        '-C',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%k=%s@%o\n',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(consumed, 'k1=one@0\nk2=two@1\n');
  } finally {
    await cluster.stop();
  }
});

test('stop() is idempotent and closes the listeners', async () => {
  const cluster = await startMockCluster();
  const [host, port] = cluster.bootstrap.split(':');
  await Promise.all([cluster.stop(), cluster.stop()]);
  await cluster.stop();
  const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
    const socket = connect(Number(port), host);
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error('mock broker still listening after stop()'));
    });
    socket.once('error', resolve);
  });
  assert.equal(error.code, 'ECONNREFUSED');
});
