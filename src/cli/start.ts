// `fjord start [server.properties] [--override key=value ...]`: one broker, until SIGTERM or SIGINT.
import { readFileSync } from 'node:fs';
import { ConfigError, parseOverride } from '../config/broker-config.js';
import { parseProperties } from '../config/properties.js';
import { Broker } from '../server/broker.js';
import { createLogger } from '../util/logger.js';

export const START_USAGE = `Usage: fjord start [server.properties] [--override key=value ...]

Starts one broker. With no arguments it listens on PLAINTEXT://127.0.0.1:9092, keeps its data in ./data and
needs no other service. Properties use Kafka's names (listeners, log.dirs, num.partitions, log.retention.ms,
log.flush.interval.messages, ...); --override sets one on top of the file.`;

export async function start(args: string[]): Promise<number> {
  const props: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    try {
      if (arg === '--help' || arg === '-h') {
        console.log(START_USAGE);
        return 0;
      } else if (arg === '--override') {
        const pair = args[++i];
        if (pair === undefined) throw new ConfigError('--override', '--override needs key=value');
        const [key, value] = parseOverride(pair);
        props[key] = value;
      } else if (arg.startsWith('--override=')) {
        const [key, value] = parseOverride(arg.slice('--override='.length));
        props[key] = value;
      } else if (!arg.startsWith('-')) {
        Object.assign(props, Object.fromEntries(parseProperties(readFileSync(arg, 'utf8'))), { ...props });
      } else {
        console.error(`fjord start: unknown option ${arg}\n\n${START_USAGE}`);
        return 1;
      }
    } catch (error) {
      console.error(`fjord start: ${(error as Error).message}`);
      return 1;
    }
  }
  const log = createLogger();
  // The handlers go in before the broker starts: a SIGTERM that arrives while it starts (it already answers
  // requests while the group coordinator loads) waits for the start to finish and then stops cleanly, rather
  // than killing the process and leaving an unclean shutdown to recover from.
  const signalled = new Promise<string>((resolveSignal) => {
    process.once('SIGTERM', () => resolveSignal('SIGTERM'));
    process.once('SIGINT', () => resolveSignal('SIGINT'));
  });
  let broker: Broker;
  try {
    broker = await Broker.start({ config: props, log });
  } catch (error) {
    if (error instanceof ConfigError) log.error(error.message);
    else log.error(`failed to start: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
  const signal = await signalled;
  log.info(`${signal} received, shutting down`);
  try {
    await broker.stop();
    return 0;
  } catch (error) {
    log.error(`unclean shutdown: ${(error as Error).message}`);
    return 1;
  }
}
