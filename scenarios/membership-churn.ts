import { defineScenario } from '../harness/scenario/define.ts';

/**
 * Membership churn: group members leave and users join, through every node in turn, while
 * everyone keeps sending, and also while node-2's Redis link is down (its bus misses the
 * join and leave payloads of that time, so only its resync can learn them).
 */
export default defineScenario({
  name: 'membership-churn',
  description: 'Three nodes, 40 users × 2 devices in dms and 6 groups of 8; 4 joins or leaves a second through every node for 20 s, with node-2\'s Redis link cut for 4 s.',
  proves: [
    'no device receives a message of a group its user was not a member of when it was stored (privacy), also for leaves node-2 only learns from its resync',
    'a leaver still gets every message up to its leave and a joiner every message after its join (no loss across membership changes)',
    'per-connection order holds while conversations are attached and detached under the connections',
  ],
  topology: { nodes: 3, redisBehindProxy: true, clientLinksBehindProxy: false, serverEnv: { PRESENCE_TTL_MS: 5000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: { users: 40, devicesPerUser: 2, dmsPerUser: 1, groups: 6, groupSize: 8, sendRate: 40, bodyBytes: 64, ack: 'batched' },
  membership: { changesPerSec: 4 },
  durationMs: 20_000,
  faults: [{ kind: 'cut', at: 7_000, duration: 4_000, link: 'redis-link:node-2' }],
  thresholds: ['throughput.sent.total > 300'],
  checks: { unseenWithinMs: 5000, presence: false, leaks: true },
});
