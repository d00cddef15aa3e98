// Lint: typescript-eslint's recommended rules, plus import rules that keep the layers one-way
// (see ARCHITECTURE.md): protocol <- storage <- partition <- server/group/cluster; client depends on protocol only.
import tseslint from 'typescript-eslint';

const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: forbidden.map((group) => ({ group: [group], message: why })) },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'build/',
      'data/',
      'test/fixtures/',
      'src/protocol/messages/',
      'src/protocol/internal/',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  layer(
    ['src/protocol/**/*.ts'],
    [
      '**/storage/**',
      '**/partition/**',
      '**/server/**',
      '**/group/**',
      '**/cluster/**',
      '**/client/**',
      'node:net',
      'node:worker_threads',
    ],
    'protocol is pure codecs: no I/O, threads or higher layers',
  ),
  layer(
    ['src/storage/**/*.ts'],
    [
      '**/partition/**',
      '**/server/**',
      '**/group/**',
      '**/cluster/**',
      '**/client/**',
      'node:net',
      'node:worker_threads',
    ],
    'storage knows nothing of sockets, threads or the server',
  ),
  layer(
    ['src/native/**/*.ts'],
    ['**/protocol/**', '**/storage/**', '**/partition/**', '**/server/**', '**/client/**'],
    'the native boundary is byte and fd primitives only',
  ),
  layer(
    ['src/client/**/*.ts'],
    ['**/storage/**', '**/partition/**', '**/server/**', '**/group/**', '**/cluster/**'],
    'the client ships without the broker: it may use protocol (and native) only',
  ),
);
