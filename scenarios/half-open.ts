import { defineScenario } from '../harness/scenario/define.ts';

/**
 * Half-open clients: every client of node-1 vanishes without a FIN (its client link drops
 * every byte both ways and closes nothing), twice. With HEARTBEAT_MS 1000 the node must
 * have closed all of them within 2×HEARTBEAT_MS, plus one sweep (HEARTBEAT_MS/4) and 750 ms
 * of measurement slack; once the link heals the devices reconnect and catch up.
 */
const HEARTBEAT_MS = 1000;
const RECLAIM_WITHIN_MS = 2 * HEARTBEAT_MS + HEARTBEAT_MS / 4 + 750;

export default defineScenario({
  name: 'half-open',
  description: 'Two nodes, 60 users in dms and 4 groups for 16 s with HEARTBEAT_MS 1000; every client of node-1 blackholed (no FIN) for 5 s, twice.',
  proves: [
    `connections of clients that vanish without a FIN are reclaimed within 2×HEARTBEAT_MS (+ a sweep and slack: ${RECLAIM_WITHIN_MS} ms)`,
    'once the link heals those devices reconnect and get everything (nothing acked lost, order kept)',
    'connection gauge, fds, handles and Redis connection keys back to baseline; presence converges',
  ],
  topology: { nodes: 2, redisBehindProxy: false, clientLinksBehindProxy: true, serverEnv: { HEARTBEAT_MS, PRESENCE_TTL_MS: 4000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: { users: 60, devicesPerUser: 1, dmsPerUser: 1, groups: 4, groupSize: 6, sendRate: 30, bodyBytes: 64, ack: 'batched', presenceSubs: 2 },
  durationMs: 16_000,
  faults: [
    { kind: 'blackhole', at: 2_000, duration: 5_000, link: 'client-link:node-1', reclaimWithinMs: RECLAIM_WITHIN_MS },
    { kind: 'blackhole', at: 9_000, duration: 5_000, link: 'client-link:node-1', reclaimWithinMs: RECLAIM_WITHIN_MS },
  ],
  thresholds: ['throughput.sent.total > 200'],
  checks: { unseenWithinMs: 5000, presence: true, leaks: true },
});
