// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per source file, as a
// share of the busy (non-idle) time, so a profile of the broker says where the time goes in a few lines.
//
//   npx tsx bench/cpuprofile-summary.ts PROFILE.cpuprofile [top=25]
//   (compiled: node dist/bench/cpuprofile-summary.js ...)
//
// Self time of a node = the sum of the sampling intervals (timeDeltas) of the samples that landed in it.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  /** Share of busy (non-idle) time. */
  share: number;
  /** The caller that accounts for most of this self time (functions only). */
  mainCaller?: string;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  functions: ProfileEntry[];
  files: ProfileEntry[];
}

function shortUrl(url: string): string {
  if (url === '') return '(native/V8)';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

export function summariseProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  const keyOf = (node: ProfileNode): string => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : shortUrl(url)}`;
  };
  const callers = new Map<string, Map<string, number>>();
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const file = shortUrl(url);
    const key = keyOf(node);
    fn.set(key, (fn.get(key) ?? 0) + us);
    // The nearest caller in the project's own code says more than a Node internal (Buffer.concat -> _copy).
    let parent = byId.get(parentOf.get(id) ?? -1);
    for (let p = parent; p; p = byId.get(parentOf.get(p.id) ?? -1)) {
      if (p.callFrame.url.startsWith('file:') && !p.callFrame.url.includes('/node_modules/')) {
        parent = p;
        break;
      }
    }
    if (parent) {
      let m = callers.get(key);
      if (!m) callers.set(key, (m = new Map()));
      const caller = keyOf(parent);
      m.set(caller, (m.get(caller) ?? 0) + us);
    }
    const fileKey = functionName.startsWith('(') && url === '' ? functionName : file;
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const busy = total - idle;
  const entries = (m: Map<string, number>): ProfileEntry[] =>
    [...m]
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: busy > 0 ? us / busy : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs);
  const functions = entries(fn).map((e) => {
    const m = callers.get(e.name);
    const top = m ? [...m].sort((a, b) => b[1] - a[1])[0] : undefined;
    return top ? { ...e, mainCaller: top[0] } : e;
  });
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    busyMs: busy / 1000,
    functions,
    files: entries(files),
  };
}

export function formatProfileSummary(summary: ProfileSummary, top = 25): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `profile: ${summary.totalMs.toFixed(0)} ms sampled, ${summary.busyMs.toFixed(0)} ms busy ` +
      `(${pct(summary.totalMs > 0 ? summary.busyMs / summary.totalMs : 0)}), ${summary.idleMs.toFixed(0)} ms idle`,
    '',
    `| self ms | share of busy | function (file:line) | mostly called from (nearest project caller) |`,
    `| ---: | ---: | --- | --- |`,
    ...summary.functions
      .slice(0, top)
      .map((e) => `| ${e.selfMs.toFixed(0)} | ${pct(e.share)} | ${e.name} | ${e.mainCaller ?? ''} |`),
    '',
    `| self ms | share of busy | file |`,
    `| ---: | ---: | --- |`,
    ...summary.files.slice(0, 15).map((e) => `| ${e.selfMs.toFixed(0)} | ${pct(e.share)} | ${e.name} |`),
  ];
  return lines.join('\n');
}

export function summariseProfileFile(path: string): ProfileSummary {
  return summariseProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [path, top] = process.argv.slice(2);
  if (!path) {
    console.error('usage: cpuprofile-summary PROFILE.cpuprofile [top]');
    process.exit(1);
  }
  console.log(formatProfileSummary(summariseProfileFile(path), top ? Number(top) : 25));
}
