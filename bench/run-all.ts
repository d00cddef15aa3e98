// `npm run bench`: every benchmark in bench/, one after another, each in its own process (so one's heap
// and threads do not disturb the next), after this machine's limits.
//
//   npm run build && npm run bench            all of them
//   node dist/bench/run-all.js broker ring     only those whose file name contains "broker" or "ring"
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const filters = process.argv.slice(2);
const files = [
  `machine-limits${extension}`,
  ...readdirSync(here)
    .filter((f) => f.endsWith(`.bench${extension}`))
    .sort(),
].filter((f) => filters.length === 0 || filters.some((filter) => f.includes(filter)));

// Under tsx (npx tsx bench/run-all.ts) the children need the loader too.
const loader = extension === '.ts' ? ['--import', 'tsx'] : [];
let failed = 0;
for (const file of files) {
  console.log(`\n==== ${file} (${new Date().toISOString()})\n`);
  const result = spawnSync(process.execPath, [...loader, join(here, file)], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.log(`\n${file} failed with ${result.status ?? result.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
