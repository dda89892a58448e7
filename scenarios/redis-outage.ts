import { defineScenario } from '../harness/scenario/define.ts';

/**
 * A Redis outage three ways, all with the data kept (AOF, appendfsync always): paused
 * (SIGSTOP) for 2.5 s, past STORE_TIMEOUT_MS 1000 — sends that Redis commits on resuming
 * were answered `unavailable`, so the client's retry with the same cmid is what dedupe must
 * absorb — then SIGKILLed and restarted 1 s later from its AOF, then shut down cleanly
 * (SIGTERM, as an operator's stop) and started again 2 s later: nothing acked may be lost,
 * and the epoch stays.
 */
export default defineScenario({
  name: 'redis-outage',
  description: 'Two nodes, 50 users × 2 devices in dms and 4 groups of 8 for 19 s; Redis paused 2.5 s (STORE_TIMEOUT_MS 1000), killed and restarted from its AOF, then stopped (SIGTERM) for 2 s and started again.',
  proves: [
    'sends answered `unavailable` while Redis stalled past STORE_TIMEOUT_MS and committed afterwards are stored once when retried with the same cmid',
    'no acked message is lost across Redis SIGKILLed and restarted with AOF (appendfsync always), nor across a clean stop and start',
    'nodes come back by themselves after each outage: every device is live again once Redis is, with order kept and the epoch unchanged',
  ],
  topology: { nodes: 2, redisBehindProxy: false, clientLinksBehindProxy: false, serverEnv: { STORE_TIMEOUT_MS: 1000, PRESENCE_TTL_MS: 4000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: { users: 50, devicesPerUser: 2, dmsPerUser: 1, groups: 4, groupSize: 8, sendRate: 40, bodyBytes: 64, ack: 'batched', presenceSubs: 2 },
  durationMs: 19_000,
  faults: [
    { kind: 'pause', at: 3_000, duration: 2_500, target: 'redis' },
    { kind: 'kill', at: 8_500, target: 'redis', restartAfter: 1_000 },
    { kind: 'stop', at: 12_500, target: 'redis', restartAfter: 2_000 },
  ],
  thresholds: ['throughput.sent.total > 300'],
  checks: { unseenWithinMs: 5000, presence: true, leaks: true },
});
