import type { Conn } from '../gateway/connection.ts';
import { Hub } from '../delivery/hub.ts';

/**
 * TEST_BUGS=cursor_on_push: the device's cursor moves when the node pushes a live message,
 * not when the device acks it (PROTOCOL.md: an ack says the device has every message up to
 * its seq; the cursor follows acks). The push is recorded as if acked, so the ack flusher
 * and the close flush write it: a message pushed but not yet received when the connection
 * breaks — in the proxy, the socket buffers, a frame cut off — is never replayed to that
 * device. Nothing is lost while connections stay up; a disconnect storm loses what was in
 * flight at each cut (`lost`).
 */
export function cursorOnPush(): void {
  type Pushed = { conn: Conn; conv: string; epoch: string | null };
  const proto = Hub.prototype as unknown as { pushLive: (cc: Pushed, seq: number, bytes: Buffer) => void };
  const pushLive = proto.pushLive;
  proto.pushLive = function (this: Hub, cc: Pushed, seq: number, bytes: Buffer): void {
    pushLive.call(this, cc, seq, bytes);
    if (!cc.epoch) return;
    const acks = (cc.conn.acks ??= new Map());
    const prev = acks.get(cc.conv);
    if (!prev || prev.epoch !== cc.epoch || seq > prev.seq) acks.set(cc.conv, { epoch: cc.epoch, seq });
  };
}
