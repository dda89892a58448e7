// A tiny scenario for the live /metrics tests: two nodes, 20 devices, steady sends and one
// toxic on client-link:node-1 from 2 s to 5 s of an 8 s load.
import { defineScenario } from '../../harness/scenario/define.ts';

export default defineScenario({
  name: 'live-tiny',
  description: 'two nodes, 10 users × 2 devices for 8 s; 100 ms latency on client-link:node-1 from 2 s to 5 s',
  proves: ['the live /metrics endpoint follows a run'],
  topology: { nodes: 2, redisBehindProxy: false, clientLinksBehindProxy: true, serverEnv: { PRESENCE_TTL_MS: 4000 } },
  workload: { users: 10, devicesPerUser: 2, dmsPerUser: 1, groups: 2, groupSize: 4, sendRate: 30, bodyBytes: 64, ack: 'batched', churnRate: 1 },
  durationMs: 8_000,
  faults: [{ kind: 'toxic', at: 2_000, duration: 3_000, link: 'client-link:node-1', toxic: { type: 'latency', attributes: { latency: 100, jitter: 10 } } }],
  checks: { unseenWithinMs: 5000, presence: false, leaks: false },
});
