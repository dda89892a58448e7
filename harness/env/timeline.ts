// The fault timeline: every control action on a topology, as FaultEvents (what, where,
// start, end) that checkers put around a witness and reports draw.
import type { FaultEvent } from '../model/facts.ts';

export class FaultTimeline {
  readonly #events: FaultEvent[] = [];
  #next = 0;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Every event so far, in the order recorded (a span is recorded when it ends; the live array: copy it to keep a snapshot). */
  get events(): readonly FaultEvent[] {
    return this.#events;
  }

  /** Opens an event that lasts until end(id) (a toxic, a disabled link, a paused or dead process). */
  begin(kind: string, target: string, detail?: Record<string, unknown>, start = this.#now()): FaultEvent {
    const event: FaultEvent = { id: `f${++this.#next}`, kind, target, start, ...(detail ? { detail } : {}) };
    this.#events.push(event);
    return event;
  }

  /** Closes an open event (no-op when it is closed already). */
  end(id: string, at = this.#now()): FaultEvent | undefined {
    const event = this.#events.find((e) => e.id === id);
    if (event && event.end === undefined) event.end = at;
    return event;
  }

  /** Records an action with its own start and end (e.g. a restart, from the call until ready). */
  span(kind: string, target: string, start: number, end: number, detail?: Record<string, unknown>): FaultEvent {
    const event = this.begin(kind, target, detail, start);
    event.end = end;
    return event;
  }

  /** The open events whose kind and target match (both optional). */
  open(match: { kind?: string | RegExp; target?: string } = {}): FaultEvent[] {
    return this.#events.filter(
      (e) =>
        e.end === undefined &&
        (match.target === undefined || e.target === match.target) &&
        (match.kind === undefined || (typeof match.kind === 'string' ? e.kind === match.kind : match.kind.test(e.kind))),
    );
  }

  /** Closes every open event matching (kind, target) and returns them. */
  endAll(match: { kind?: string | RegExp; target?: string }, at = this.#now()): FaultEvent[] {
    const closed = this.open(match);
    for (const e of closed) e.end = at;
    return closed;
  }

  /** A copy of the events, for a report. */
  toJSON(): FaultEvent[] {
    return this.#events.map((e) => ({ ...e, ...(e.detail ? { detail: { ...e.detail } } : {}) }));
  }
}
