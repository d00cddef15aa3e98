// Text output of `fjord perf`: the final summary table and `fjord perf compare A.json B.json`.
import type { LatencySummary } from './histogram.js';
import type { PerfResult, SideResult } from './run.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const msOf = (us: number): string => (us / 1000).toFixed(us < 10_000 ? 3 : 1);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    )
    .join('\n');
}

function describe(result: PerfResult): string {
  const o = result.options;
  const size =
    o.recordSize.kind === 'fixed'
      ? `${o.recordSize.size} B`
      : `uniform ${o.recordSize.min}-${o.recordSize.max} B`;
  const rate =
    o.rate === null
      ? 'unthrottled'
      : `${int(o.rate.perSecond)} ${o.rate.unit === 'records' ? 'rec/s' : 'B/s'}`;
  const topic = `fjord perf ${result.mode}: topic ${result.topic.name} (${result.topic.partitions} partitions), `;
  if (result.mode === 'consume') {
    return topic + `${o.consumers} consumer(s), ${result.durationSec.toFixed(1)} s measured`;
  }
  return (
    topic +
    `${size} records, acks=${o.acks === -1 ? 'all' : o.acks}, ${o.compression}, ${o.producers} producer(s), ` +
    (result.mode === 'e2e' ? `${o.consumers} consumer(s), ` : '') +
    `${rate}, ${result.durationSec.toFixed(1)} s measured`
  );
}

function sideRow(label: string, side: SideResult): string[] {
  return [label, int(side.records), int(side.recordsPerSec), side.mbPerSec.toFixed(1), int(side.errorCount)];
}

export const LATENCY_FIELDS: [keyof LatencySummary, string][] = [
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p99', 'p99'],
  ['p999', 'p99.9'],
  ['p9999', 'p99.99'],
  ['max', 'max'],
];

export function formatSummary(result: PerfResult): string {
  const lines = [describe(result), ''];
  const rows: string[][] = [['', 'records', 'records/s', 'MB/s', 'errors']];
  if (result.produce) rows.push(sideRow('produce', result.produce));
  if (result.consume) rows.push(sideRow('consume', result.consume));
  lines.push(table(rows));
  if (result.latency && result.latency.count > 0) {
    lines.push('');
    lines.push(`${result.latencyKind} latency (ms, ${int(result.latency.count)} records)`);
    lines.push(
      table([
        [...LATENCY_FIELDS.map(([, l]) => l), 'mean'],
        [...LATENCY_FIELDS.map(([k]) => msOf(result.latency![k])), msOf(result.latency.mean)],
      ]),
    );
  }
  const errors = { ...(result.produce?.errors ?? {}), ...prefix(result.consume?.errors ?? {}, 'consume ') };
  if (Object.keys(errors).length > 0) {
    lines.push('');
    lines.push('errors by Kafka error code (records; consume: responses)');
    lines.push(table([['error', 'count'], ...Object.entries(errors).map(([k, v]) => [k, int(v)])]));
  }
  if (result.fatal) lines.push('', `FAILED: ${result.fatal}`);
  return lines.join('\n');
}

function prefix(errors: Record<string, number>, p: string): Record<string, number> {
  return Object.fromEntries(Object.entries(errors).map(([k, v]) => [p + k, v]));
}

/** Rows of `fjord perf compare`: each metric of A and B and the ratio B / A. */
export function compareRows(
  a: PerfResult,
  b: PerfResult,
): { metric: string; a: number | null; b: number | null; ratio: number | null }[] {
  const rows: { metric: string; a: number | null; b: number | null; ratio: number | null }[] = [];
  const add = (metric: string, x: number | null | undefined, y: number | null | undefined): void => {
    const va = x ?? null;
    const vb = y ?? null;
    rows.push({ metric, a: va, b: vb, ratio: va !== null && vb !== null && va !== 0 ? vb / va : null });
  };
  for (const side of ['produce', 'consume'] as const) {
    if (!a[side] && !b[side]) continue;
    add(`${side} records/s`, a[side]?.recordsPerSec, b[side]?.recordsPerSec);
    add(`${side} MB/s`, a[side]?.mbPerSec, b[side]?.mbPerSec);
    add(`${side} errors`, a[side]?.errorCount, b[side]?.errorCount);
  }
  if (a.latency || b.latency) {
    for (const [key, label] of LATENCY_FIELDS) {
      add(
        `latency ${label} (ms)`,
        a.latency ? a.latency[key] / 1000 : null,
        b.latency ? b.latency[key] / 1000 : null,
      );
    }
  }
  return rows;
}

export function formatCompare(a: PerfResult, b: PerfResult, nameA = 'A', nameB = 'B'): string {
  const fmt = (v: number | null): string => (v === null ? '-' : Math.abs(v) >= 100 ? int(v) : v.toFixed(3));
  const lines = [`A: ${nameA}\n   ${describe(a)}`, `B: ${nameB}\n   ${describe(b)}`, ''];
  if (a.mode !== b.mode) lines.push(`note: different modes (${a.mode} vs ${b.mode})`, '');
  lines.push(
    table([
      ['metric', 'A', 'B', 'B/A'],
      ...compareRows(a, b).map((r) => [
        r.metric,
        fmt(r.a),
        fmt(r.b),
        r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
      ]),
    ]),
  );
  return lines.join('\n');
}

/** Parses a --json result; throws a readable error for anything else. */
export function parseResult(text: string, name: string): PerfResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${name} is not JSON: ${(error as Error).message}`);
  }
  const r = value as Partial<PerfResult>;
  if (r?.tool !== 'fjord perf' || typeof r.mode !== 'string')
    throw new Error(`${name} is not a 'fjord perf --json' result`);
  return r as PerfResult;
}
