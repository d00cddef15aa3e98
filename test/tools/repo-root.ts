import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Tests run both from test/ (tsx) and from dist/test/ (compiled), so the repo root is found by walking up
// to the package.json that sits next to scripts/, not by a fixed number of "..".
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repoRoot: no package.json with scripts/ above ' + import.meta.url);
    dir = parent;
  }
}
