// A small leveled logger writing one line per message to stderr. FJORD_LOG_LEVEL=debug|info|warn|error|silent.
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function createLogger(
  level: LogLevel = (process.env.FJORD_LOG_LEVEL as LogLevel | undefined) ?? 'info',
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const threshold = Math.max(0, LEVELS.indexOf(level));
  const at = (name: (typeof LEVELS)[number]) => (message: string) => {
    if (LEVELS.indexOf(name) >= threshold)
      write(`${new Date().toISOString()} ${name.toUpperCase()} ${message}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const SILENT_LOGGER: Logger = createLogger('silent');
