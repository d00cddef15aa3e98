// Child process for bench/client-producer.bench.ts: runs one embedded Fjord broker, so the clients under test
// do not share an event loop with it. Prints the port on stdout; stops when stdin closes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../src/server/broker.js';
import type { Logger } from '../src/util/logger.js';

const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const dataDir = mkdtempSync(join(tmpdir(), 'fjord-bench-client-'));
const broker = await Broker.start({
  dataDir,
  port: 0,
  log: quiet,
  config: { 'offsets.topic.num.partitions': '1' },
});
process.stdout.write(`${broker.port}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void broker.stop().then(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});
