#!/usr/bin/env bash
# Builds test/tools/mock-cluster.c (librdkafka's mock Kafka cluster as a process) into .tools/mock-cluster.
# Needs Debian's librdkafka-dev (2.0.2) and pkg-config. Rebuilds only when the source is newer.
set -euo pipefail
cd "$(dirname "$0")/.."
src=test/tools/mock-cluster.c
out=.tools/mock-cluster
mkdir -p .tools
if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "${1:-}" != "--force" ]; then
  exit 0
fi
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -o "$out.tmp" "$src" $(pkg-config --cflags --libs rdkafka)
mv "$out.tmp" "$out"
echo "built $out"
