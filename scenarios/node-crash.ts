import { defineScenario } from '../harness/scenario/define.ts';

/**
 * A node crash: node-3 is SIGKILLed mid-load and stays down. Its devices fail over to the
 * other nodes (workload `failover`: a connection refused before its welcome moves to the
 * next node) and resume from their cursors; presence of the dead node's connections is
 * taken over once their leases expire (PRESENCE_TTL_MS 3000).
 */
export default defineScenario({
  name: 'node-crash',
  description: 'Three nodes, 60 users × 2 devices in dms and 6 groups of 8 for 16 s; node-3 SIGKILLed at 6 s and left down, its devices failing over.',
  proves: [
    'no acked message is lost when a node dies mid-load: its devices fail over and resume from their cursors on the others',
    'sends unanswered when the node died are resent with the same cmid and stored once',
    'presence converges after the dead node\'s leases expire (PRESENCE_TTL_MS 3000); no Redis keys left naming its connections',
  ],
  topology: { nodes: 3, redisBehindProxy: false, clientLinksBehindProxy: false, serverEnv: { PRESENCE_TTL_MS: 3000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: { users: 60, devicesPerUser: 2, dmsPerUser: 1, groups: 6, groupSize: 8, sendRate: 40, bodyBytes: 64, ack: 'batched', presenceSubs: 2, failover: true, reconnect: { baseMs: 100, capMs: 1000, attempts: 30 } },
  durationMs: 16_000,
  faults: [{ kind: 'kill', at: 6_000, target: 'node-3' }],
  thresholds: ['throughput.sent.total > 300'],
  checks: { unseenWithinMs: 5000, presence: true, leaks: true },
});
