// An incident to replay (README "Replaying an incident"): two nodes built with a deliberate
// bug (TEST_BUGS=skip_gap_fill: after its bus connection drops, a node fills the holes from
// the log with nothing and announces them as trimmed), node-2's bus connection dropped at
// 2 s. Every node captures what it sees into reports/captures/incident-bus-drop/.
//   npx imstorm run ./examples/incident-bus-drop.ts
import path from 'node:path';
import { defineScenario } from 'imstorm';

export const CAPTURE_DIR = path.join(import.meta.dirname, '..', 'reports', 'captures', 'incident-bus-drop');

export default defineScenario({
  name: 'incident-bus-drop',
  description: 'Two nodes (TEST_BUGS=skip_gap_fill), 16 users in dms and 3 groups for 6 s; node-2 loses its bus connection at 2 s. Captured.',
  proves: ['nothing acked is lost when a node loses its bus connection (it does not, on this build: the incident)'],
  topology: { nodes: 2, serverEnv: { TEST_BUGS: 'skip_gap_fill', CAPTURE_DIR, CAPTURE_SAMPLE: 1, STORE_TIMEOUT_MS: 1000 } },
  workload: { users: 16, devicesPerUser: 1, dmsPerUser: 1, groups: 3, groupSize: 6, sendRate: 60, bodyBytes: 64, ack: 'batched' },
  durationMs: 6_000,
  faults: [{ kind: 'bus-drop', at: 2_000, target: 'node-2' }],
  checks: { presence: false, leaks: false },
});
