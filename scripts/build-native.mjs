// Builds the optional C++ addon (binding.gyp -> build/Release/fjord_native.node).
// Fjord works without it (pure TypeScript fallbacks), so a failed build is reported and never fails
// `npm install`. npm puts its bundled node-gyp on PATH for lifecycle scripts; npm_config_node_gyp names it too.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'binding.gyp'))) process.exit(0);
if (process.env.FJORD_SKIP_NATIVE_BUILD === '1') {
  console.log('fjord: FJORD_SKIP_NATIVE_BUILD=1, not building the native addon');
  process.exit(0);
}
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.warn('fjord: the native addon did not build; Fjord will run on its pure TypeScript fallbacks.');
}
