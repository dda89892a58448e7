import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ConnConv } from '../gateway/connection.ts';
import { Gateway } from '../gateway/gateway.ts';
import { Hub } from '../delivery/hub.ts';

/**
 * Restores issue 8 item 1 for the harness's own tests (TEST_BUGS=upgrade_socket_no_error_listener):
 * an upgrade for a path other than /ws is answered 404 on the raw socket with no 'error'
 * listener, so a client that resets the socket meanwhile throws ECONNRESET out of the
 * process (the node logs it as fatal and exits 1). Upgrades on /ws go the usual way.
 */
export function upgradeWithoutErrorListener(): void {
  const handleUpgrade = Gateway.prototype.handleUpgrade;
  Gateway.prototype.handleUpgrade = function (this: Gateway, req: IncomingMessage, socket: Duplex, head: Buffer, overLimit?: boolean): void {
    if ((req.url ?? '').split('?')[0] === '/ws') return handleUpgrade.call(this, req, socket, head, overLimit);
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"code":"not_found","message":"WebSocket path is /ws"}');
  };
}

/**
 * TEST_BUGS=error_reply_without_id: an error that answers a request leaves out the request's
 * id (PROTOCOL.md: every request with an id gets one final reply echoing it), so clients
 * cannot tell which request failed.
 */
export function errorRepliesWithoutId(): void {
  const proto = Gateway.prototype as unknown as { replyError: (conn: unknown, id: string | undefined, err: unknown) => void };
  const replyError = proto.replyError;
  proto.replyError = function (this: Gateway, conn: unknown, _id: string | undefined, err: unknown): void {
    replyError.call(this, conn, undefined, err);
  };
}

/**
 * TEST_BUGS=cursor_on_push: a live push counts as the device's ack (at-most-once delivery,
 * "delivered" once written to the socket): the cursor moves past messages the device never
 * acknowledged, so whatever a connection drop swallows — and whatever a device had received
 * but not yet stored — is never replayed (`inflight` names the cursor that passed unacked pushes).
 */
export function cursorOnPush(): void {
  const proto = Hub.prototype as unknown as { pushLive(cc: ConnConv, seq: number, bytes: Buffer): void };
  const pushLive = proto.pushLive;
  proto.pushLive = function (this: Hub, cc: ConnConv, seq: number, bytes: Buffer): void {
    pushLive.call(this, cc, seq, bytes);
    if (!cc.epoch) return;
    cc.conn.acks ??= new Map();
    cc.conn.acks.set(cc.conv, { epoch: cc.epoch, seq });
  };
}
