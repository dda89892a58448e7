import type { CursorStore, StoredMark } from '../store/cursors.ts';
import { RingWalk } from '../util/ring-walk.ts';
import type { Conn } from './connection.ts';

/** each connection's coalesced acks are written about this often */
export const ACK_FLUSH_INTERVAL_MS = 1000;
/** the interval is walked in ticks this long, a slice of the connections per tick */
export const ACK_FLUSH_TICK_MS = 50;
/** most devices in one store call */
export const ACK_BATCH_DEVICES = 256;
/**
 * most store calls in flight; while they are, the walk waits (a slow store delays acks, it
 * does not pile up calls). 16 × 256 devices a tick is 80k devices a second, enough for a node
 * at MAX_CONNECTIONS' default to flush each connection every few seconds when all of them ack
 */
export const ACK_BATCHES_IN_FLIGHT = 16;

/**
 * a closed connection's acks the store did not confirm are written again this many times,
 * this far apart: nothing else would ever write them (its close flushed what it held then,
 * and a batch taken from it before the close may fail after)
 */
export const CLOSED_ACK_RETRIES = 3;
export const CLOSED_ACK_RETRY_MS = 500;

/**
 * Writes the acks connections coalesce in memory (`Conn.acks`) to their devices' cursors,
 * spread over the second instead of in one burst: a ring walk over the live connections,
 * ACK_FLUSH_INTERVAL_MS / ACK_FLUSH_TICK_MS slices of them per interval, each slice's acks in
 * pipelined batches of at most ACK_BATCH_DEVICES devices (CursorStore.advanceCursorsBatch).
 *
 * Semantics kept from the burst it replaces: cursors only move forward (the store's
 * contract); a connection's acks stop being due when their write starts, and when the store
 * does not confirm they are due again unless newer acks for the same conversation arrived
 * meanwhile (ConnAcks); a closed connection's are written again, CLOSED_ACK_RETRIES times at
 * most.
 */
export class AckFlusher {
  private readonly cursors: Pick<CursorStore, 'advanceCursorsBatch'>;
  private readonly walk: RingWalk<Conn>;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];

  /** `conns`: the gateway's live set */
  constructor(cursors: Pick<CursorStore, 'advanceCursorsBatch'>, conns: Set<Conn>) {
    this.cursors = cursors;
    this.walk = new RingWalk(conns, ACK_FLUSH_INTERVAL_MS / ACK_FLUSH_TICK_MS);
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), ACK_FLUSH_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One slice of the walk: about |conns| · TICK / INTERVAL connections, their acks in batches. */
  tick(): void {
    if (this.inFlight >= ACK_BATCHES_IN_FLIGHT) return;
    const slice = this.walk.slice();
    let batch: Conn[] = [];
    for (let visited = 0; visited < slice; visited++) {
      const conn = this.walk.next();
      if (!conn) break; // the round is over; the next tick starts the next one
      if (conn.state !== 'open' || !conn.acks?.due) continue;
      batch.push(conn);
      if (batch.length === ACK_BATCH_DEVICES) {
        void this.write(batch);
        batch = [];
        if (this.inFlight >= ACK_BATCHES_IN_FLIGHT) break;
      }
    }
    if (batch.length) void this.write(batch);
  }

  /** Writes one connection's acks now (its close, a drain); resolves once the store answered or failed. */
  flushNow(conn: Conn): Promise<void> {
    return conn.acks?.due ? this.write([conn]) : Promise.resolve();
  }

  /** Resolves once no batch is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async write(all: Conn[], attempt = 0): Promise<void> {
    // a retry may find a connection's acks taken already, by another retry of it (two batches
    // of one connection can fail after its close) or by its flush: nothing to write for it
    const conns = attempt ? all.filter((c) => c.acks?.due) : all;
    if (!conns.length) return;
    // every connection here has acks due (tick and flushNow checked, in this turn)
    const taken: ReadonlyMap<string, StoredMark>[] = conns.map((c) => c.acks!.take()!);
    const batch = conns.map((c, i) => ({ user: c.user, device: c.device, marks: taken[i]! }));
    this.inFlight++;
    let ok: boolean[];
    try {
      ok = await this.cursors.advanceCursorsBatch(batch);
    } catch {
      ok = [];
    } finally {
      if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
    const closed: Conn[] = [];
    conns.forEach((c, i) => {
      if (ok[i]) return;
      c.acks!.giveBack(taken[i]!);
      if (c.state === 'closed') closed.push(c);
    });
    if (closed.length && attempt < CLOSED_ACK_RETRIES) setTimeout(() => void this.write(closed, attempt + 1), CLOSED_ACK_RETRY_MS).unref();
  }
}
