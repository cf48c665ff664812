import pino from 'pino';

/** The server's structured logger; tests pass `level: 'silent'` or 'warn'. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): pino.Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}
export type Logger = pino.Logger;
