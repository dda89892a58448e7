import { writeSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { monoNow } from '../util/clock.ts';

/** Log bytes held while stdout is not taking them; lines beyond are dropped (and counted). */
export const LOG_BUFFER_BYTES = 8 << 20;
/** Longest the flush at exit waits for a stalled reader. */
const EXIT_FLUSH_MS = 1000;
const RETRY_MS = 20;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * stdout for log lines that never blocks the event loop. Each line is written at once with a
 * non-blocking write(2); what a full pipe does not take waits in a bounded buffer, retried on
 * a timer; past the buffer lines are dropped and counted. A reader that went away (EPIPE)
 * turns logging into counting drops.
 */
class Stdout {
  private readonly pending: Buffer[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private broken = false;
  dropped = 0;

  write(line: string): boolean {
    if (this.broken) {
      this.dropped++;
      return true;
    }
    const buf = Buffer.from(line);
    if (this.bytes + buf.length > LOG_BUFFER_BYTES) {
      this.dropped++;
      return true;
    }
    this.pending.push(buf);
    this.bytes += buf.length;
    if (!this.timer) this.drain(0);
    return true;
  }

  /** Writes what stdout takes now; false when some is left (EAGAIN and past `until`). */
  private drain(until: number): boolean {
    while (this.pending.length && !this.broken) {
      const head = this.pending[0]!;
      let n: number;
      try {
        n = writeSync(1, head);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
          if (monoNow() < until) {
            Atomics.wait(pause, 0, 0, 5);
            continue;
          }
          if (!this.timer && until === 0) this.timer = setTimeout(() => this.retry(), RETRY_MS).unref();
          return false;
        }
        // EPIPE and the like: nobody reads any more
        this.broken = true;
        this.dropped += this.pending.length;
        this.pending.length = 0;
        this.bytes = 0;
        return true;
      }
      this.bytes -= n;
      if (n === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
    }
    return true;
  }

  private retry(): void {
    this.timer = null;
    this.drain(0);
  }

  /** At exit: writes what is left, waiting at most `ms` for a stalled reader. */
  flushSync(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.drain(monoNow() + ms);
  }
}

/**
 * JSON lines on stdout (see Stdout): a flood of lines or a log reader that stalls or goes
 * away never blocks the node; dropped lines are reported by a `log lines dropped` warning
 * with the count once there is room. On exit (a fatal error included) what is buffered is
 * flushed, waiting at most 1 s for a stalled reader.
 */
export function createLogger(level: string, nodeId: string): Logger {
  // Opening process.stdout puts a pipe's or socket's fd in non-blocking mode, so a write(2)
  // to a reader that stalls answers EAGAIN instead of blocking the process.
  void process.stdout;
  const out = new Stdout();
  const log = pino({ level, base: { node: nodeId }, timestamp: pino.stdTimeFunctions.epochTime }, out);
  let reported = 0;
  setInterval(() => {
    if (out.dropped > reported) {
      const dropped = out.dropped;
      log.warn({ dropped: dropped - reported, droppedTotal: dropped }, 'log lines dropped: stdout did not keep up');
      reported = dropped;
    }
  }, 1000).unref();
  process.on('exit', () => out.flushSync(EXIT_FLUSH_MS));
  return log;
}
