/**
 * One pino root logger for the process; components take a child with their name bound once, so
 * that the binding is serialised at set-up time and not on every line.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

let root: Logger = pino({ level: process.env.VPP_EXPORTER_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, pino.destination(2));

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Re-create the root logger (called once by the CLI after the configuration is known). */
export function configureLogging(level: LevelWithSilent): Logger {
  root = pino({ level, base: { pid: process.pid } }, pino.destination(2));
  return root;
}

export function logger(component: string): Logger {
  return root.child({ component });
}
