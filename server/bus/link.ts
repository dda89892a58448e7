import type { EventEmitter } from 'node:events';
import type { BusPayload } from './payloads.ts';

/**
 * The bus as a node sees it: publish to every node, receive what any node published.
 * Redis implementation: redis-bus-link.ts (pub/sub on one channel); in-memory:
 * server/store/memory/memory-bus.ts.
 *
 * Contract (what the delivery core may rely on, and no more): delivery is at most once;
 * while the link is up, payloads from one publisher arrive in the order they were
 * published; anything published while this node's link is down — and possibly a little
 * around it — may never arrive. After `down`, the next `up` therefore means "payloads may
 * have been lost": the node must re-read from the store (resync). A link that stalls
 * without closing is the node's to notice (its own heartbeat does not come back) and to
 * `reopen`. Store seams publish their own payloads atomically with their writes; `publish`
 * here is for payloads no write carries (heartbeats, operator kicks).
 */
export interface BusLink extends EventEmitter<BusLinkEvents> {
  /** Resolves once the broker took it; rejects (ProtocolError `unavailable`) when it could not. */
  publish(payload: BusPayload): Promise<void>;
  /** subscribed, and able to publish */
  readonly isUp: boolean;
  /** Drops and reopens the subscription; `up` follows once it is back. */
  reopen(reason: string): void;
}

export interface BusLinkEvents {
  /** one payload's text (decodeBusPayload reads it) */
  payload: [text: string];
  up: [];
  down: [];
}
