#!/usr/bin/env bash
# Starts `fjord start` on a fresh temp dir (16 partitions per auto-created topic) and runs rdkafka_performance
# produce three times (1 KiB, acks=1, 600 000 records each), printing MB/s per run. For quick before/after
# comparisons of a change: run it on each build, alternating. Needs `npm run build` and rdkafka_performance
# (BUILD=.tools/rdkafka-perf bash ../shared/tools/build-rdkafka-performance.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PERF=${RDKAFKA_PERFORMANCE:-.tools/rdkafka-perf/rdkafka_performance}
DIR=$(mktemp -d)
LOG=$DIR/broker.log
node bin/fjord.js start --override log.dirs="$DIR/data" --override listeners=PLAINTEXT://127.0.0.1:0 \
  --override offsets.topic.num.partitions=1 --override num.partitions=16 >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 50); do grep -q listening "$LOG" && break; sleep 0.1; done
ADDR=$(grep -o '127.0.0.1:[0-9]*' "$LOG" | head -1)
"$PERF" -P -t warm -b "$ADDR" -s 1024 -a 1 -c 20000 -q >/dev/null 2>&1
for i in 1 2 3; do
  "$PERF" -P -t "run$i" -b "$ADDR" -s 1024 -a 1 -c 600000 -q 2>&1 | grep -o '[0-9.]* MB/s' | tail -1
done
