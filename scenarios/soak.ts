import { defineScenario } from '../harness/scenario/define.ts';

/**
 * Three identical storms on the same nodes: a slow leak shows as heap, fds or handles
 * that keep rising from one storm to the next even though each storm ends with every
 * client gone.
 */
/** both sizes run on the same topology */
const topology = { nodes: 2, redisBehindProxy: true, clientLinksBehindProxy: true, serverEnv: { PRESENCE_TTL_MS: 5000, STORE_TIMEOUT_MS: 1000, SEND_RATE: 200, SEND_BURST: 400 } };

export default defineScenario({
  name: 'soak',
  description: 'Two nodes, three identical storms of 200 devices with churn, a slow client link and a cut Redis link; leaks compared after every storm.',
  proves: [
    'no growth across repeated identical storms: after each, connections 0, fds and active handles at baseline, heap within max(5%, 4 MiB)',
    'no Redis keys of gone connections remain',
    'no acked message is lost and order holds across a cut node→Redis link, storm after storm',
  ],
  topology,
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

/**
 * The realistic size: ten storms of a minute each on the same nodes, every one with churn
 * (≈ 6,000 connections opened per node over the run, enough for the per-connection heap
 * figure to be judged), a slow client link, a reset client link and a cut Redis link.
 * The report charts heap, fds, handles and RSS after each storm per node.
 */
export const soakFull = defineScenario({
  name: 'soak-full',
  description: 'Two nodes, ten identical storms of 60 s with 400 devices, churn 6/s, latency and resets on client links and a cut Redis link; leaks compared after every storm and per connection opened.',
  proves: [
    'no growth across ten identical storms: after each, connections 0, fds and active handles at baseline, heap within max(5%, 4 MiB) and not rising storm after storm',
    'heap growth per connection opened at most 512 B over thousands of connections a node',
    'no Redis keys of gone connections remain',
    'no acked message is lost and order holds across faults, storm after storm',
  ],
  topology,
  workload: { users: 200, devicesPerUser: 2, dmsPerUser: 1, groups: 16, groupSize: 6, sendRate: 60, bodyBytes: 256, churnRate: 6, presenceSubs: 2, ack: 'batched' },
  durationMs: 60_000,
  // faults in the first half of each storm, so what is stored after they healed is judged
  // for timely delivery (unseen) while its recipients are still connected
  faults: [
    { kind: 'toxic', at: 5_000, duration: 5_000, link: 'client-link:node-1', toxic: { type: 'latency', attributes: { latency: 100, jitter: 30 } } },
    { kind: 'cut', at: 12_000, duration: 3_000, link: 'redis-link:node-2' },
    { kind: 'toxic', at: 20_000, duration: 1_000, link: 'client-link:node-2', toxic: { type: 'reset_peer', attributes: { timeout: 100 } } },
    { kind: 'cut', at: 28_000, duration: 2_000, link: 'client-link:node-1' },
  ],
  thresholds: ['latency.sendToDelivered.p99 < 5000', 'throughput.sent.total > 20000'],
  checks: { unseenWithinMs: 5000, presence: true, leaks: true, storms: 10, leakPerConnection: { maxBytes: 512, minConnections: 2000 } },
});
