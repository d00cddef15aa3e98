// `kcat -G` balanced consumers (librdkafka 2.0.2): two split the partitions, and when one stops the other
// takes them all; a second run of the group starts from the committed offsets.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsumerProcess, GroupTestBroker, eventually } from './groups-support.js';

const PARTITIONS = 4;
let broker: GroupTestBroker;
const running: ConsumerProcess[] = [];

before(async () => {
  broker = await GroupTestBroker.start();
  await broker.createTopic('kc', PARTITIONS);
  await broker.produce('kc', PARTITIONS, 25);
});
after(async () => {
  await Promise.all(running.map((c) => c.kill('SIGKILL')));
  await broker.close();
});

function kcat(name: string): ConsumerProcess {
  const c = new ConsumerProcess(name, 'kcat', [
    '-u',
    '-b',
    broker.bootstrap,
    '-G',
    'kcat-group',
    '-X',
    'auto.offset.reset=earliest',
    '-f',
    '{"event":"record","partition":%p,"offset":%o,"value":"%s"}\\n',
    '-X',
    'session.timeout.ms=6000',
    '-X',
    'heartbeat.interval.ms=300',
    '-X',
    'auto.commit.interval.ms=200',
    'kc',
  ]);
  running.push(c);
  return c;
}

/** kcat reports rebalances on stderr: "% Group kcat-group rebalanced (memberid ...): assigned: kc [0], kc [2]". */
function assignmentOf(c: ConsumerProcess): number[] {
  let current: number[] = [];
  for (const line of c.stderr) {
    const m = /rebalanced .*: (assigned|revoked): (.*)$/.exec(line);
    if (!m) continue;
    const partitions = [...m[2]!.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
    current = m[1] === 'assigned' ? partitions.sort((a, b) => a - b) : [];
  }
  return current;
}

const show = (cs: ConsumerProcess[]) =>
  cs.map((c) => `${c.name}=${JSON.stringify(assignmentOf(c))}`).join(' ');

test('two kcat -G consumers split the partitions and read every record; one stopping hands over', async () => {
  const a = kcat('kcat-a');
  const b = kcat('kcat-b');
  const split = () => {
    const all = [...assignmentOf(a), ...assignmentOf(b)].sort((x, y) => x - y);
    return (
      all.length === PARTITIONS &&
      all.every((p, i) => p === i) &&
      assignmentOf(a).length > 0 &&
      assignmentOf(b).length > 0
    );
  };
  await eventually(split, 60_000, () => show([a, b]));
  const read = () => new Set([...a.records, ...b.records].map((r) => `${r.partition}:${r.offset}`)).size;
  await eventually(
    () => read() === PARTITIONS * 25,
    30_000,
    () => `${read()} read`,
  );
  assert.equal(assignmentOf(a).length, 2);
  assert.equal(assignmentOf(b).length, 2);
  for (const r of [...a.records, ...b.records]) assert.equal(r.value, `p${r.partition}-${r.offset}`);

  await b.kill('SIGTERM');
  await eventually(
    () => assignmentOf(a).length === PARTITIONS,
    30_000,
    () => show([a]),
  );
  await broker.produce('kc', PARTITIONS, 5, 25);
  await eventually(
    () => a.records.filter((r) => r.offset >= 25).length === PARTITIONS * 5,
    30_000,
    () => `${a.records.filter((r) => r.offset >= 25).length} new records`,
  );
  await a.kill('SIGTERM');

  // The group committed everything it read: a new member starts at the end.
  await broker.produce('kc', PARTITIONS, 1, 30);
  const c = kcat('kcat-c');
  await eventually(
    () => c.records.length >= PARTITIONS,
    60_000,
    () => `${c.records.length} read by kcat-c`,
  );
  assert.deepEqual(
    c.records.map((r) => r.offset),
    [30, 30, 30, 30],
  );
  await c.kill('SIGTERM');
});
