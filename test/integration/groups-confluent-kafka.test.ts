// confluent-kafka (librdkafka 2.0.2) consumers with the cooperative-sticky (incremental) protocol: the broker
// only relays what the clients decide, so a leaving member's partitions move without the others revoking theirs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  GroupTestBroker,
  confluentConsumer,
  consumedKeys,
  eventually,
  splitsExactly,
  type ConsumerProcess,
} from './groups-support.js';

const PARTITIONS = 6;
let broker: GroupTestBroker;
const running: ConsumerProcess[] = [];

before(async () => {
  broker = await GroupTestBroker.start();
});
after(async () => {
  await Promise.all(running.map((c) => c.kill('SIGKILL')));
  await broker.close();
});

const show = (cs: ConsumerProcess[]) => cs.map((c) => `${c.name}=${JSON.stringify(c.assignment)}`).join(' ');

test('cooperative-sticky consumers split the partitions; when one leaves, the others keep theirs', async () => {
  await broker.createTopic('coop', PARTITIONS);
  await broker.produce('coop', PARTITIONS, 10);
  const group = ['a', 'b', 'c'].map((n) => {
    const c = confluentConsumer(`coop-${n}`, {
      bootstrap: broker.bootstrap,
      group: 'coop-group',
      topic: 'coop',
      strategy: 'cooperative-sticky',
      session_timeout_ms: 30_000,
    });
    running.push(c);
    return c;
  });
  await eventually(
    () => splitsExactly(group, PARTITIONS),
    60_000,
    () => show(group),
  );
  await eventually(
    () => new Set(consumedKeys(group)).size === PARTITIONS * 10,
    30_000,
    () => `${consumedKeys(group).length} read`,
  );
  for (const c of group) assert.equal(c.assignment.length, 2, show(group));

  const [a, b, c] = group as [ConsumerProcess, ConsumerProcess, ConsumerProcess];
  const kept = { a: a.assignment, b: b.assignment };
  const eventsBefore = { a: a.events.length, b: b.events.length };
  assert.equal(await c.kill('SIGTERM'), 0);
  await eventually(
    () => splitsExactly([a, b], PARTITIONS),
    30_000,
    () => show([a, b]),
  );
  for (const [member, name] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    const revokedSince = member.events.slice(eventsBefore[name]).filter((e) => e.event === 'revoked');
    assert.deepEqual(revokedSince, [], `${member.name} revoked nothing`);
    for (const p of kept[name])
      assert.ok(member.assignment.includes(p), `${member.name} kept partition ${p}`);
  }
  await broker.produce('coop', PARTITIONS, 2, 10);
  await eventually(
    () => [a, b].reduce((n, m) => n + m.records.filter((r) => r.offset >= 10).length, 0) === PARTITIONS * 2,
    30_000,
    () => show([a, b]),
  );
  await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
});
