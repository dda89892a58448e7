import type { ClientFrame } from '../protocol/frames.ts';

/**
 * What one connection may ask of its node, beyond the per-user send bucket. A connection
 * over a limit is not answered with an error: its socket stops being read until the
 * limit clears (backpressure), so an honest client only slows down and PROTOCOL.md's
 * replies stay what they are. A client that pipelines requests and never reads its replies
 * thus stops being read at all, and the heartbeat (no inbound frame or pong for
 * 2 × HEARTBEAT_MS) cuts it 4408.
 */
export const REQUEST_LIMITS = {
  /** requests whose final reply has not yet reached the kernel (history: its page); a reply queued behind less than HOLD_MAX_BYTES counts as reached (Conn.sendAndDrain) */
  inFlight: 32,
  /** `history` requests in flight: each page can be ~100 × MAX_BODY_BYTES */
  historyInFlight: 2,
  /** every frame, bad ones included: per second, and the burst */
  frames: { rate: 500, burst: 1000 },
  /** `history` pages */
  history: { rate: 20, burst: 40 },
  /** `read` marks (each one a store write and a bus message) */
  read: { rate: 20, burst: 50 },
  /** users named in `presence.sub` / `presence.unsub` (each one a store read) */
  presenceUsers: { rate: 2000, burst: 2000 },
} as const;

/** A frame as the pacer queues it: valid, or the error its reply will carry. */
export type Request = { frame: ClientFrame } | { bad: { id: string | undefined; err: unknown } };

interface Bucket {
  readonly rate: number;
  readonly burst: number;
}

/**
 * One connection's budgets and in-flight counts (allocated at its first frame after
 * `welcome`: idle connections do not pay for it). Token buckets refill lazily.
 */
export class RequestPace {
  private frames: number = REQUEST_LIMITS.frames.burst;
  private history: number = REQUEST_LIMITS.history.burst;
  private reads: number = REQUEST_LIMITS.read.burst;
  private presence: number = REQUEST_LIMITS.presenceUsers.burst;
  private at: number;
  inFlight = 0;
  historyInFlight = 0;
  /** requests held back while a limit is reached, in arrival order (reading is paused meanwhile) */
  waiting: Request[] | null = null;
  timer: NodeJS.Timeout | null = null;

  constructor(now: number) {
    this.at = now;
  }

  /**
   * Starts `req` when every limit allows it (taking its tokens): 0. Otherwise how many ms
   * until its budget refills, or Infinity when it waits for a request in flight to end.
   */
  admit(req: Request, now: number): number {
    this.refill(now);
    if (this.inFlight >= REQUEST_LIMITS.inFlight) return Infinity;
    const f = 'frame' in req ? req.frame : null;
    if (f?.t === 'history' && this.historyInFlight >= REQUEST_LIMITS.historyInFlight) return Infinity;
    const [kind, cost] = costOf(f);
    const wait = Math.max(waitFor(this.frames, 1, REQUEST_LIMITS.frames), kind ? waitFor(this[kind], cost, REQUEST_LIMITS[bucketOf[kind]]) : 0);
    if (wait > 0) return wait;
    this.frames -= 1;
    if (kind) this[kind] -= Math.min(cost, REQUEST_LIMITS[bucketOf[kind]].burst);
    this.inFlight++;
    if (f?.t === 'history') this.historyInFlight++;
    return 0;
  }

  /** `req` got its final reply onto the socket (or its connection closed). */
  finish(req: Request): void {
    this.inFlight--;
    if ('frame' in req && req.frame.t === 'history') this.historyInFlight--;
  }

  private refill(now: number): void {
    const dt = (now - this.at) / 1000;
    if (dt <= 0) return;
    this.at = now;
    const L = REQUEST_LIMITS;
    this.frames = Math.min(L.frames.burst, this.frames + dt * L.frames.rate);
    this.history = Math.min(L.history.burst, this.history + dt * L.history.rate);
    this.reads = Math.min(L.read.burst, this.reads + dt * L.read.rate);
    this.presence = Math.min(L.presenceUsers.burst, this.presence + dt * L.presenceUsers.rate);
  }
}

type Kind = 'history' | 'reads' | 'presence';
const bucketOf = { history: 'history', reads: 'read', presence: 'presenceUsers' } as const;

function costOf(f: ClientFrame | null): [Kind | null, number] {
  switch (f?.t) {
    case 'history':
      return ['history', 1];
    case 'read':
      return ['reads', 1];
    case 'presence.sub':
    case 'presence.unsub':
      return ['presence', f.users.length];
    default:
      return [null, 0];
  }
}

/** ms until `tokens` reach `cost` (a cost above the burst needs a full bucket) */
function waitFor(tokens: number, cost: number, b: Bucket): number {
  const need = Math.min(cost, b.burst);
  return tokens >= need ? 0 : Math.ceil(((need - tokens) * 1000) / b.rate);
}
