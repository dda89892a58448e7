import { monoNow } from './clock.ts';

/**
 * A warning that may repeat thousands of times a second (every connect of every retrying
 * client during a Redis outage): at most one line per interval, each with how many
 * occurrences it stands for. The first of a quiet spell is written at once; the ones after it
 * within the interval are written together when the interval ends, with the fields of the
 * last of them, so a burst never ends on an uncounted tail.
 */
export class ThrottledWarning<F extends object> {
  private readonly write: (fields: F, count: number) => void;
  private readonly intervalMs: number;
  private pending = 0;
  private last: F | null = null;
  private writtenAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(write: (fields: F, count: number) => void, intervalMs = 1000) {
    this.write = write;
    this.intervalMs = intervalMs;
  }

  note(fields: F): void {
    this.pending++;
    this.last = fields;
    const wait = this.writtenAt + this.intervalMs - monoNow();
    if (wait <= 0) return this.flush();
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait).unref();
  }

  private flush(): void {
    if (!this.pending || !this.last) return;
    this.write(this.last, this.pending);
    this.pending = 0;
    this.last = null;
    this.writtenAt = monoNow();
  }
}
