// A scenario of your own, run with `npx imstorm run ./examples/cut-redis-link.ts`.
// Everything a scenario needs comes from the one public entry, 'imstorm'.
import { defineScenario } from 'imstorm';

export default defineScenario({
  name: 'cut-redis-link',
  description: 'Two nodes, 20 users in dms and 2 groups for 8 s; node-2 loses its Redis link for 2 s.',
  proves: ['no acked message is lost, duplicated or reordered while one node cannot reach Redis for a moment'],
  topology: { nodes: 2, redisBehindProxy: true, clientLinksBehindProxy: false, serverEnv: { PRESENCE_TTL_MS: 4000 } },
  workload: { users: 20, devicesPerUser: 1, dmsPerUser: 1, groups: 2, groupSize: 5, sendRate: 20, bodyBytes: 64, ack: 'batched', cmids: 'counter' },
  durationMs: 8_000,
  faults: [{ kind: 'cut', at: 3_000, duration: 2_000, link: 'redis-link:node-2' }],
  thresholds: ['throughput.sent.total > 50', 'errors.internal == 0'],
  checks: { unseenWithinMs: 5000, presence: false, leaks: false },
});
