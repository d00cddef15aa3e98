#!/usr/bin/env bash
# The whole test suite, as CI runs it (README: `npm install && npm test`).
# Order: system packages -> lint -> typecheck/build -> codegen is up to date -> unit tests with the native
# addon -> unit tests on the pure TypeScript fallbacks -> integration tests with real clients.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

echo "== lint"
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }

echo "== build"
npm run build --silent

if [ -d ../shared/kafka-protocol ] && [ -f src/protocol/codegen/main.ts ]; then
  echo "== generated protocol code is up to date"
  npm run gen:protocol --silent
  if ! git diff --quiet -- src/protocol/messages src/protocol/internal; then
    git --no-pager diff --stat -- src/protocol/messages src/protocol/internal
    echo "generated code differs from the committed code: run 'npm run gen:protocol' and commit" >&2
    exit 1
  fi
fi

echo "== unit tests (native addon)"
FJORD_REQUIRE_NATIVE=1 node scripts/run-tests.mjs unit
echo "== unit tests (FJORD_NO_NATIVE=1, pure TypeScript fallbacks)"
FJORD_NO_NATIVE=1 node scripts/run-tests.mjs unit
if [ -d dist/test/integration ]; then
  echo "== integration tests (real clients)"
  node scripts/run-tests.mjs integration
fi
