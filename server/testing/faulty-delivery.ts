import { Capture, capturing } from '../capture/capture.ts';
import { CloseCode } from '../protocol/codes.ts';
import { encode } from '../protocol/server-frames.ts';
import { Conn } from '../gateway/connection.ts';
import { Hub } from '../delivery/hub.ts';
import { privateMethod } from './private-method.ts';

/**
 * TEST_BUGS=ack_past_head: an `ack` (or `read`) above the head is taken as it is, not
 * clamped (PROTOCOL.md: "The cursor only moves forward and never past the head"). A device
 * that acks ahead of what it holds then has a cursor past messages stored after its ack,
 * and its next connect replays none of them (`lost`).
 */
export function ackPastHead(): void {
  const clamp = Hub.prototype.clampToHead;
  Hub.prototype.clampToHead = async function (this: Hub, conn, conv, seq) {
    const mark = await clamp.call(this, conn, conv, seq);
    return { epoch: mark.epoch, seq };
  };
  // the gateway's synchronous ack path (an ack of a conversation the connection holds)
  const clampHeld = Hub.prototype.clampHeld;
  Hub.prototype.clampHeld = function (this: Hub, conn, conv, seq) {
    const mark = clampHeld.call(this, conn, conv, seq);
    return mark && { epoch: mark.epoch, seq };
  };
}

/**
 * TEST_BUGS=never_cut_slow_consumers: a connection over SLOW_CONSUMER_BYTES (or the node over
 * NODE_OUTBOUND_BYTES) is never closed 4413: the node buffers everything a reader that
 * stopped reading is sent, for as long as it does not read.
 */
export function neverCutSlowConsumers(): void {
  const closeNow = Conn.prototype.closeNow;
  Conn.prototype.closeNow = function (this: Conn, code: number, reason?: string): boolean {
    if (code === CloseCode.slowConsumer) return false;
    return closeNow.call(this, code, reason);
  };
}

/**
 * TEST_BUGS=heartbeat_never_closes: a connection silent for 2×HEARTBEAT_MS (no frame, no
 * pong) is never closed 4408 (PROTOCOL.md): clients that vanished without a FIN, or froze
 * with their sockets open, hold their connections, registrations and buffers for ever.
 */
export function heartbeatNeverCloses(): void {
  const closeNow = Conn.prototype.closeNow;
  Conn.prototype.closeNow = function (this: Conn, code: number, reason?: string): boolean {
    if (code === CloseCode.heartbeatTimeout) return false;
    return closeNow.call(this, code, reason);
  };
}

/**
 * TEST_BUGS=epoch_unannounced: when a conversation's epoch changes while a connection is
 * open (a volatile Redis restarted empty), the node goes on pushing the new epoch's
 * messages on that connection without the `conv` frame that announces the new epoch
 * (PROTOCOL.md, connection rule 6). The device reads seq 1, 2, … of the new epoch as
 * seqs of the old one (`order`). A connection's first announcement of a conversation is
 * still sent, so only connections that knew the old epoch are hit.
 */
export function epochUnannounced(): void {
  type TellConv = (this: Hub, conn: Conn, conv: string, epoch: string, pos: number, head: number) => void;
  const proto = Hub.prototype as unknown as { tellConv: TellConv };
  const tellConv = privateMethod<TellConv>(proto, 'tellConv', 'epoch_unannounced');
  // per connection and conversation, the epoch last announced (kept across re-attaches: a
  // resync may give the connection a new view of the same conversation)
  const told = new WeakMap<Conn, Map<string, string>>();
  proto.tellConv = function (this: Hub, conn, conv, epoch, pos, head): void {
    let byConv = told.get(conn);
    if (!byConv) told.set(conn, (byConv = new Map()));
    const before = byConv.get(conv);
    byConv.set(conv, epoch);
    if (before !== undefined && before !== '' && before !== epoch) return;
    tellConv.call(this, conn, conv, epoch, pos, head);
  };
}

/**
 * TEST_BUGS=synced_early: the node sends `{"t":"synced"}` as soon as a connection's connect
 * sync starts, before any `conv`, `gap` or `msg` frame of its backlog, and drops the genuine
 * one the sync sends at its end (PROTOCOL.md, Connect 3: `synced` once, after every
 * conversation with something to send). Every backlog a reconnecting device is owed then
 * arrives after `synced`: a client would show "up to date" while its offline messages still
 * come. Everything is still delivered, in order; only `synced` moves (`order`: a `conv` frame
 * after `synced` that the connect sequence owed). A sync that fails still fails the handshake
 * (1013), after the early `synced`. The capture records the `synced` where it was sent, and
 * not the one dropped.
 */
export function syncedEarly(): void {
  const SYNCED = encode.synced();
  // connections whose connect sync runs: their genuine `synced` is dropped (and not captured)
  const syncing = new WeakSet<object>();
  const syncOnConnect = Hub.prototype.syncOnConnect;
  const send = Conn.prototype.send;
  Hub.prototype.syncOnConnect = async function (this: Hub, conn: Conn): Promise<void> {
    if (conn.captured) capturing?.out(conn, { t: 'synced' });
    send.call(conn, SYNCED);
    syncing.add(conn);
    try {
      await syncOnConnect.call(this, conn);
    } finally {
      syncing.delete(conn);
    }
  };
  Conn.prototype.send = function (this: Conn, data: Parameters<Conn['send']>[0]): void {
    if (data === SYNCED && syncing.has(this)) return;
    send.call(this, data);
  };
  const out = Capture.prototype.out;
  Capture.prototype.out = function (this: Capture, conn, f): void {
    if (f.t === 'synced' && syncing.has(conn)) return;
    out.call(this, conn, f);
  };
}

/** CPU TEST_BUGS=slow_delivery burns on every frame a connection writes, in µs */
export const SLOW_DELIVERY_BURN_US = 500;

/**
 * TEST_BUGS=slow_delivery: every frame written to a connection (each `msg` pushed, each
 * `sent`, `welcome`, `synced`) first spins the CPU for SLOW_DELIVERY_BURN_US — a server
 * whose delivery path got several times more expensive. Nothing is lost or reordered: only
 * `imstorm bench`'s ratios to the raw-ws baseline (CPU per delivery, per connect) can
 * catch it, which is what the bench's CI gate is shown to do.
 */
export function slowDelivery(): void {
  const burn = () => {
    const end = performance.now() + SLOW_DELIVERY_BURN_US / 1000;
    while (performance.now() < end) {
      // spin: the point is the CPU spent
    }
  };
  const send = Conn.prototype.send;
  Conn.prototype.send = function (this: Conn, data: Parameters<Conn['send']>[0]): void {
    burn();
    send.call(this, data);
  };
  const sendAndDrain = Conn.prototype.sendAndDrain;
  Conn.prototype.sendAndDrain = function (this: Conn, data: Parameters<Conn['sendAndDrain']>[0]): Promise<void> {
    burn();
    return sendAndDrain.call(this, data);
  };
}
