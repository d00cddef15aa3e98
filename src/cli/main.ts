import { perf } from './perf.js';
import { start } from './start.js';

// Entry point of the `fjord` command: parses the sub-command and hands off to it.

const USAGE = `Usage: fjord <command> [options]

Commands:
  start [server.properties] [--override key=value ...]   start a broker
  perf produce|consume|e2e|compare [options]             load-test a Kafka-compatible cluster
  version                                                print the version

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
      return start(rest);
    case 'perf':
      return perf(rest);
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
