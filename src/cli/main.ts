// Entry point of the `fjord` command: parses the sub-command and hands off to it. Commands are imported on
// demand: loading the broker (for `start`) alone costs ~0.4 s, which every `fjord topic list` would pay.

const USAGE = `Usage: fjord <command> [options]

Commands:
  start [server.properties] [--override key=value ...]   start a broker
  perf produce|consume|e2e|compare [options]             load-test a Kafka-compatible cluster
  topic create|list|describe|delete|alter-config        manage topics
  produce TOPIC                                          write stdin lines as records
  consume TOPIC                                          print records (format string, -n, -e)
  group list|describe|delete|reset-offsets               consumer groups: lag, offset resets
  config describe|alter                                  topic and broker configs
  dump-log FILE...                                       decode .log, .index and .timeindex files
  version                                                print the version

Client commands take --brokers host:port (default 127.0.0.1:9092) and --json.

Run 'fjord <command> --help' for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 1 : 0;
    case 'version':
    case '--version':
      console.log(await version());
      return 0;
    case 'start':
      return (await import('./start.js')).start(rest);
    case 'perf':
      return (await import('./perf.js')).perf(rest);
    case 'topic':
    case 'topics':
      return (await import('./topic.js')).topic(rest);
    case 'produce':
      return (await import('./produce.js')).produce(rest);
    case 'consume':
      return (await import('./consume.js')).consume(rest);
    case 'group':
    case 'groups':
      return (await import('./group.js')).group(rest);
    case 'config':
    case 'configs':
      return (await import('./config.js')).config(rest);
    case 'dump-log':
      return (await import('./dump-log.js')).dumpLog(rest);
    default:
      console.error(`fjord: unknown command '${command}'.\n\n${USAGE}`);
      return 1;
  }
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
