// `--report DIR`: a self-contained HTML page (inline SVG, no scripts or external files) that shows a run at
// a glance: the summary, throughput over time, the latency percentile distribution (HdrHistogram-style log
// axis), and latency over time; the same charts as separate .svg files; and result.json (as --json).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSummary } from './format.js';
import type { PerfResult } from './run.js';

interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: [number, number][];
}

interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Fixed x ticks (value, label); default: nice ticks over the data. */
  xTicks?: { value: number; label: string }[];
  width?: number;
  height?: number;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** 1, 2 or 5 times a power of ten, giving about `count` ticks over [0, max]. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const fmtTick = (v: number): string =>
  v === 0 ? '0' : Math.abs(v) >= 1000 ? v.toLocaleString('en-US') : Number(v.toPrecision(3)).toString();

/** An SVG line chart with axes, grid, ticks and a legend. */
export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 860;
  const height = spec.height ?? 320;
  const m = { left: 70, right: 40, top: 40, bottom: 50 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const all = spec.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xMin = spec.xTicks ? spec.xTicks[0]!.value : Math.min(0, ...xs);
  const xMaxData = xs.length ? Math.max(...xs) : 1;
  const xTicks =
    spec.xTicks ?? niceTicks(xMaxData - xMin, 8).map((v) => ({ value: v + xMin, label: fmtTick(v + xMin) }));
  const xMax = Math.max(xTicks[xTicks.length - 1]!.value, xMaxData, xMin + 1e-9);
  const yTickValues = niceTicks(ys.length ? Math.max(...ys) * 1.05 : 1, 5); // headroom above the top value
  const yMax = yTickValues[yTickValues.length - 1]! || 1;
  const sx = (x: number): number => m.left + ((x - xMin) / (xMax - xMin || 1)) * w;
  const sy = (y: number): number => m.top + h - (y / yMax) * h;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(spec.title)}</text>`);
  for (const t of yTickValues) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
    parts.push(
      `<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${fmtTick(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = sx(t.value).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + h}" stroke="#f0f0f0"/>`);
    parts.push(
      `<text x="${x}" y="${m.top + h + 16}" text-anchor="middle" fill="#444">${esc(t.label)}</text>`,
    );
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  parts.push(
    `<text x="${m.left + w / 2}" y="${height - 10}" text-anchor="middle" fill="#222">${esc(spec.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle" fill="#222">${esc(spec.yLabel)}</text>`,
  );
  spec.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points
      .map((p, k) => `${k === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
      .join(' ');
    const dash = s.dashed ? ' stroke-dasharray="7 4"' : '';
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash} data-series="${esc(s.name)}"/>`,
    );
    if (s.points.length === 1) {
      const [p] = s.points;
      parts.push(
        `<circle cx="${sx(p![0]).toFixed(1)}" cy="${sy(p![1]).toFixed(1)}" r="3" fill="${s.color}"/>`,
      );
    }
    // The legend sits in the title row, right-aligned, so it never covers the data.
    const lx = m.left + w - 130 * (spec.series.length - i);
    const ly = 22;
    parts.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="3"${dash}/>`,
    );
    parts.push(`<text x="${lx + 24}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** x position of a percentile on the "1 / (1 - p)" log axis: 0 at p = 0, 1 at 90%, 2 at 99%, ... */
export function percentileAxis(p: number): number {
  return p >= 100 ? Infinity : Math.log10(1 / (1 - p / 100));
}

export function throughputChart(result: PerfResult): string {
  const series: Series[] = [];
  if (result.produce)
    series.push({
      name: 'produce MB/s',
      color: '#1f77b4',
      points: result.series.map((s) => [s.t, s.produceBytes / 1e6]),
    });
  if (result.consume)
    series.push({
      name: 'consume MB/s',
      color: '#2ca02c',
      dashed: true,
      points: result.series.map((s) => [s.t, s.consumeBytes / 1e6]),
    });
  return lineChart({
    title: 'Throughput over time',
    xLabel: 'seconds',
    yLabel: 'MB/s (key + value bytes)',
    series,
  });
}

export function percentileChart(result: PerfResult): string {
  const finite = result.latencyCurve.filter((p) => p.percentile < 100);
  const top = finite.length ? Math.ceil(percentileAxis(finite[finite.length - 1]!.percentile)) : 2;
  const decades = Math.max(2, top);
  const labels = ['0%', '90%', '99%', '99.9%', '99.99%', '99.999%', '99.9999%', '99.99999%'];
  const xTicks = Array.from({ length: decades + 1 }, (_, k) => ({
    value: k,
    label: labels[k] ?? `${k} nines`,
  }));
  const points: [number, number][] = finite.map((p) => [percentileAxis(p.percentile), p.value / 1000]);
  const max = result.latencyCurve.find((p) => p.percentile === 100);
  if (max) points.push([decades, max.value / 1000]);
  return lineChart({
    title: `${result.latencyKind ?? ''} latency by percentile`,
    xLabel: 'percentile (log scale of 1 / (1 - p); the last point is the max)',
    yLabel: 'latency (ms)',
    series: [{ name: `${result.latencyKind ?? ''} latency`, color: '#d62728', points }],
    xTicks,
  });
}

export function latencyOverTimeChart(result: PerfResult): string {
  const pick = (key: 'p50' | 'p99' | 'max'): [number, number][] =>
    result.series.filter((s) => s[key] !== null).map((s) => [s.t, s[key]!]);
  return lineChart({
    title: `${result.latencyKind ?? ''} latency over time (per second)`,
    xLabel: 'seconds',
    yLabel: 'latency (ms)',
    series: [
      { name: 'p50', color: '#1f77b4', points: pick('p50') },
      { name: 'p99', color: '#ff7f0e', points: pick('p99') },
      { name: 'max', color: '#d62728', points: pick('max') },
    ],
  });
}

export function renderReport(result: PerfResult): string {
  const charts = [throughputChart(result)];
  if (result.latency && result.latency.count > 0)
    charts.push(percentileChart(result), latencyOverTimeChart(result));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fjord perf ${esc(result.mode)} ${esc(result.startedAt)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:900px}pre{background:#f6f6f6;padding:12px;font-size:13px;overflow-x:auto}
.chart{margin:18px 0}</style></head><body>
<h1>fjord perf ${esc(result.mode)}</h1>
<p>Started ${esc(result.startedAt)}, status <b>${esc(result.status)}</b>. Brokers ${esc(result.options.brokers.join(','))}.</p>
<pre>${esc(formatSummary(result))}</pre>
${charts.map((c) => `<div class="chart">${c}</div>`).join('\n')}
<p>Latencies count from each record's intended send time when a rate is set (coordinated-omission corrected).
The raw data is in result.json.</p>
</body></html>
`;
}

/** Writes DIR/index.html, each chart as DIR/<name>.svg, and DIR/result.json; returns the HTML path. */
export async function writeReport(dir: string, result: PerfResult): Promise<string> {
  await mkdir(dir, { recursive: true });
  const html = join(dir, 'index.html');
  await writeFile(html, renderReport(result));
  await writeFile(join(dir, 'throughput.svg'), throughputChart(result));
  if (result.latency && result.latency.count > 0) {
    await writeFile(join(dir, 'latency-percentiles.svg'), percentileChart(result));
    await writeFile(join(dir, 'latency-over-time.svg'), latencyOverTimeChart(result));
  }
  await writeFile(join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  return html;
}
