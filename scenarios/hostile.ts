import { defineScenario, type ScenarioInput } from '../harness/scenario/define.ts';

/**
 * Hostile clients (issue 8) attack every node at once while a normal workload runs: transport
 * abuse, fast-check protocol frames and bad tokens, request floods from clients that stop
 * reading, group spam, metrics scrapes and HTTP fuzz (harness/attack). Other users must not
 * notice (send→sent p99, event-loop lag), nodes stay up with bounded RSS, every bad input
 * gets PROTOCOL.md's answer, refused requests write no key, every connection is reclaimed.
 * `hostile` is the full size (≥ 100k protocol frames); `hostile-ci` the size the ci suite runs.
 */
const base = {
  description: 'Two nodes, 40 users × 2 devices in dms and 4 groups while hostile clients attack both nodes at once (transport, protocol fuzz, bad tokens, floods, group spam, HTTP fuzz).',
  proves: [
    'no node exits under any attack (upgrade resets on every path, half-sent headers, slowloris, ping floods, oversized/fragmented/binary/invalid UTF-8 frames, fast-check frames, bad tokens, floods)',
    "other users' send→sent p99 and the nodes' event-loop lag stay under their thresholds; each node's RSS stays bounded",
    'every bad input gets the answer PROTOCOL.md defines (error code, close code, or 4xx JSON {code, message}) — `answers`',
    'refused group requests leave no Redis keys — `residue`; every connection is reclaimed afterwards — `leaks`',
  ],
  topology: {
    nodes: 2,
    redisBehindProxy: false,
    clientLinksBehindProxy: false,
    serverEnv: { PRESENCE_TTL_MS: 5000, SEND_RATE: 200, SEND_BURST: 400, HTTP_HEADERS_TIMEOUT_MS: 2000 },
  },
  workload: { users: 40, devicesPerUser: 2, dmsPerUser: 1, groups: 4, groupSize: 6, sendRate: 30, bodyBytes: 64, ack: 'batched', presenceSubs: 2, failover: true, reconnect: { baseMs: 100, capMs: 1000, attempts: 30 } },
  // the workload's send→sent p99 is 10–80 ms here with every attack but the request floods (on the commit before issue 8 item 2's fix the floods
  // push it to 0.7–2.7 s); 300 MiB is about twice a node's RSS under this load
  thresholds: ['latency.sendToSent.p99 < 500', 'server.*.eventLoopDelayMaxMs.max < 200', 'server.*.rssBytes.max < 314572800', 'throughput.sent.total > 300'],
  checks: { unseenWithinMs: 5000, presence: true, leaks: true },
} satisfies Omit<ScenarioInput, 'name' | 'durationMs'>;

export default defineScenario({
  ...base,
  name: 'hostile',
  durationMs: 45_000,
  attack: { at: 2_000, durationMs: 40_000, protocolFrames: 55_000, fuzzSessions: 16, notHello: 200, tokenRounds: 3, resetRounds: 100, idleSockets: 10, frameRounds: 5, historyClients: 2, historyRequests: 600, presenceClients: 1, presenceRequests: 100, metricsScrapes: 200, groupRounds: 5, httpFuzz: 2000, bigBodies: 3 },
});

/** The same at the size the ci suite runs (a few seconds of attack). */
export const hostileCi = defineScenario({
  ...base,
  name: 'hostile-ci',
  durationMs: 20_000,
  attack: { at: 2_000, durationMs: 15_000, protocolFrames: 5_000, fuzzSessions: 2, notHello: 30, tokenRounds: 1, resetRounds: 10, idleSockets: 3, frameRounds: 1, historyClients: 1, historyRequests: 200, presenceClients: 1, presenceRequests: 20, metricsScrapes: 30, groupRounds: 2, httpFuzz: 300, bigBodies: 1 },
});
