import { CloseCode } from '../protocol/codes.ts';
import { Conn, type ConnConv } from '../gateway/connection.ts';
import { Hub } from '../delivery/hub.ts';

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
  const proto = Hub.prototype as unknown as { announce(cc: ConnConv, head: number): void };
  const announce = proto.announce;
  // per connection and conversation, the epoch last announced (kept across re-attaches: a
  // resync may give the connection a new ConnConv for the same conversation)
  const told = new WeakMap<Conn, Map<string, string | null>>();
  proto.announce = function (this: Hub, cc: ConnConv, head: number): void {
    if (cc.announced) return announce.call(this, cc, head);
    let byConv = told.get(cc.conn);
    if (!byConv) told.set(cc.conn, (byConv = new Map()));
    const before = byConv.get(cc.conv);
    byConv.set(cc.conv, cc.epoch);
    if (before !== undefined && before !== null && before !== cc.epoch) {
      cc.announced = true;
      return;
    }
    announce.call(this, cc, head);
  };
}
