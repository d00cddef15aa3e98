#!/usr/bin/env bash
# Installs node-rdkafka 3.6.1, linked against Debian's librdkafka (librdkafka-dev), into .tools/node-rdkafka for
# the client benchmarks. Not a project dependency: it compiles (~30 s) and only the benchmarks use it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d .tools/node-rdkafka/node_modules/node-rdkafka/build/Release ]; then exit 0; fi
bash scripts/install-test-deps.sh
mkdir -p .tools/node-rdkafka
cd .tools/node-rdkafka
[ -f package.json ] || echo '{ "name": "fjord-bench-node-rdkafka", "private": true }' > package.json
export npm_config_nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(command -v node)")")}"
BUILD_LIBRDKAFKA=0 npm install --no-audit --no-fund node-rdkafka@3.6.1
