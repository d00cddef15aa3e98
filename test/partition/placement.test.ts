import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { PlacementTable } from '../../src/partition/placement.js';
import type { PlacementSnapshot } from '../../src/partition/placement.js';

describe('placement table', () => {
  it('spreads a topic over all workers and keeps every worker within one partition of the others', () => {
    const table = new PlacementTable(3);
    assert.deepEqual(table.addTopic('orders', 7), [0, 1, 2, 0, 1, 2, 0]);
    assert.deepEqual(table.load(), [3, 2, 2]);
    // The next topic starts on the least-loaded workers, not on worker 0 again.
    assert.deepEqual(table.addTopic('payments', 2), [1, 2]);
    assert.deepEqual(table.load(), [3, 3, 3]);
    assert.deepEqual(table.addTopic('audit', 1), [0]);
    assert.equal(table.workerFor('orders', 4), 1);
    assert.equal(table.workerFor('payments', 1), 2);
    assert.equal(table.workerFor('orders', 7), -1);
    assert.equal(table.workerFor('nope', 0), -1);
  });

  it('stays balanced through many topics of random sizes, and after deletes', () => {
    const table = new PlacementTable(4);
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n) + 1;
    for (let i = 0; i < 50; i++) table.addTopic(`t${i}`, random(9));
    let load = table.load();
    assert.ok(Math.max(...load) - Math.min(...load) <= 1, `load ${load}`);
    const total = load.reduce((a, b) => a + b, 0);
    assert.equal(
      total,
      table.topics().reduce((sum, topic) => sum + table.partitionCount(topic), 0),
    );
    for (let i = 0; i < 50; i += 3) assert.equal(table.removeTopic(`t${i}`), true);
    assert.equal(table.removeTopic('t0'), false);
    // New partitions fill the workers that deletes left short.
    for (let i = 0; i < 10; i++) table.addTopic(`u${i}`, random(9));
    load = table.load();
    const before = Math.max(...load) - Math.min(...load);
    table.addTopic('filler', 40);
    load = table.load();
    assert.ok(Math.max(...load) - Math.min(...load) <= Math.max(1, before), `load ${load}`);
  });

  it('grows a topic without moving existing partitions, refuses to shrink', () => {
    const table = new PlacementTable(2);
    const first = table.addTopic('t', 3);
    const grown = table.addPartitions('t', 6);
    assert.deepEqual(grown.slice(0, 3), first);
    assert.equal(grown.length, 6);
    assert.throws(() => table.addPartitions('t', 2), /cannot shrink/);
    assert.throws(() => table.addPartitions('missing', 2), /unknown topic/);
    assert.throws(() => table.addTopic('t', 1), /already placed/);
    assert.throws(() => table.addTopic('z', 0), RangeError);
  });

  it('moves a partition explicitly and lists what each worker owns', () => {
    const table = new PlacementTable(2);
    table.addTopic('a', 2);
    table.move('a', 0, 1);
    assert.equal(table.workerFor('a', 0), 1);
    assert.deepEqual(table.load(), [0, 2]);
    assert.deepEqual(table.partitionsOf(1), [
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
    ]);
    assert.throws(() => table.move('a', 5, 0), /unknown partition a-5/);
    assert.throws(() => table.move('a', 0, 2), /worker 2 outside/);
  });

  it('bumps the revision on every change', () => {
    const table = new PlacementTable(2);
    assert.equal(table.revision, 0);
    table.addTopic('a', 1);
    table.addPartitions('a', 2);
    table.move('a', 0, 1);
    table.removeTopic('a');
    assert.equal(table.revision, 4);
  });

  it('a copy follows snapshots, ignores stale ones and survives structured clone', () => {
    const main = new PlacementTable(3);
    main.addTopic('a', 4);
    const early = main.snapshot();
    main.addTopic('b', 2);
    main.removeTopic('a');
    const late = main.snapshot();

    // Post both through a real MessagePort, newest first, as a worker could see them over two channels.
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(late);
    port1.postMessage(early);
    const copy = new PlacementTable(3);
    const received: PlacementSnapshot[] = [];
    for (let m = receiveMessageOnPort(port2); m; m = receiveMessageOnPort(port2)) received.push(m.message);
    port1.close();
    assert.equal(copy.apply(received[0]!), true);
    assert.equal(copy.apply(received[1]!), false, 'an older revision is ignored');
    assert.equal(copy.apply(received[0]!), false, 'the same revision twice is ignored');
    assert.equal(copy.revision, late.revision);
    assert.equal(copy.workerFor('a', 0), -1);
    assert.deepEqual(
      [copy.workerFor('b', 0), copy.workerFor('b', 1)],
      [main.workerFor('b', 0), main.workerFor('b', 1)],
    );
    assert.deepEqual(copy.load(), main.load());
    assert.deepEqual(PlacementTable.fromSnapshot(late).snapshot(), late);
  });

  it('rejects a snapshot that names a worker that does not exist', () => {
    const table = new PlacementTable(2);
    assert.throws(
      () => table.apply({ revision: 1, workerCount: 2, topics: [['a', [0, 2]]] }),
      /a placed on worker 2 of 2/,
    );
    assert.equal(table.revision, 0);
    assert.throws(() => new PlacementTable(0), RangeError);
  });
});
