// Which implementation src/native/index.ts picks: the addon when it loads (required when
// FJORD_REQUIRE_NATIVE=1, as CI's first unit run sets), the fallbacks under FJORD_NO_NATIVE=1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  crc32cImplementation,
  loadAddonForTests,
  nativeAvailable,
  nativeLoadError,
} from '../../src/native/index.js';

test('the addon is in use when FJORD_REQUIRE_NATIVE=1, and the flags agree in every mode', () => {
  if (process.env.FJORD_REQUIRE_NATIVE === '1') {
    assert.equal(
      nativeAvailable,
      true,
      `FJORD_REQUIRE_NATIVE=1 but the addon is not in use: ${nativeLoadError}`,
    );
  }
  if (process.env.FJORD_NO_NATIVE === '1') assert.equal(nativeAvailable, false);
  assert.equal(nativeAvailable, nativeLoadError === undefined);
  assert.equal(crc32cImplementation === 'typescript', !nativeAvailable);
});

interface ChildReport {
  nativeAvailable: boolean;
  nativeLoadError: string | null;
  crc: number;
  warnings: string[];
}

// Imports index in a fresh process: the compiled dist/src/native/index.js in CI, the .ts source under tsx.
function loadInChild(env: Record<string, string | undefined>): ChildReport {
  const compiled = fileURLToPath(new URL('../../src/native/index.js', import.meta.url));
  const [modulePath, nodeArgs] = existsSync(compiled)
    ? [compiled, []]
    : [fileURLToPath(new URL('../../src/native/index.ts', import.meta.url)), ['--import', 'tsx']];
  const script = `
    const m = await import(process.argv[1]);
    const warnings = [];
    m.warnIfFallback((msg) => warnings.push(msg));
    m.warnIfFallback((msg) => warnings.push(msg));
    const crc = m.crc32c(Buffer.from('123456789'));
    console.log(JSON.stringify({ nativeAvailable: m.nativeAvailable, nativeLoadError: m.nativeLoadError ?? null, crc, warnings }));
  `;
  const childEnv = { ...process.env, ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  const child = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script, modulePath], {
    env: childEnv,
    encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ChildReport;
}

test('FJORD_NO_NATIVE=1 selects the fallbacks and says so once', () => {
  const report = loadInChild({ FJORD_NO_NATIVE: '1' });
  assert.equal(report.nativeAvailable, false);
  assert.match(report.nativeLoadError ?? '', /FJORD_NO_NATIVE/);
  assert.equal(report.crc, 0xe3069283);
  assert.equal(report.warnings.length, 1);
  assert.match(report.warnings[0]!, /fallback.*FJORD_NO_NATIVE|FJORD_NO_NATIVE.*fallback/);
});

test('without FJORD_NO_NATIVE the addon is selected whenever it loads', () => {
  const report = loadInChild({ FJORD_NO_NATIVE: undefined });
  assert.equal(report.nativeAvailable, loadAddonForTests() !== undefined);
  assert.equal(report.crc, 0xe3069283);
  assert.equal(report.warnings.length, report.nativeAvailable ? 0 : 1);
});
