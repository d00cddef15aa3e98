import { Histogram } from '../../src/perf/histogram.js';
import { defaultOptions } from '../../src/perf/options.js';
import type { PerfResult } from '../../src/perf/run.js';

/** A made-up produce result: `rate` records/s of 100 B for `seconds`, latencies 1..latencyMaxUs µs. */
export function fakeResult(rate: number, latencyMaxUs: number, seconds = 5): PerfResult {
  const h = new Histogram();
  for (let v = 1; v <= latencyMaxUs; v++) h.record(v);
  const records = rate * seconds;
  return {
    tool: 'fjord perf',
    version: 1,
    mode: 'produce',
    status: 'ok',
    fatal: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationSec: seconds,
    options: defaultOptions('produce'),
    topic: { name: 'fjord-perf', partitions: 1, created: true },
    produce: {
      records,
      bytes: records * 100,
      requests: records / 100,
      recordsPerSec: rate,
      mbPerSec: (rate * 100) / 1e6,
      errors: {},
      errorCount: 0,
    },
    consume: null,
    latencyKind: 'produce',
    latency: h.summary(),
    latencyCurve: h.percentileCurve(),
    series: Array.from({ length: seconds }, (_, i) => ({
      t: i + 1,
      produceRecords: rate,
      produceBytes: rate * 100,
      consumeRecords: 0,
      consumeBytes: 0,
      errors: 0,
      p50: latencyMaxUs / 2000,
      p99: (latencyMaxUs * 0.99) / 1000,
      max: latencyMaxUs / 1000,
    })),
  };
}
