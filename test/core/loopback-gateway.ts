// The real gateway, hub and presence of one node over in-memory seams, listening on a real
// loopback socket: for tests of the WebSocket edge whose store the test controls (a log that
// fails, stalls or answers when told).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadConfig } from '../../server/config/config.ts';
import { Hub } from '../../server/delivery/hub.ts';
import { Gateway } from '../../server/gateway/gateway.ts';
import { RateBuckets } from '../../server/gateway/rate.ts';
import { TokenVerifier } from '../../server/gateway/tokens.ts';
import { MessageSender } from '../../server/messaging/send.ts';
import { createMetrics, type Metrics } from '../../server/observability/metrics.ts';
import { Presence } from '../../server/presence/presence.ts';
import type { ConversationLog } from '../../server/store/log.ts';
import type { MemoryStore } from '../../server/store/memory/memory-store.ts';
import { Semaphore } from '../../server/util/semaphore.ts';

/** the JWT secret of every loopback gateway (mint tokens with it) */
export const LOOPBACK_SECRET = 'k'.repeat(32);
const silent = pino({ level: 'silent' });

export interface LoopbackGateway {
  gw: Gateway;
  metrics: Metrics;
  /** ws://127.0.0.1:<port>/ws */
  url: string;
  /** stops the gateway and the listener */
  close(): void;
}

/**
 * One node's edge over `store` (cursors, groups, presence) and `log` (often `store` behind a
 * test's Proxy). `env`: configuration as the environment would give it (JWT_SECRET is set).
 */
export async function loopbackGateway(store: MemoryStore, log: ConversationLog, opts: { env?: Record<string, string>; backlogLimit?: number } = {}): Promise<LoopbackGateway> {
  const config = loadConfig({ JWT_SECRET: LOOPBACK_SECRET, ...opts.env });
  let gw: Gateway | null = null;
  const metrics = createMetrics({
    connections: () => gw?.connectionCount ?? 0,
    unsentBytes: () => gw?.unsentBytes() ?? 0,
    channels: () => 0,
    framesOut: () => 0,
    sends: () => ({ inFlight: gw?.sends.inFlight ?? 0, holds: gw?.sends.holds ?? 0, held: gw?.sends.heldConnections ?? 0, waitingRequests: gw?.sends.waitingRequests ?? 0 }),
  });
  const hub = new Hub({ log, cursors: store, groups: store }, silent, metrics, { backlogLimit: opts.backlogLimit ?? 1000, slowConsumerBytes: 1 << 30 });
  const presence = new Presence(store, silent, 'n1.test', 30_000, 10, () => hub.conns.values());
  const buckets = new RateBuckets(config.SEND_RATE, config.SEND_BURST);
  const g = new Gateway({
    config,
    log: silent,
    store: { log, cursors: store },
    sender: new MessageSender(log, buckets, metrics, config),
    hub,
    presence,
    tokens: new TokenVerifier({ secret: LOOPBACK_SECRET, audience: config.JWT_AUDIENCE, issuer: config.JWT_ISSUER, maxAgeS: config.JWT_MAX_AGE_S }),
    buckets,
    metrics,
    nodeId: 'n1',
    maxConnections: 100,
    bulkReads: new Semaphore(8),
  });
  gw = g;
  g.start();
  const http = createServer();
  http.on('upgrade', (req, socket, head) => g.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    gw: g,
    metrics,
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`,
    close() {
      g.stop();
      http.close();
    },
  };
}
