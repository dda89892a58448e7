import { capturing } from '../capture/capture.ts';
import type { ConnAcks } from './conn-acks.ts';
import type { RequestPace } from './request-pacer.ts';
import { HOLD_MAX_BYTES } from '../util/turn-cork.ts';
import type { Identity } from './tokens.ts';
import type { TextFrame } from './ws-frame.ts';

/**
 * What a connection needs of its socket: the part of `ws`'s WebSocket the server uses.
 * A seam so the delivery core runs in-process in unit tests over an in-memory socket.
 */
export interface ClientSocket {
  /** 0 connecting, 1 open, 2 closing, 3 closed (WebSocket's) */
  readonly readyState: number;
  /** bytes queued but not yet written to the kernel */
  readonly bufferedAmount: number;
  send(data: string | Buffer, opts: { binary: boolean }, cb?: (err?: Error) => void): void;
  /** a text message framed once for all its recipients (the node's sockets; others get its payload through `send`) */
  sendFramed?(f: TextFrame, cb?: (err?: Error | null) => void): void;
  close(code: number, reason: string): void;
  terminate(): void;
  ping(): void;
  /** stop / go on reading the peer's frames (backpressure on a client over its request limits) */
  pause(): void;
  resume(): void;
}

/** ws's send options for every frame of this server (one object, not one per frame) */
const TEXT = { binary: false } as const;

/** what sendAndDrain answers for a frame that needs no wait (a caller may skip awaiting it) */
export const SENT: Promise<void> = Promise.resolve();

/** Frames written by every connection of this process (read by /metrics). */
export const frameStats = { out: 0 };

/**
 * One conversation as seen by one connection while it is not simply caught up in it: its
 * backlog being replayed, behind the channel, past a leave, after an epoch change (a
 * connection caught up is a member of the channel's `quiet` or `told` set and has no
 * view; see ConvChannel). A class, not an object literal, so `until`
 * can stay unset for the common case: an `Infinity` in a number field is a boxed heap
 * number in every instance (16 bytes each, five or more per idle connection).
 */
export class ConnConv {
  readonly conn: Conn;
  readonly conv: string;
  /** the epoch `pos` belongs to */
  epoch: string | null;
  /** last seq sent to this connection (or its starting cursor) */
  pos: number;
  /** a leave's seq, when one took effect; undefined for none (read through `until`) */
  private leftAt: number | undefined = undefined;
  /** true once the backlog is replayed: the channel then pushes to it directly */
  live = false;
  /** the `conv` frame for the current epoch was sent */
  announced = false;
  /** bumped to abandon an outdated replay loop */
  replayGen = 0;

  constructor(conn: Conn, conv: string, epoch: string | null, pos: number) {
    this.conn = conn;
    this.conv = conv;
    this.epoch = epoch;
    this.pos = pos;
  }

  /** a leave took effect at this seq: nothing above it is delivered (Infinity: none) */
  get until(): number {
    return this.leftAt ?? Infinity;
  }
  set until(seq: number) {
    this.leftAt = seq === Infinity ? undefined : seq;
  }
}

export type ConnState = 'hello' | 'open' | 'closed';

/**
 * One WebSocket connection. Holds only what the connection itself needs: identity,
 * heartbeat and limit counters, its conversations' positions, coalesced acks and
 * presence subscriptions. Timers are the gateway's shared sweep, not per connection.
 */
export class Conn {
  readonly id: string;
  readonly ws: ClientSocket;
  state: ConnState = 'hello';
  identity: Identity | null = null;
  /** when its socket opened, when a frame last came, when it was last pinged: on the monotonic clock (util/clock.ts) */
  readonly openedAt: number;
  lastSeen: number;
  lastPing: number;
  badFrames = 0;
  /** pongs answering its pings, not yet written to the socket (gateway's ping handler) */
  owedPongs = 0;
  /** the conversations it holds, caught up or through a view (the channels' own strings) */
  convs: string[] = [];
  /** conv → its view, for the conversations it is not caught up in (allocated on first use) */
  views: Map<string, ConnConv> | null = null;
  /** its coalesced acks, from its first ack on (conn-acks.ts) */
  acks: ConnAcks | null = null;
  /** watched user → the highest presence `v` sent to this connection (0 before its first frame) */
  presenceSubs: Map<string, number> | null = null;
  /** conversations whose delivery ended at a leave: conv → where it ended (rare; allocated on first use) */
  finished: Map<string, { epoch: string | null; pos: number }> | null = null;
  /** conversations the user joined again while this connection was still owed the earlier membership: conv → new join seq (rare) */
  rejoins: Map<string, number> | null = null;
  /** frames received before the handshake finished, handled right after it */
  early: string[] | null = null;
  /** request budgets and in-flight counts, from the first frame after `welcome` on */
  pace: RequestPace | null = null;
  /** registered in the store's presence (so it must be deregistered) */
  registered = false;
  /** recorded by the node's capture (CAPTURE_DIR, its user sampled): the one test the hot paths make */
  captured = false;

