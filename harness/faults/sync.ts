// Small concurrency primitives standing in for the Go channels, selects and
// mutexes Toxiproxy's pipeline is built from.

type Listener = () => void;

/** A set of wake-up callbacks; waiters re-check their own condition when notified. */
export class Notifier {
  readonly #listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  notify(): void {
    // Snapshot: listeners unsubscribe (and new ones subscribe) while we iterate.
    for (const listener of [...this.#listeners]) listener();
  }
}

/** Resolves once `condition()` holds, re-checking whenever one of `sources` notifies. */
export function waitUntil(condition: () => boolean, sources: readonly Notifier[]): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve) => {
    let settled = false;
    const check = (): void => {
      if (settled || !condition()) return;
      settled = true;
      for (const unsubscribe of unsubscribers) unsubscribe();
      resolve();
    };
    const unsubscribers = sources.map((source) => source.subscribe(check));
  });
}

export interface TimerHandle {
  cancel(): void;
}

/**
 * setTimeout that never fires early. Node arms timers against the event loop's
 * cached clock, so a timer can fire a little before `ms` of real time has
 * passed; toxics promise "at least this long" (latency, bandwidth), so re-arm
 * until the deadline has really passed.
 */
export function preciseTimer(ms: number, fire: () => void): TimerHandle {
  const deadline = performance.now() + ms;
  let handle: NodeJS.Timeout | undefined;
  let cancelled = false;
  const arm = (delay: number): void => {
    handle = setTimeout(() => {
      if (cancelled) return;
      const left = deadline - performance.now();
      if (left > 0) arm(Math.ceil(left));
      else fire();
    }, delay);
  };
  arm(ms);
  return {
    cancel(): void {
      cancelled = true;
      if (handle !== undefined) clearTimeout(handle);
    },
  };
}

/** Plain promise sleep for callers that have nothing to be interrupted by. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (!(ms > 0)) resolve();
    else preciseTimer(ms, resolve);
  });
}

/**
 * Serialises async critical sections, like the sync.Mutex Toxiproxy holds
 * across a whole API operation (including the wait for every live link to
 * pick up a toxic change).
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async run<T>(section: () => T | Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      return await section();
    } finally {
      release();
    }
  }
}
