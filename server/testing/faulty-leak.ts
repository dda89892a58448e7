import { randomBytes } from 'node:crypto';
import { Gateway } from '../gateway/gateway.ts';
import { privateMethod } from './private-method.ts';

/** What TEST_BUGS=leak_per_connection keeps of each closed connection: never released. */
const kept: Array<{ conn: string; data: string }> = [];

/**
 * TEST_BUGS=leak_per_connection: every connection that closes leaves its id and 4 KiB in a
 * module-level array for as long as the node runs (a per-connection cache nobody evicts).
 * A few thousand connections leak a few MiB: the size the fixed heap tolerance of `leaks`
 * can miss and its per-connection figure must not. The 4 KiB are a flat string, not a
 * Buffer: a Buffer's bytes live outside the V8 heap, which is what the check reads.
 */
export function leakPerConnection(): void {
  const proto = Gateway.prototype as unknown as { onClose(conn: { id: string; state: string }): Promise<void> };
  const onClose = privateMethod<(conn: { id: string; state: string }) => Promise<void>>(proto, 'onClose', 'leak_per_connection');
  proto.onClose = function (this: Gateway, conn: { id: string; state: string }): Promise<void> {
    if (conn.state !== 'closed') kept.push({ conn: conn.id, data: randomBytes(2048).toString('hex') });
    return onClose.call(this, conn);
  };
}
