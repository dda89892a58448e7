import { defineScenario } from '../harness/scenario/define.ts';

/**
 * Half-open clients: every client of node-1 vanishes without a FIN (its client link drops
 * every byte both ways and closes nothing), twice; and every client of node-2 freezes (its
 * fleet process SIGSTOPped: the sockets stay open, nothing is read or written, as phones
 * that froze), once. With HEARTBEAT_MS 1000 the node must have closed all of them within
 * 2×HEARTBEAT_MS, plus one sweep (HEARTBEAT_MS/4) and 750 ms of measurement slack; once the
 * link heals, or the process resumes, the devices reconnect and catch up.
 */
const HEARTBEAT_MS = 1000;
const RECLAIM_WITHIN_MS = 2 * HEARTBEAT_MS + HEARTBEAT_MS / 4 + 750;

export default defineScenario({
  name: 'half-open',
  description: 'Two nodes, 60 users in dms and 4 groups for 16 s with HEARTBEAT_MS 1000; every client of node-1 blackholed (no FIN) for 5 s, twice; the fleet process of node-2\'s clients frozen (SIGSTOP) for 5 s.',
  proves: [
    `connections of clients that vanish without a FIN, or freeze with their sockets open, are reclaimed within 2×HEARTBEAT_MS (+ a sweep and slack: ${RECLAIM_WITHIN_MS} ms), closed 4408`,
    'once the link heals or the process resumes, those devices reconnect and get everything (nothing acked lost, order kept)',
    'connection gauge, fds, handles and Redis connection keys back to baseline; presence converges',
  ],
  // one fleet process per node: fleet-pause freezes exactly node-2's clients
  topology: { nodes: 2, redisBehindProxy: false, clientLinksBehindProxy: true, fleetPerNode: true, serverEnv: { HEARTBEAT_MS, PRESENCE_TTL_MS: 4000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: { users: 60, devicesPerUser: 1, dmsPerUser: 1, groups: 4, groupSize: 6, sendRate: 30, bodyBytes: 64, ack: 'batched', presenceSubs: 2 },
  durationMs: 16_000,
  faults: [
    { kind: 'blackhole', at: 2_000, duration: 5_000, link: 'client-link:node-1', reclaimWithinMs: RECLAIM_WITHIN_MS },
    // half a second after the blackhole: its in-flight window needs every fleet process's answer
    { kind: 'fleet-pause', at: 2_500, duration: 5_000, node: 'node-2', reclaimWithinMs: RECLAIM_WITHIN_MS },
    { kind: 'blackhole', at: 9_000, duration: 5_000, link: 'client-link:node-1', reclaimWithinMs: RECLAIM_WITHIN_MS },
  ],
  // node-2's 30 frozen clients are closed by its heartbeat (the node's count), and read that
  // 4408 close frame once resumed (the devices' count: a blackholed client never gets it, 1006)
  thresholds: ['throughput.sent.total > 200', 'server.node-2.heartbeatClosesPerSec.total >= 20', 'closes.4408 >= 20'],
  checks: { unseenWithinMs: 5000, presence: true, leaks: true },
});
