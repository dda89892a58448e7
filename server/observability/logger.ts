import { pino, type Logger } from 'pino';

/** Log bytes held while stdout is not taking them; lines beyond are dropped (and counted). */
export const LOG_BUFFER_BYTES = 8 << 20;
/** Longest a synchronous write (a fatal line, the flush at exit) waits for a stalled reader. */
const SYNC_WAIT_MS = 1000;

/**
 * JSON lines on stdout. Lines below `fatal` are written asynchronously from a bounded buffer,
 * so a flood of lines or a log reader that stalls never blocks the event loop: when the
 * buffer is full, lines are dropped and a `log lines dropped` warning with the count follows
 * once there is room. `fatal` lines are written synchronously (the process is about to exit),
 * and on exit what is buffered is flushed; each waits for a stalled reader at most 1 s.
 */
export function createLogger(level: string, nodeId: string): Logger {
  // Opening process.stdout puts a pipe's fd in non-blocking mode: a stalled reader then makes
  // writes wait (EAGAIN, retried on a timer) instead of blocking the process in write(2).
  void process.stdout;
  let exitBy = 0;
  const buffered = pino.destination({
    dest: 1,
    sync: false,
    maxLength: LOG_BUFFER_BYTES,
    retryEAGAIN: () => exitBy === 0 || Date.now() < exitBy,
  });
  let stalledSince = 0;
  const direct = pino.destination({
    dest: 1,
    sync: true,
    retryEAGAIN: () => Date.now() - (stalledSince ||= Date.now()) < SYNC_WAIT_MS,
  });
  direct.on('write', () => (stalledSince = 0));
  let dropped = 0;
  let reported = 0;
  buffered.on('drop', () => dropped++);
  // a reader that went away (EPIPE) or gave up on must not take the node with it
  buffered.on('error', () => {});
  direct.on('error', () => {});
  const streams = pino.multistream(
    [
      { level: 'trace', stream: buffered },
      { level: 'fatal', stream: direct },
    ],
    { dedupe: true },
  );
  const log = pino({ level, base: { node: nodeId }, timestamp: pino.stdTimeFunctions.epochTime }, streams);
  setInterval(() => {
    if (dropped > reported) {
      log.warn({ dropped: dropped - reported, droppedTotal: dropped }, 'log lines dropped: stdout did not keep up');
      reported = dropped;
    }
  }, 1000).unref();
  process.on('exit', () => {
    exitBy = Date.now() + SYNC_WAIT_MS;
    try {
      buffered.flushSync();
    } catch {
      // the reader is stalled or gone: exiting matters more than the last lines
    }
  });
  return log;
}
