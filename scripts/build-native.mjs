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
// Run directly (`node scripts/build-native.mjs`) there is no npm environment: use the node-gyp bundled with
// the npm next to this node, and this node's own headers when they are installed (no download).
const prefix = dirname(dirname(process.execPath));
const bundledGyp = join(
  prefix,
  'lib',
  'node_modules',
  'npm',
  'node_modules',
  'node-gyp',
  'bin',
  'node-gyp.js',
);
const gyp = process.env.npm_config_node_gyp ?? (existsSync(bundledGyp) ? bundledGyp : undefined);
const args = ['rebuild'];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const [cmd, cmdArgs] = gyp ? [process.execPath, [gyp, ...args]] : ['node-gyp', args];
const result = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.warn('fjord: the native addon did not build; Fjord will run on its pure TypeScript fallbacks.');
}
