import { defineScenario } from '../harness/scenario/define.ts';

/**
 * A zombie node: node-2 is frozen (SIGSTOP) for 6 s, twice PRESENCE_TTL_MS, then resumed.
 * While it is frozen the other nodes see its lease expire and take its connections
 * offline. Half the devices have a client-side liveness timeout (2.5 s) and fail over to
 * another node, as mobile clients do; the other half wait for the frozen node, as naive
 * clients do. On resuming, node-2 must notice its lease was taken and register the
 * connections it still serves again (those devices are online), and the closes of the
 * connections its devices abandoned must not take their newer connections on other nodes
 * offline.
 */
export default defineScenario({
  name: 'node-pause',
  description: 'Three nodes, 120 users × 1 device in dms and 6 groups of 8 for 22 s; node-2 paused (SIGSTOP) 4–10 s, past PRESENCE_TTL_MS 3000; half the devices drop a connection silent for 2.5 s and fail over.',
  proves: [
    'a node frozen past PRESENCE_TTL_MS notices on resuming that its lease was taken and re-registers the connections it still serves: their users are online again everywhere (presence judged over time)',
    "the abandoned connections' closes do not take their devices' newer connections on other nodes offline",
    'nothing acked is lost and order holds across the freeze, for devices that waited and for devices that failed over; no keys left behind',
  ],
  topology: { nodes: 3, redisBehindProxy: false, clientLinksBehindProxy: false, serverEnv: { PRESENCE_TTL_MS: 3000, HEARTBEAT_MS: 1000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: {
    // one device per user: a user's presence is its one device's, so a wrong offline shows
    users: 120,
    devicesPerUser: 1,
    dmsPerUser: 1,
    groups: 6,
    groupSize: 8,
    sendRate: 30,
    bodyBytes: 64,
    ack: 'batched',
    presenceSubs: 4,
    failover: true,
    liveness: { timeoutMs: 2500, share: 0.5 },
    reconnect: { baseMs: 100, capMs: 1000, attempts: 60 },
  },
  durationMs: 22_000,
  faults: [{ kind: 'pause', at: 4_000, duration: 6_000, target: 'node-2' }],
  // closes.4408: a resumed node must not cut the clients it kept waiting as if they had gone silent
  thresholds: ['throughput.sent.total > 400', 'checks.presence.checked > 200', 'closes.4408 == 0'],
  checks: { unseenWithinMs: 5000, presence: true, presenceSettleMs: 1500, leaks: true },
});