  constructor(id: string, ws: ClientSocket, now: number) {
    this.id = id;
    this.ws = ws;
    this.openedAt = now;
    this.lastSeen = now;
    this.lastPing = now;
  }

  get user(): string {
    return this.identity!.user;
  }
  get device(): string {
    return this.identity!.device;
  }
  get isOpen(): boolean {
    return this.state !== 'closed' && this.ws.readyState === 1;
  }

  /** A text frame: a JSON string, or a message framed once for all its recipients (hub's live push). */
  send(data: string | TextFrame): void {
    const ws = this.ws;
    if (ws.readyState !== 1) return;
    frameStats.out++;
    if (typeof data === 'string') ws.send(data, TEXT);
    else if (ws.sendFramed) ws.sendFramed(data);
    else ws.send(data.payload, TEXT);
  }

  /**
   * Sends and resolves once the frame reached the kernel (for pacing) — at once when it is
   * queued behind less than HOLD_MAX_BYTES, what one turn's hold may keep of any socket
   * (turn-cork.ts): such bytes leave by the end of this turn unless the peer stops reading,
   * and then the queue grows past the bound and later replies wait for it. Waiting for the
   * write's callback instead kept each request's objects (its frame, its promise chain)
   * alive to the end of the turn, through young-generation collections: in a 300 ms turn of
   * the 1:1 bench at 10,000 msg/s, every message read in it (issue 10).
   */
  sendAndDrain(data: string | TextFrame): Promise<void> {
    const ws = this.ws;
    if (ws.readyState === 1 && ws.bufferedAmount + (typeof data === 'string' ? 3 * data.length : data.frame.length) < HOLD_MAX_BYTES) {
      this.send(data);
      return SENT;
    }
    return new Promise((resolve) => {
      if (ws.readyState !== 1) return resolve();
      frameStats.out++;
      const done = () => resolve();
      if (typeof data === 'string') ws.send(data, TEXT, done);
      else if (ws.sendFramed) ws.sendFramed(data, done);
      else ws.send(data.payload, TEXT, done);
    });
  }

  /**
   * Closes with `code` and drops the socket at once: ws's close handshake would hold the
   * socket for 30 s behind a buffer the peer is not reading.
   */
  closeNow(code: number, reason = ''): boolean {
    const first = this.ws.readyState === 1 || this.ws.readyState === 0;
    // a socket already closing was closed by its peer (or by an earlier close, recorded then):
    // recorded as the server's, the peer's close would be lost to a replay, and its entry in
    // the capture's set of server closes would stay (the socket's 'close' has come already)
    if (this.captured && first) capturing?.serverClose(this, code, reason);
    if (this.ws.readyState === 1) {
      try {
        this.ws.close(code, reason);
      } catch {
        // already closing
      }
    }
    this.ws.terminate();
    // false when it was already closing: callers count each connection's close once
    return first;
  }

  /**
   * Closes with a handshake: the close frame leaves after every frame queued before it (the
   * peer is expected to be reading, e.g. on shutdown), and the socket is dropped 2 s later
   * if the peer has not answered. False when it was already closing, as closeNow.
   */
  closeGracefully(code: number, reason = ''): boolean {
    const first = this.ws.readyState === 1 || this.ws.readyState === 0;
    if (this.captured && first) capturing?.serverClose(this, code, reason);
    if (this.ws.readyState === 1) this.ws.close(code, reason);
    const t = setTimeout(() => this.ws.terminate(), 2000);
    t.unref();
    return first;
  }
}
