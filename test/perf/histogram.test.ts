import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram } from '../../src/perf/histogram.js';
import { rng } from '../../src/perf/payload.js';

/** The oracle: the value at rank ceil(p/100 * n) of the sorted samples. */
function oracle(sorted: number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

function withinPrecision(actual: number, expected: number): void {
  assert.ok(actual >= expected, `${actual} < ${expected}`);
  assert.ok(actual <= expected + Math.max(0, expected / 1024), `${actual} > ${expected} + 1/1024`);
}

test('percentiles match a sorted-array oracle to three significant digits', () => {
  const random = rng(42);
  for (const scale of [100, 5_000, 2_000_000, 2 ** 31 - 1]) {
    const h = new Histogram();
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Log-uniform, so every magnitude up to `scale` is exercised.
      const v = Math.floor(Math.exp(random() * Math.log(scale)));
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [0, 1, 10, 50, 90, 99, 99.9, 99.99, 100])
      withinPrecision(h.percentile(p), oracle(values, p));
    assert.equal(h.count, values.length);
    assert.equal(h.max, values[values.length - 1]);
    assert.equal(h.min, values[0]);
    assert.ok(Math.abs(h.mean - values.reduce((a, b) => a + b, 0) / values.length) < 1e-6 * h.mean + 1e-9);
  }
});

test('values below 2048 are exact and counts add up', () => {
  const h = new Histogram();
  for (let v = 0; v < 2048; v++) h.record(v, 2);
  assert.equal(h.count, 4096);
  assert.equal(h.percentile(50), 1023);
  assert.equal(h.percentile(100), 2047);
  const s = h.summary();
  assert.equal(
    s.p99,
    oracle(
      [...Array(2048).keys()].flatMap((v) => [v, v]),
      99,
    ),
  );
});

test('an empty histogram reports zeros', () => {
  const h = new Histogram();
  assert.deepEqual(h.summary(), {
    count: 0,
    min: 0,
    mean: 0,
    p50: 0,
    p90: 0,
    p99: 0,
    p999: 0,
    p9999: 0,
    max: 0,
  });
  assert.deepEqual(h.percentileCurve(), []);
});

test('coordinated-omission correction back-fills the samples a stall hid', () => {
  const h = new Histogram();
  // One request every 1000 µs; one of them stalls 10 000 µs. The 9 requests that should have been sent
  // during the stall would have seen 9000, 8000, ..., 1000 µs.
  for (let i = 0; i < 90; i++) h.recordCorrected(100, 1000);
  h.recordCorrected(10_000, 1000);
  assert.equal(h.count, 100);
  const expected = [
    ...Array(90).fill(100),
    10_000,
    9000,
    8000,
    7000,
    6000,
    5000,
    4000,
    3000,
    2000,
    1000,
  ].sort((a, b) => a - b);
  for (const p of [50, 90, 95, 99, 100]) withinPrecision(h.percentile(p), oracle(expected, p));
  // Without the correction the p95 would hide the stall entirely.
  const raw = new Histogram();
  for (let i = 0; i < 90; i++) raw.record(100);
  raw.record(10_000);
  assert.equal(raw.percentile(95), 100);
  assert.ok(h.percentile(95) >= 5000);
});

test('merge and the sparse data form round-trip', () => {
  const a = new Histogram();
  const b = new Histogram();
  const random = rng(7);
  const all: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const v = Math.floor(random() * 1e6);
    all.push(v);
    (i % 2 ? a : b).record(v);
  }
  const merged = Histogram.fromData(JSON.parse(JSON.stringify(a.toData())));
  merged.merge(b);
  all.sort((x, y) => x - y);
  assert.equal(merged.count, 5000);
  for (const p of [50, 99, 99.9]) withinPrecision(merged.percentile(p), oracle(all, p));
  assert.equal(merged.max, all[all.length - 1]);
  const curve = merged.percentileCurve();
  assert.equal(curve[0]!.percentile, 0);
  assert.equal(curve[curve.length - 1]!.percentile, 100);
  assert.equal(curve[curve.length - 1]!.value, merged.max);
  for (let i = 1; i < curve.length; i++) assert.ok(curve[i]!.value >= curve[i - 1]!.value);
});
