import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareRows, formatCompare, formatSummary, parseResult } from '../../src/perf/format.js';
import { fakeResult } from './helpers.js';

test('compare lists each metric of A and B with the ratio B/A', () => {
  const a = fakeResult(10_000, 1000);
  const b = fakeResult(25_000, 4000);
  const rows = compareRows(a, b);
  const row = (metric: string) => rows.find((r) => r.metric === metric)!;
  assert.equal(row('produce records/s').a, 10_000);
  assert.equal(row('produce records/s').b, 25_000);
  assert.equal(row('produce records/s').ratio, 2.5);
  assert.equal(row('produce MB/s').ratio, 2.5);
  assert.equal(row('latency max (ms)').a, 1);
  assert.equal(row('latency max (ms)').ratio, 4);
  assert.equal(row('produce errors').ratio, null); // 0 -> no ratio
  assert.equal(
    rows.some((r) => r.metric.startsWith('consume')),
    false,
  );

  const text = formatCompare(a, b, 'base.json', 'new.json');
  assert.match(text, /A: base\.json/);
  assert.match(text, /B: new\.json/);
  assert.match(text, /produce records\/s\s+10,000\s+25,000\s+2\.50x/);
  assert.match(text, /latency p50 \(ms\)\s+0\.500\s+2\.000\s+4\.00x/);
});

test('the summary shows rates, percentiles and errors by code', () => {
  const r = fakeResult(1000, 2000);
  r.produce!.errors = { NOT_LEADER_OR_FOLLOWER: 12, REQUEST_TIMED_OUT: 3 };
  r.produce!.errorCount = 15;
  r.status = 'errors';
  const text = formatSummary(r);
  assert.match(text, /produce\s+5,000\s+1,000\s+0\.1\s+15/);
  assert.match(text, /p50\s+p90\s+p99\s+p99\.9\s+p99\.99\s+max\s+mean/);
  assert.match(text, /NOT_LEADER_OR_FOLLOWER\s+12/);
  assert.match(text, /REQUEST_TIMED_OUT\s+3/);
});

test('parseResult accepts --json output and rejects other JSON', () => {
  const r = fakeResult(1, 1);
  assert.equal(parseResult(JSON.stringify(r), 'a.json').produce!.records, 5);
  assert.throws(() => parseResult('{"x":1}', 'b.json'), /b\.json is not a 'fjord perf --json' result/);
  assert.throws(() => parseResult('nope', 'c.json'), /c\.json is not JSON/);
});
