import { defineScenario } from '../harness/scenario/define.ts';

/**
 * Three identical storms on the same nodes: a slow leak shows as heap, fds or handles
 * that keep rising from one storm to the next even though each storm ends with every
 * client gone.
 */
export default defineScenario({
  name: 'soak',
  description: 'Two nodes, three identical storms of 200 devices with churn, a slow client link and a cut Redis link; leaks compared after every storm.',
  proves: [
    'no growth across repeated identical storms: after each, connections 0, fds and active handles at baseline, heap within max(5%, 4 MiB)',
    'no Redis keys of gone connections remain',
    'no acked message is lost and order holds across a cut node→Redis link, storm after storm',
  ],
  topology: { nodes: 2, redisBehindProxy: true, clientLinksBehindProxy: true, serverEnv: { PRESENCE_TTL_MS: 5000, STORE_TIMEOUT_MS: 1000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: { users: 100, devicesPerUser: 2, dmsPerUser: 1, groups: 8, groupSize: 6, sendRate: 50, bodyBytes: 256, churnRate: 2, presenceSubs: 2, ack: 'batched' },
  // faults early in each storm, so messages stored after they healed are checked for
  // timely delivery (unseen) while their recipients are still connected
  durationMs: 15_000,
  faults: [
    { kind: 'toxic', at: 1_000, duration: 3_000, link: 'client-link:node-1', toxic: { type: 'latency', attributes: { latency: 100, jitter: 30 } } },
    { kind: 'cut', at: 4_500, duration: 2_000, link: 'redis-link:node-2' },
  ],
  thresholds: ['latency.sendToDelivered.p99 < 5000', 'throughput.sent.total > 1000'],
  checks: { unseenWithinMs: 5000, presence: true, leaks: true, storms: 3 },
});
