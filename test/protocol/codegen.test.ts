// The committed generated code must be exactly what the generator makes from the specs in ../shared.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generate } from '../../src/protocol/codegen/main.js';
import { parseRange, parseSpec, stripComments } from '../../src/protocol/codegen/spec.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'tsconfig.json')) === false) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repository root not found');
    dir = parent;
  }
  return dir;
}

const root = repoRoot();
const specRoot = join(root, '..', 'shared', 'kafka-protocol');

test('spec comments are stripped outside strings only; version ranges parse', () => {
  assert.equal(stripComments('{"a": "x//y"} // note\n'), '{"a": "x//y"} \n');
  assert.deepEqual(parseRange('3+'), { min: 3, max: 0x7fff });
  assert.deepEqual(parseRange('0-12'), { min: 0, max: 12 });
  assert.deepEqual(parseRange('1'), { min: 1, max: 1 });
  assert.equal(parseRange('none'), null);
  const msg = parseSpec(
    '// c\n{"type":"data","name":"X","validVersions":"0-1","flexibleVersions":"1+","fields":[' +
      '{"name":"Items","type":"[]Item","versions":"0+","fields":[{"name":"Id","type":"int32","versions":"0+"}]}]}',
  );
  assert.equal(msg.root.fields[0]!.prop, 'items');
  assert.deepEqual([...msg.structs.keys()], ['XItem']);
});

if (existsSync(join(specRoot, 'message'))) {
  test('regenerating from ../shared/kafka-protocol reproduces the committed files byte for byte', () => {
    const out = mkdtempSync(join(tmpdir(), 'fjord-codegen-'));
    try {
      generate(specRoot, out);
      const committed = join(root, 'src', 'protocol');
      for (const dir of ['messages', 'internal']) {
        const fresh = readdirSync(join(out, dir)).sort();
        const ours = readdirSync(join(committed, dir))
          .filter((f) => f.endsWith('.ts'))
          .sort();
        assert.deepEqual(ours, fresh, `${dir}: file list differs`);
        for (const file of fresh) {
          const a = readFileSync(join(out, dir, file), 'utf8');
          const b = readFileSync(join(committed, dir, file), 'utf8');
          assert.ok(a === b, `${dir}/${file} differs from the generator's output: run npm run gen:protocol`);
        }
      }
      assert.ok(
        readFileSync(join(out, 'api-keys.ts'), 'utf8') ===
          readFileSync(join(committed, 'api-keys.ts'), 'utf8'),
        'api-keys.ts differs',
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
