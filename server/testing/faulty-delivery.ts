import { CloseCode } from '../protocol/codes.ts';
import { Conn } from '../gateway/connection.ts';
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
