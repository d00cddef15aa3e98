import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { niceTicks, percentileAxis, writeReport } from '../../src/perf/report.js';
import { fakeResult } from './helpers.js';

test('the report holds the summary, three charts with their series, and the raw result', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'perf-report-'));
  try {
    const result = fakeResult(20_000, 5000, 6);
    const html = await writeReport(dir, result);
    const page = readFileSync(html, 'utf8');
    assert.match(page, /^<!doctype html>/);
    assert.equal(page.match(/<svg /g)?.length, 3);
    for (const title of [
      'Throughput over time',
      'produce latency by percentile',
      'produce latency over time',
    ]) {
      assert.ok(page.includes(title), title);
    }
    for (const series of ['produce MB/s', 'p50', 'p99', 'max', 'produce latency']) {
      assert.ok(page.includes(`data-series="${series}"`), series);
    }
    assert.ok(!/<script|https?:\/\/(?!www\.w3\.org)/.test(page), 'self-contained');
    // The throughput path has one vertex per second of the series.
    const path = /<path d="([^"]+)"[^>]*data-series="produce MB\/s"/.exec(page)![1]!;
    assert.equal(path.split(/[ML]/).filter(Boolean).length, 6);
    for (const svg of ['throughput.svg', 'latency-percentiles.svg', 'latency-over-time.svg']) {
      assert.match(readFileSync(join(dir, svg), 'utf8'), /^<svg xmlns/);
    }
    const json = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    assert.equal(json.series.length, 6);
    assert.equal(json.produce.records, 120_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('chart helpers', () => {
  assert.deepEqual(niceTicks(9.3, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.equal(percentileAxis(0), 0);
  assert.ok(Math.abs(percentileAxis(99) - 2) < 1e-9);
  assert.ok(Math.abs(percentileAxis(99.9) - 3) < 1e-9);
});
