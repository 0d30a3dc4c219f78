import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerSettings {
  level: string;
  /** Human-readable output; defaults to on when stdout is a terminal. */
  pretty?: boolean;
  /** Where to write (tests capture logs here). Defaults to stdout. */
  destination?: DestinationStream;
}

/**
 * Structured JSON logs (pino). Secrets never reach a log line: anything that looks like a key or an
 * authorization header is redacted wherever it appears in a logged object.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'voice-llm-gateway' },
    redact: {
      paths: [
        'apiKey',
        '*.apiKey',
        '*.*.apiKey',
        'apiKeys',
        '*.apiKeys',
        'lookupKey',
        '*.lookupKey',
        'authorization',
        '*.authorization',
        'headers.authorization',
        '*.headers.authorization',
        'req.headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  if (settings.destination) return pino(options, settings.destination);
  const pretty = settings.pretty ?? process.stdout.isTTY === true;
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } },
    });
  }
  return pino(options);
}
