// Runs the compiled test files (dist/test/**/*.test.js) with node's built-in test runner.
// Node 20 does not expand globs itself, so this lists the files.
//   node scripts/run-tests.mjs unit         everything outside test/integration/
//   node scripts/run-tests.mjs integration  test/integration/ (real clients, real services)
//   node scripts/run-tests.mjs all
//   node scripts/run-tests.mjs unit storage  only files whose path contains "storage"
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const [suite = 'all', filter] = process.argv.slice(2);
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'dist', 'test');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.test.js') ? [path] : [];
  });
}

const files = walk(root)
  .filter((file) => {
    const integration = relative(root, file).split(sep)[0] === 'integration';
    return suite === 'all' || (suite === 'integration') === integration;
  })
  .filter((file) => !filter || file.includes(filter))
  .sort();

if (files.length === 0) {
  console.error(`run-tests: no ${suite} test files found under ${root}. Run \`npm run build\` first.`);
  process.exit(1);
}
const concurrency = process.env.FJORD_TEST_CONCURRENCY ?? (suite === 'integration' ? '1' : '2');
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
