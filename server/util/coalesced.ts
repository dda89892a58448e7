/**
 * A piece of background work that requests may ask for at any time: a request while it
 * runs makes it run once more afterwards (never twice at once, never a queue); a failed
 * run is retried after `retryMs`.
 */
export class CoalescedWork {
  private running = false;
  private again = false;
  private readonly work: () => Promise<void>;
  private readonly onError: (err: unknown) => void;
  private readonly retryMs: number;

  constructor(work: () => Promise<void>, onError: (err: unknown) => void, retryMs = 500) {
    this.work = work;
    this.onError = onError;
    this.retryMs = retryMs;
  }

  /** true when this request started a run (false: folded into the one going on) */
  request(): boolean {
    if (this.running) {
      this.again = true;
      return false;
    }
    this.running = true;
    void this.loop();
    return true;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.work();
      } while (this.again);
    } catch (err) {
      this.onError(err);
      setTimeout(() => this.request(), this.retryMs).unref();
    } finally {
      this.running = false;
    }
  }
}
