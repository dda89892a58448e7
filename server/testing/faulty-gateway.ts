import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { recordAck } from '../gateway/conn-acks.ts';
import type { Conn } from '../gateway/connection.ts';
import { Gateway } from '../gateway/gateway.ts';
import { Hub } from '../delivery/hub.ts';
import { privateMethod } from './private-method.ts';

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
  type ReplyError = (conn: unknown, id: string | undefined, err: unknown) => void;
  const proto = Gateway.prototype as unknown as { replyError: ReplyError };
  const replyError = privateMethod<ReplyError>(proto, 'replyError', 'error_reply_without_id');
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
  // the hub's one path for a live message to one connection (caught up or behind alike)
  type HubInside = { push(conn: Conn, conv: string, seq: number, bytes: Buffer): void; chans: Map<string, { epoch: string | null }> };
  const proto = Hub.prototype as unknown as HubInside;
  const push = privateMethod<HubInside['push']>(proto, 'push', 'cursor_on_push');
  proto.push = function (this: HubInside, conn: Conn, conv: string, seq: number, bytes: Buffer): void {
    push.call(this, conn, conv, seq, bytes);
    const epoch = this.chans.get(conv)?.epoch;
    if (!epoch) return;
    recordAck(conn, conv, { epoch, seq });
  };
}
