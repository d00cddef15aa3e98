// kafka-python consumers in groups: splitting partitions, failure and clean leave, resuming from committed
// offsets, and auto.offset.reset for a new group.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  GroupTestBroker,
  consumedKeys,
  eventually,
  kafkaPythonConsumer,
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

function consumer(name: string, group: string, topic: string, extra: object = {}): ConsumerProcess {
  const c = kafkaPythonConsumer(name, { bootstrap: broker.bootstrap, group, topic, ...extra });
  running.push(c);
  return c;
}

const describe = (cs: ConsumerProcess[]) =>
  cs.map((c) => `${c.name}=${JSON.stringify(c.assignment)}`).join(' ');

test('three consumers split six partitions; a SIGKILLed one is replaced after the session timeout', async () => {
  await broker.createTopic('kp-split', PARTITIONS);
  await broker.produce('kp-split', PARTITIONS, 10);
  const group = [1, 2, 3].map((n) => consumer(`kp${n}`, 'kp-split-group', 'kp-split'));
  await eventually(
    () => splitsExactly(group, PARTITIONS),
    60_000,
    () => describe(group),
  );
  await eventually(
    () => new Set(consumedKeys(group)).size === PARTITIONS * 10,
    30_000,
    () => `${consumedKeys(group).length} read`,
  );
  for (const c of group) assert.equal(c.assignment.length, 2, describe(group));

  const [victim, ...survivors] = group as [ConsumerProcess, ConsumerProcess, ConsumerProcess];
  const orphaned = victim.assignment;
  await victim.kill('SIGKILL');
  await eventually(
    () => splitsExactly(survivors, PARTITIONS),
    30_000,
    () => describe(survivors),
  );
  for (const p of orphaned) assert.ok(survivors.some((s) => s.assignment.includes(p)));
  // Records written after the takeover reach the survivors, from where the victim had committed.
  await broker.produce('kp-split', PARTITIONS, 5, 10);
  await eventually(
    () => survivors.reduce((n, c) => n + c.records.filter((r) => r.offset >= 10).length, 0) >= PARTITIONS * 5,
    30_000,
    () => describe(survivors),
  );
  const all = consumedKeys(group);
  assert.equal(new Set(all).size, PARTITIONS * 15, 'every record was read');
  await Promise.all(survivors.map((c) => c.kill('SIGTERM')));
});

test('a consumer that leaves cleanly (LeaveGroup) hands its partitions over without waiting for its session', async () => {
  await broker.createTopic('kp-leave', 4);
  await broker.produce('kp-leave', 4, 3);
  // A session far longer than the wait below: only LeaveGroup can explain a quick takeover.
  const opts = { session_timeout_ms: 60_000 };
  const a = consumer('kp-a', 'kp-leave-group', 'kp-leave', opts);
  const b = consumer('kp-b', 'kp-leave-group', 'kp-leave', opts);
  await eventually(
    () => splitsExactly([a, b], 4),
    60_000,
    () => describe([a, b]),
  );
  assert.equal(await b.kill('SIGTERM'), 0);
  await eventually(
    () => a.assignment.length === 4,
    20_000,
    () => describe([a]),
  );
  await a.kill('SIGTERM');
});

test('a restarted consumer resumes at its committed offset: nothing lost, duplicates within one poll', async () => {
  await broker.createTopic('kp-resume', 1);
  await broker.produce('kp-resume', 1, 200);
  const first = consumer('kp-first', 'kp-resume-group', 'kp-resume', { max_poll_records: 5 });
  await first.until(() => first.records.length >= 40, 30_000, '40 records');
  await first.kill('SIGKILL');
  const seen = first.records.map((r) => r.offset);
  const second = consumer('kp-second', 'kp-resume-group', 'kp-resume', { max_poll_records: 5 });
  await second.until(() => second.records.some((r) => r.offset === 199), 60_000, 'the last record');
  const resumedAt = second.records[0]!.offset;
  const lastSeen = Math.max(...seen);
  assert.ok(resumedAt <= lastSeen + 1, `resumed at ${resumedAt}, after ${lastSeen}: records lost`);
  assert.ok(
    lastSeen + 1 - resumedAt <= 5,
    `resumed at ${resumedAt} after ${lastSeen}: more than one poll re-read`,
  );
  const union = new Set([...seen, ...second.records.map((r) => r.offset)]);
  assert.equal(union.size, 200);
  await second.kill('SIGTERM');
});

test('auto.offset.reset for a new group: earliest reads all, latest only new records, none fails', async () => {
  await broker.createTopic('kp-reset', 1);
  await broker.produce('kp-reset', 1, 5);
  const earliest = consumer('kp-earliest', 'kp-reset-earliest', 'kp-reset', { reset: 'earliest' });
  const latest = consumer('kp-latest', 'kp-reset-latest', 'kp-reset', { reset: 'latest' });
  await earliest.until(() => earliest.records.length === 5, 30_000, '5 records');
  assert.deepEqual(
    earliest.records.map((r) => r.value),
    ['p0-0', 'p0-1', 'p0-2', 'p0-3', 'p0-4'],
  );
  await latest.until(() => latest.assignment.length === 1, 30_000, 'an assignment');
  // Its position is looked up after the assignment, at a moment we cannot see: keep producing until it reads.
  let next = 5;
  while (latest.records.length === 0 && next < 100) {
    await broker.produce('kp-reset', 1, 1, next++);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  assert.ok(latest.records.length > 0);
  for (const r of latest.records) assert.ok(r.offset >= 5, `latest read old record ${r.value}`);
  const none = consumer('kp-none', 'kp-reset-none', 'kp-reset', { reset: 'none' });
  await none.until(() => none.events.some((e) => e.event === 'error'), 30_000, 'an error');
  const error = none.events.find((e) => e.event === 'error');
  assert.ok(error && error.event === 'error');
  assert.equal(error.type, 'NoOffsetForPartitionError');
  assert.equal(none.records.length, 0);
  await Promise.all([earliest, latest, none].map((c) => c.kill('SIGTERM')));
});
