import { defineScenario } from '../harness/scenario/define.ts';

/**
 * The smoke scenario: a short run that touches every guarantee once, with one fault of
 * each family. It is the README's main command (`imstorm run smoke`) and runs in CI.
 */
export default defineScenario({
  name: 'smoke',
  description: 'Three nodes, a few hundred devices in dm and group conversations for ~30 s, with a slow client link, a slow Redis link and a node restart.',
  proves: [
    'no acked message is lost across a degraded client link, a degraded node→Redis link and a node restart',
    'sends are idempotent: resends after reconnects never create a second seq, while senders reuse each other\'s cmids (numbered from 1, as real clients do)',
    'every connection sees each conversation in order, with no holes or repeats',
    'presence converges after the churn stops',
    'connection gauges, fds and heap return to baseline once every client leaves',
  ],
  topology: { nodes: 3, redisBehindProxy: true, clientLinksBehindProxy: true, serverEnv: { PRESENCE_TTL_MS: 5000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: { users: 150, devicesPerUser: 2, dmsPerUser: 1, groups: 10, groupSize: 8, sendRate: 60, bodyBytes: 128, churnRate: 1, presenceSubs: 3, ack: 'batched', cmids: 'counter' },
  durationMs: 30_000,
  faults: [
    { kind: 'toxic', at: 5_000, duration: 6_000, link: 'client-link:node-1', toxic: { type: 'latency', attributes: { latency: 150, jitter: 50 } } },
    { kind: 'toxic', at: 12_000, duration: 5_000, link: 'redis-link:node-2', toxic: { type: 'latency', attributes: { latency: 300 } } },
    { kind: 'restart', at: 20_000, target: 'node-3' },
  ],
  // p99 is set by node-3's restart: its devices' sends wait for the reconnect, counted from
  // their intended time. 0.3–0.8 s on a quiet machine; 2.0–4.0 s in 3 of 12 runs with the
  // machine's load average at 8–17, so the bound has room for a busy CI host and still
  // fails a stalled node (tens of seconds)
  thresholds: ['latency.sendToSent.p99 < 5000', 'latency.sendToDelivered.p99 < 6000', 'throughput.sent.total > 500'],
  checks: { unseenWithinMs: 5000, presence: true, leaks: true },
  http: { durationSec: 3, connections: 10 },
});
