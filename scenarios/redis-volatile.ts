import { defineScenario } from '../harness/scenario/define.ts';

/**
 * A Redis without persistence (appendonly no, no snapshots) SIGKILLed and restarted empty
 * while devices stay connected: every conversation's data is gone, and the next message of
 * each starts a new epoch at seq 1. PROTOCOL.md: a connection open across the change gets a
 * `conv` frame with the new epoch before any msg of it; a seq that starts over without one
 * is an order violation (`order`). What the old epochs held is lost by design (the checkers
 * are told when the store was wiped); what the new epochs hold is owed like any acked
 * message. Dms only: groups live in Redis alone and would be gone too.
 */
export default defineScenario({
  name: 'redis-volatile',
  description: 'Two nodes, 60 users × 2 devices in dms for 14 s against a Redis without persistence; Redis SIGKILLed at 5 s and restarted empty 1 s later.',
  proves: [
    'after a volatile Redis restarts empty, every open connection is told the new epoch (a conv frame) before any message of it, and order holds within each epoch',
    'no message acked in the new epoch is lost; messages of the old epoch are gone by design and only counted',
    'nodes resync by themselves (no restart, devices not reconnected by the harness) and presence converges after the registrations were wiped',
  ],
  topology: { nodes: 2, redisBehindProxy: false, clientLinksBehindProxy: false, volatileRedis: true, serverEnv: { STORE_TIMEOUT_MS: 1000, PRESENCE_TTL_MS: 4000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: { users: 60, devicesPerUser: 2, dmsPerUser: 2, groups: 0, sendRate: 40, bodyBytes: 64, ack: 'batched', presenceSubs: 2 },
  durationMs: 14_000,
  faults: [{ kind: 'kill', at: 5_000, target: 'redis', restartAfter: 1_000 }],
  thresholds: ['throughput.sent.total > 300'],
  checks: { unseenWithinMs: 5000, presence: true, leaks: true },
});
