// An embedded broker in a temp dir with a wire client, for handler tests; restart() keeps the data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../../src/server/broker.js';
import { SILENT_LOGGER } from '../../../src/util/logger.js';
import { WireClient } from '../../tools/wire-client.js';

export interface TestBroker {
  broker: Broker;
  client: WireClient;
  dataDir: string;
  /** Clean stop and start on the same data dir; `client` is replaced by a new connection. */
  restart(): Promise<void>;
  /** Stops the broker and removes the data dir. */
  close(): Promise<void>;
}

export async function startTestBroker(config: Record<string, string> = {}): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-handler-'));
  const start = () =>
    Broker.start({ dataDir, port: 0, config: { 'num.io.threads': '1', ...config }, log: SILENT_LOGGER });
  const broker = await start();
  const state: TestBroker = {
    broker,
    client: await WireClient.connect(broker.port),
    dataDir,
    async restart() {
      state.client.close();
      await state.broker.stop();
      state.broker = await start();
      state.client = await WireClient.connect(state.broker.port);
    },
    async close() {
      state.client.close();
      await state.broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return state;
}
