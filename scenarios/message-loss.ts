import { defineScenario, type FaultStep, type ScenarioInput } from '../harness/scenario/define.ts';

/**
 * Message loss: steady dm and group traffic in busy conversations (a few messages a second
 * each, cmids numbered from 1 per device) while every Toxiproxy toxic is applied in turn,
 * downstream then upstream, on node-1's client link and — at the same time — on node-2's
 * Redis link, each sweep ending with the link disabled; meanwhile node-3's Redis link is
 * slowed past STORE_TIMEOUT_MS (sends that commit but are answered `unavailable`: the retry
 * with the same cmid is what dedupe must absorb), then slowed and cut (its resync fills
 * slowly while new messages keep arriving), and the bus (pub/sub) connections of node-3
 * and node-1 alone are dropped while their command links stay up.
 *
 * Every fault step opens an in-flight window: what the devices on the node it hits had
 * written and not had answered, and held but not acked, is followed to its end (`inflight`).
 * `message-loss` is the ci size (1 s a step); `message-loss-full` the realistic one.
 */
const STORE_TIMEOUT_MS = 1000;

/** The toxics, in the order a sweep applies them, with attributes that hurt at this load. */
const TOXICS = [
  { type: 'latency', attributes: { latency: 150, jitter: 100 } },
  { type: 'bandwidth', attributes: { rate: 1 } },
  { type: 'slicer', attributes: { average_size: 8, size_variation: 4, delay: 500 } },
  { type: 'limit_data', attributes: { bytes: 2048 } },
  { type: 'timeout', attributes: { timeout: 400 } },
  { type: 'reset_peer', attributes: { timeout: 100 } },
  { type: 'slow_close', attributes: { delay: 800 } },
] as const;

/**
 * Every toxic downstream then upstream on `link`, one after another from `from` ms, each
 * for `stepMs` with `gapMs` between, then the link disabled for `stepMs`.
 */
export function toxicSweep(link: string, from: number, stepMs: number, gapMs: number): FaultStep[] {
  const steps: FaultStep[] = [];
  let at = from;
  for (const t of TOXICS) {
    for (const stream of ['downstream', 'upstream'] as const) {
      steps.push({ kind: 'toxic', at, duration: stepMs, link, toxic: { type: t.type, stream, toxicity: 1, attributes: { ...t.attributes } } });
      at += stepMs + gapMs;
    }
  }
  steps.push({ kind: 'cut', at, duration: stepMs, link });
  return steps;
}

/** node-3: Redis link slower than STORE_TIMEOUT_MS; slow and then cut (slow on after the cut heals); then bus drops, from `busDropAt`. */
function storeFaults(scale: number, busDropAt: number): FaultStep[] {
  const s = (ms: number) => Math.round(ms * scale);
  return [
    { kind: 'toxic', at: s(1_000), duration: s(2_500), link: 'redis-link:node-3', toxic: { type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: STORE_TIMEOUT_MS + 500, jitter: 0 } } },
    { kind: 'toxic', at: s(5_500), duration: s(5_000), link: 'redis-link:node-3', toxic: { type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 300, jitter: 100 } } },
    { kind: 'cut', at: s(6_500), duration: s(1_500), link: 'redis-link:node-3' },
    // after the sweeps, while traffic flows freely: what the bus loses can only come from the log
    { kind: 'bus-drop', at: busDropAt, target: 'node-3' },
    { kind: 'bus-drop', at: busDropAt + 1_000, target: 'node-1' },
  ];
}

const base = {
  description: 'Three nodes, dm and group traffic in busy conversations; every toxic both ways on node-1\'s client link and on node-2\'s Redis link, node-3\'s Redis link slowed past STORE_TIMEOUT_MS and slowed-then-cut, bus connections dropped alone.',
  proves: [
    'no acked message is lost and none is stored twice under every Toxiproxy toxic (latency+jitter, bandwidth, slicer, limit_data, timeout, reset_peer, slow_close) both ways on a client link and on a node→Redis link, and under link disable',
    'sends answered `unavailable` because the Redis link was slower than STORE_TIMEOUT_MS, though they committed, are stored once when retried with the same cmid (senders reuse each other\'s cmids: dedupe is keyed by sender too)',
    'a node whose Redis link is slow and then cut fills its holes from the log while new messages keep arriving; a node whose pub/sub connection alone drops notices and fills what the bus lost',
    'what was in flight at each fault (sends written and unanswered, pushes held but not acked) is recovered: stored once and delivered to every member, acked later or sent again (`inflight`)',
    'per-connection order holds; connected devices get every message within 5 s of the faults healing',
  ],
  topology: { nodes: 3, redisBehindProxy: true, clientLinksBehindProxy: true, serverEnv: { STORE_TIMEOUT_MS, PRESENCE_TTL_MS: 5000, SEND_RATE: 200, SEND_BURST: 400 } },
  checks: { unseenWithinMs: 5000, presence: false, leaks: true },
} satisfies Omit<ScenarioInput, 'name' | 'durationMs' | 'workload'>;

/**
 * ci size: 1 s a toxic step; both sweeps and node-3's Redis-link faults run side by side
 * (1–18.8 s), the bus drops follow (19.5 s, 20.5 s), and 5 s of quiet load let `unseen`
 * judge live delivery after the last fault healed.
 */
export default defineScenario({
  ...base,
  name: 'message-loss',
  workload: { users: 30, devicesPerUser: 2, dmsPerUser: 1, groups: 4, groupSize: 8, sendRate: 120, bodyBytes: 96, ack: 'batched', cmids: 'counter', reconnect: { baseMs: 100, capMs: 1000, attempts: 60 } },
  durationMs: 26_000,
  faults: [...toxicSweep('client-link:node-1', 1_000, 1_000, 200), ...toxicSweep('redis-link:node-2', 1_000, 1_000, 200), ...storeFaults(1, 19_500)],
  thresholds: ['throughput.sent.total > 1500', 'checks.inflight.checked > 100'],
});

/**
 * The realistic size: 2 s a toxic step, 500 ms apart (2–39.5 s), node-3's faults stretched
 * twice, bus drops at 42 and 43 s, 7 s of quiet load; 200 devices, 200 msgs/s. (At 400
 * devices and 400 msgs/s this 2-core machine saturated: send→sent p50 3.7 s, every
 * `unavailable` retried every 200 ms by the simulated clients.)
 */
export const messageLossFull = defineScenario({
  ...base,
  name: 'message-loss-full',
  workload: { users: 100, devicesPerUser: 2, dmsPerUser: 1, groups: 12, groupSize: 10, sendRate: 200, bodyBytes: 256, ack: 'batched', cmids: 'counter', reconnect: { baseMs: 100, capMs: 2000, attempts: 60 } },
  durationMs: 50_000,
  faults: [...toxicSweep('client-link:node-1', 2_000, 2_000, 500), ...toxicSweep('redis-link:node-2', 2_000, 2_000, 500), ...storeFaults(2, 42_000)],
  thresholds: ['throughput.sent.total > 5000', 'checks.inflight.checked > 500'],
});
