import Denque from 'denque';

/** An HTTP send waiting for a slot (acquire): it is a distinct object, never a connection, so end() tells the two apart. */
class SlotWait {
  timer: NodeJS.Timeout | null = null;
  readonly grant: () => void;
  constructor(grant: () => void) {
    this.grant = grant;
  }
}

/** A send that waited its whole deadline for a slot (acquire); the HTTP route answers it 503 `unavailable`. */
export class SlotWaitExpired extends Error {}

/** A send whose client left while it waited for a slot (acquire's signal): it gave up its place. */
export class SlotWaitAborted extends Error {}

/**
 * The node's bound on sends waiting for the store, across all its connections
 * (MAX_SENDS_IN_FLIGHT). Each connection's own limits (request-pacer.ts) let 10,000 clients
 * sending once a second each have up to 32 requests in flight; when the node falls behind
 * (more sends offered than it and its Redis can carry), every send it reads starts at once,
 * and the in-flight sends, their promises and commands outlive young-generation collections
 * that then cost more the further behind it is: the node spirals (issue 10: the 1:1 bench's
 * warm-up at 10,000 msg/s delivered 37–164 messages/s while it lagged). Past the bound a
 * connection's next send waits in its socket instead, the socket paused; slots go to held
 * connections in the order they began to wait as sends end.
 *
 * Only `send` is counted: it is the request clients make at a rate (SEND_RATE per user);
 * the others are paced per connection (REQUEST_LIMITS) and answered from fewer store calls.
 * A send holds its slot until the store answered, not until its reply is written, so a
 * client that stops reading its replies holds no slot of the node (only its own in-flight).
 *
 * `POST /v1/messages` has no socket to pause: its request waits for a slot in the same queue
 * (acquire), for at most a deadline, so many HTTP clients sending at once cannot put more
 * sends in flight than the bound either.
 */
export class SendGate<C> {
  /** sends started and not yet answered by the store */
  inFlight = 0;
  /** times a connection or an HTTP send began to wait for a slot (imstorm_send_holds_total) */
  holds = 0;
  /** HTTP sends waiting for a slot now (acquire) */
  waitingRequests = 0;
  readonly max: number;
  /**
   * Connections whose next send waits for a slot, and HTTP sends waiting for one, each with
   * the ticket of its place in `order`. The order is a queue of its own, not this Map's: a
   * Set or Map taken from the front keeps what it deleted as holes until it rehashes, and
   * every new iterator walks them again, so taking the first of 10,000 held connections cost
   * about 5 µs (2.6 µs only to look at it), paid at every send's end exactly when the node was
   * behind: in the 1:1 bench at 10,000 msg/s the gate's `end` alone took 7.6 µs of node CPU a
   * message in a run that fell behind, 2.3 µs in one that kept up (issue 10).
   */
  private readonly held = new Map<C | SlotWait, number>();
  /** who waits, first first; an entry whose ticket is no longer `held`'s left the queue (closed, expired, aborted) */
  private readonly order = new Denque<C | SlotWait>();
  private readonly tickets = new Denque<number>();
  private nextTicket = 0;
  private readonly onResumeError: (conn: C, err: unknown) => void;

  /** `onResumeError`: a resume threw; the gate goes on with the next connection (the caller should close this one) */
  constructor(max: number, onResumeError: (conn: C, err: unknown) => void) {
    if (!(Number.isInteger(max) && max >= 1)) throw new RangeError(`SendGate: max must be a whole number ≥ 1, got ${max}`);
    this.max = max;
    this.onResumeError = onResumeError;
  }

  /** Whether a send may start now (the caller then calls start()); else `conn` waits for end() to resume it. */
  admit(conn: C): boolean {
    if (this.inFlight < this.max) return true;
    if (!this.held.has(conn)) {
      this.enqueue(conn);
      this.holds++;
    }
    return false;
  }

  private enqueue(who: C | SlotWait): void {
    const ticket = ++this.nextTicket;
    this.held.set(who, ticket);
    this.order.push(who);
    this.tickets.push(ticket);
  }

  /** `who` leaves the queue; its entry in `order` is passed over when it comes up */
  private leave(who: C | SlotWait): void {
    if (!this.held.delete(who) || this.held.size > 0) return;
    // nobody waits: the entries that left need not wait for an end() to be passed over
    this.order.clear();
    this.tickets.clear();
  }

  start(): void {
    this.inFlight++;
  }

  /**
   * For a send that cannot wait in a paused socket (`POST /v1/messages`): resolves once a slot
   * is its own, already counted as start() does, so the caller runs its send and then end().
   * It waits behind the connections held before it; after `maxWaitMs` it leaves the queue and
   * rejects with SlotWaitExpired, and when `signal` aborts (its client left) with SlotWaitAborted.
   */
  acquire(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new SlotWaitAborted('the client left before its send started'));
    if (this.inFlight < this.max) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      // leaves the queue, however it ends: granted, run out, or its client gone
      const settle = () => {
        if (wait.timer) clearTimeout(wait.timer);
        signal?.removeEventListener('abort', onAbort);
        this.waitingRequests--;
      };
      const wait: SlotWait = new SlotWait(() => {
        settle();
        resolve();
      });
      const onAbort = () => {
        this.leave(wait);
        settle();
        reject(new SlotWaitAborted('the client left before its send started'));
      };
      wait.timer = setTimeout(() => {
        this.leave(wait);
        settle();
        reject(new SlotWaitExpired(`no send slot freed within ${maxWaitMs} ms: all MAX_SENDS_IN_FLIGHT (${this.max}) of the node's sends wait for the store`));
      }, maxWaitMs);
      wait.timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.enqueue(wait);
      this.holds++;
      this.waitingRequests++;
    });
  }

  /**
   * A send's store call ended: hands free slots to held connections (through `resume`) and
   * waiting HTTP sends, first held first. A resumed connection that starts nothing (its own limits hold it) leaves
   * the slot to the next; one that fills the node again is held once more, at the back.
   */
  end(resume: (conn: C) => void): void {
    this.inFlight--;
    // every send ends here: nothing to look at when nobody waits (the common case)
    if (this.held.size === 0) return;
    while (this.inFlight < this.max) {
      const conn = this.order.shift();
      const ticket = this.tickets.shift();
      if (conn === undefined) return;
      if (this.held.get(conn) !== ticket) continue; // it left the queue, or waits again further back
      this.leave(conn);
      if (conn instanceof SlotWait) {
        // counted now: its send starts a microtask later, and no other may take the slot meanwhile
        this.inFlight++;
        conn.grant();
        continue;
      }
      try {
        resume(conn);
      } catch (err) {
        // the others must not stay paused behind it: nothing else would wake them
        this.onResumeError(conn, err);
      }
    }
  }

  /** whether `conn` waits for a slot (its socket paused by the node, not by its own limits) */
  holding(conn: C): boolean {
    return this.held.has(conn);
  }

  /** `conn` closed: it waits no more */
  forget(conn: C): void {
    this.leave(conn);
  }

  /** connections held and HTTP sends waiting */
  get heldCount(): number {
    return this.held.size;
  }

  /** connections held (imstorm_send_held_connections) */
  get heldConnections(): number {
    return this.held.size - this.waitingRequests;
  }
}
