import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerSettings {
  level: string;
  /** Human-readable output; defaults to on when stdout is a terminal. */
  pretty?: boolean;
  /** Where to write (tests capture logs here). Defaults to stdout. */
  destination?: DestinationStream;
}

/** Where a secret may sit in a logged object: redacted wherever a line has one of these paths. */
export const REDACTED_PATHS: readonly string[] = [
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
];

/**
 * Structured JSON logs (pino). Secrets never reach a log line: anything that looks like a key or an
 * authorization header is redacted wherever it appears in a logged object.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'voice-llm-gateway' },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
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

const turnLineLoggers = new WeakMap<Logger, Logger>();

/**
 * The logger for the per-turn line only: `logger` without pino's redaction, which costs about
 * ten times the rest of the line on every turn. Safe because the turn line's fields are built by
 * the gateway (`turnLogFields`): fixed names none of which is a redacted path, holding no key or
 * header (test/telemetry/turn-line.test.ts). Never use it for objects from elsewhere.
 */
export function turnLineLogger(logger: Logger): Logger {
  let turnLines = turnLineLoggers.get(logger);
  if (turnLines === undefined) {
    turnLines = logger.child({}, { redact: [] });
    turnLineLoggers.set(logger, turnLines);
  }
  // A child keeps the level it was made with: follow the parent if it changed since.
  if (turnLines.level !== logger.level) turnLines.level = logger.level;
  return turnLines;
}
