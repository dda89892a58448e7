import { pino, type Logger } from 'pino';

/** JSON lines on stdout; synchronous so the `listening` line and fatal errors are never lost. */
export function createLogger(level: string, nodeId: string): Logger {
  return pino({ level, base: { node: nodeId }, timestamp: pino.stdTimeFunctions.epochTime }, pino.destination({ dest: 1, sync: true }));
}
