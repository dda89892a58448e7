// A scenario says what load, for how long, which faults when, and what thresholds pass
// (k6 style); the report answers those thresholds first. Faults are data, not code, so a
// run's fault timeline can be stored, shown and replayed against a fix.
import { z } from 'zod';
import { attackSchema } from '../attack/params.ts';
import { modeEndMs, workloadSchema } from '../fleet/workload.ts';
import { metricPathProblem, parseThreshold } from '../report/thresholds.ts';

const toxicSpec = z.object({
  type: z.enum(['latency', 'bandwidth', 'slow_close', 'timeout', 'reset_peer', 'slicer', 'limit_data']),
  stream: z.enum(['upstream', 'downstream']).default('downstream'),
  toxicity: z.number().min(0).max(1).default(1),
  attributes: z.record(z.string(), z.number()).default({}),
});

/** A link is `client-link:node-N` (clients → that node) or `redis-link:node-N` (that node → Redis), as on the topology's timeline. */
const linkRef = z.string().regex(/^(client|redis)-link:node-\d+$/, 'must be client-link:node-N or redis-link:node-N');
const processRef = z.string().regex(/^(node-\d+|redis)$/, 'must be node-N or redis');

export const faultStep = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('toxic'), at: z.number().nonnegative(), duration: z.number().positive(), link: linkRef, toxic: toxicSpec }),
  z.object({ kind: z.literal('cut'), at: z.number().nonnegative(), duration: z.number().positive(), link: linkRef }),
  /**
   * Clients behind client-link:node-N vanish without a FIN: every byte both ways is dropped
   * (timeout toxics with timeout 0) for `duration`. The node must have closed all of their
   * connections within `reclaimWithinMs` of the start (checked as `reclaim`).
   */
  z.object({ kind: z.literal('blackhole'), at: z.number().nonnegative(), duration: z.number().positive(), link: z.string().regex(/^client-link:node-\d+$/, 'must be client-link:node-N'), reclaimWithinMs: z.number().int().positive() }),
  z.object({ kind: z.literal('kill'), at: z.number().nonnegative(), target: processRef, restartAfter: z.number().nonnegative().optional() }),
  z.object({ kind: z.literal('restart'), at: z.number().nonnegative(), target: processRef }),
  /**
   * Redis shut down cleanly (SIGTERM: it finishes its AOF/RDB work and closes every client),
   * down for `restartAfter` ms, then started again on the same address and data dir. Unlike
   * `restart` it stays down long enough for the nodes to notice; unlike `kill` it is the
   * shutdown an operator does.
   */
  z.object({ kind: z.literal('stop'), at: z.number().nonnegative(), target: z.literal('redis', { error: "must be 'redis' (a node is stopped and started again by kind 'restart')" }), restartAfter: z.number().positive() }),
  z.object({ kind: z.literal('pause'), at: z.number().nonnegative(), duration: z.number().positive(), target: processRef }),
  /**
   * The fleet process whose devices connect to `node` is frozen (SIGSTOP) for `duration`,
   * then resumed (SIGCONT): its sockets stay open but nothing is read or written, like
   * phones that froze. With `reclaimWithinMs` the node must hold none of their connections
   * by then (checked as `reclaim`; HEARTBEAT_MS closes them 4408). Needs topology.fleetPerNode.
   */
  z.object({ kind: z.literal('fleet-pause'), at: z.number().nonnegative(), duration: z.number().positive(), node: z.string().regex(/^node-\d+$/, 'must be node-N (the node whose fleet process is frozen)'), reclaimWithinMs: z.number().int().positive().optional() }),
  /**
   * node-N's pub/sub (bus) connection alone is killed on the Redis side (CLIENT KILL of the
   * connection named imstorm-bus-node-N) while its command link stays up: what is published
   * until it re-subscribes never reaches it, and it must fill from the log. On the timeline
   * from the kill until the node is subscribed again (harness/env/bus-drop.ts).
   */
  z.object({ kind: z.literal('bus-drop'), at: z.number().nonnegative(), target: z.string().regex(/^node-\d+$/, 'must be node-N (the node whose bus connection is dropped)') }),
]);
export type FaultStep = z.infer<typeof faultStep>;

/** k6-style threshold text, e.g. "latency.sendToDelivered.p99 < 500" (metric paths: harness/report/SCHEMA.md). */
export const thresholdSchema = z.string().superRefine((spec, ctx) => {
  try {
    const problem = metricPathProblem(parseThreshold(spec).metric);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
  }
});

export const scenarioSchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string(),
  /** one line per thing this scenario proves (listed by `imstorm list` and the README) */
  proves: z.array(z.string()).min(1),
  topology: z.object({
    nodes: z.number().int().min(1).max(64),
    redisBehindProxy: z.boolean().default(true),
    /** proxy every client link (true), none (false), or this many clients per node (a sample: each proxied link costs two fds) */
    clientLinksBehindProxy: z.union([z.boolean(), z.number().int().nonnegative()]).default(true),
    serverEnv: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
    /**
     * Redis without persistence (appendonly no, no snapshots): a restart comes back empty.
     * The nodes get ALLOW_VOLATILE_STORE=1; conversations start a new epoch after a restart.
     */
    volatileRedis: z.boolean().default(false),
    /** more environment for one node, over serverEnv, e.g. { 'node-2': { TEST_BUGS: 'throw_uncaught' } } */
    nodeEnv: z.record(z.string().regex(/^node-\d+$/, 'must be node-N'), z.record(z.string(), z.union([z.string(), z.number()]))).default({}),
    /**
     * one fleet process per node, each holding the devices whose first node that is (device
     * j on node j mod nodes, as always): a `fleet-pause` step then freezes exactly one
     * node's clients
     */
    fleetPerNode: z.boolean().default(false),
  }),
  workload: workloadSchema,
  /** the run's seed when `imstorm run` is given no --seed (a saved counterexample replays its own plan) */
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  /** load phase length; faults are timed from its start */
  durationMs: z.number().int().positive(),
  faults: z.array(faultStep).default([]),
  thresholds: z.array(thresholdSchema).default([]),
  checks: z
    .object({
      /** the liveness bound for a device that stayed connected, after faults healed */
      unseenWithinMs: z.number().int().positive().default(5000),
      presence: z.boolean().default(true),
      /**
       * presence is also judged over time: a user's real state that held longer than this
       * must be what every subscriber shows (from this long after it began to 500 ms before
       * it ended, and from PRESENCE_TTL_MS + 3 s after a fault ends)
       */
      presenceSettleMs: z.number().int().positive().default(2000),
      leaks: z.boolean().default(true),
      /**
       * identical storms run one after another on the same nodes (connect, load, faults,
       * final sync, everyone leaves); with leaks on, heap after each must not keep rising
       */
      storms: z.number().int().min(1).max(10).default(1),
      /**
       * with leaks on: heap growth after GC divided by the connections each node admitted
       * (imstorm_connections_opened_total) must stay at most `maxBytes`, judged once a node
       * opened at least `minConnections` (below, the figure is only reported)
       */
      leakPerConnection: z
        .object({
          maxBytes: z.number().positive('leakPerConnection.maxBytes must be > 0 (bytes of heap a connection may leave behind, e.g. 512)'),
          minConnections: z.number().int().positive('leakPerConnection.minConnections must be a whole number > 0 (e.g. 2000: fewer connections make the figure noise)'),
        })
        .default({ maxBytes: 512, minConnections: 2000 }),
    })
    .default({ unseenWithinMs: 5000, presence: true, presenceSettleMs: 2000, leaks: true, storms: 1, leakPerConnection: { maxBytes: 512, minConnections: 2000 } }),
  /** group membership changes during the load (harness/fleet/membership-churn.ts): joins and leaves through every node in turn */
  membership: z.object({ changesPerSec: z.number().positive().max(1000) }).optional(),
  /** hostile clients attacking every node during the load (harness/attack) */
  attack: attackSchema.optional(),
  /** autocannon runs against the HTTP routes after the load phase */
  http: z.object({ durationSec: z.number().positive().max(60).default(3), connections: z.number().int().min(1).max(100).default(10) }).optional(),
});
export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;

export function defineScenario(input: ScenarioInput): Scenario {
  const r = scenarioSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid scenario "${String((input as { name?: unknown }).name)}":\n${lines.join('\n')}`);
  }
  const a = r.data.attack;
  if (a && a.at + a.durationMs > r.data.durationMs) throw new Error(`invalid scenario "${r.data.name}": attack.at (${a.at}) + attack.durationMs (${a.durationMs}) must not exceed durationMs (${r.data.durationMs}): the attack runs while the workload does`);
  checkWorkloadTiming(r.data);
  checkVolatileRedis(r.data);
  for (const f of r.data.faults) {
    const node = 'link' in f ? Number(f.link.split('-')[1]) : f.kind === 'fleet-pause' ? Number(f.node.split('-')[1]) : f.target === 'redis' ? 0 : Number(f.target.split('-')[1]);
    if (node > r.data.topology.nodes) throw new Error(`invalid scenario "${r.data.name}": fault at ${f.at} ms targets node-${node}, but the topology has ${r.data.topology.nodes} nodes`);
    if ('link' in f && f.link.startsWith('redis-link:') && !r.data.topology.redisBehindProxy) throw new Error(`invalid scenario "${r.data.name}": fault on ${f.link} needs topology.redisBehindProxy`);
    if ('link' in f && f.link.startsWith('client-link:') && r.data.topology.clientLinksBehindProxy === false) throw new Error(`invalid scenario "${r.data.name}": fault on ${f.link} needs topology.clientLinksBehindProxy`);
    if (f.kind === 'blackhole') {
      // the reclaim check counts every connection of the node: all of them must be behind the link
      if (r.data.topology.clientLinksBehindProxy !== true) throw new Error(`invalid scenario "${r.data.name}": a blackhole fault needs topology.clientLinksBehindProxy: true (every client behind the link), got ${String(r.data.topology.clientLinksBehindProxy)}`);
      if (f.reclaimWithinMs > f.duration) throw new Error(`invalid scenario "${r.data.name}": blackhole at ${f.at} ms: reclaimWithinMs (${f.reclaimWithinMs}) must not exceed its duration (${f.duration})`);
    }
    if (f.kind === 'fleet-pause') {
      if (!r.data.topology.fleetPerNode) throw new Error(`invalid scenario "${r.data.name}": a fleet-pause fault freezes the fleet process of ${f.node}'s devices: set topology.fleetPerNode: true`);
      // the reclaim check counts every connection of the node: none may move there from other processes
      if (f.reclaimWithinMs !== undefined && (r.data.workload.failover || r.data.workload.reconnect.rotate)) throw new Error(`invalid scenario "${r.data.name}": fleet-pause at ${f.at} ms with reclaimWithinMs counts every connection of ${f.node}, but workload failover/rotate moves other devices there: drop one of them`);
      if (f.reclaimWithinMs !== undefined && f.reclaimWithinMs > f.duration) throw new Error(`invalid scenario "${r.data.name}": fleet-pause at ${f.at} ms: reclaimWithinMs (${f.reclaimWithinMs}) must not exceed its duration (${f.duration})`);
    }
  }
  return r.data;
}

/** A volatile Redis forgets groups on a restart; a persistent one makes the option pointless. */
function checkVolatileRedis(s: Scenario): void {
  if (!s.topology.volatileRedis) return;
  // groups live only in Redis and the harness creates them once, before the load: after an
  // empty restart every group send would be refused `forbidden`, which is no server bug
  if (s.workload.groups > 0) throw new Error(`invalid scenario "${s.name}": topology.volatileRedis forgets every group when Redis restarts empty, but workload.groups is ${s.workload.groups}: set workload.groups to 0 (dms start over in a new epoch by themselves)`);
  if (s.membership) throw new Error(`invalid scenario "${s.name}": topology.volatileRedis forgets group membership on a restart: drop \`membership\` (it changes groups)`);
  const v = s.topology.serverEnv.ALLOW_VOLATILE_STORE;
  if (v !== undefined && String(v) !== '1') throw new Error(`invalid scenario "${s.name}": topology.volatileRedis needs the nodes to accept a Redis without appendonly: drop topology.serverEnv.ALLOW_VOLATILE_STORE (set to 1 by itself), got ${String(v)}`);
}

/** Stages and client modes are timed within the load phase: they must fit `durationMs`. */
function checkWorkloadTiming(s: Scenario): void {
  const w = s.workload;
  if (w.stages) {
    const sum = w.stages.reduce((a, st) => a + st.durationMs, 0);
    if (sum !== s.durationMs) throw new Error(`invalid scenario "${s.name}": workload.stages last ${sum} ms in all but durationMs is ${s.durationMs}: make them add up to durationMs (the stages shape the whole load phase; a --duration override scales them)`);
  }
  for (const [i, g] of (w.deviceGroups ?? []).entries()) {
    const end = modeEndMs(g.mode);
    if (end > s.durationMs) throw new Error(`invalid scenario "${s.name}": workload.deviceGroups[${i}] ("${g.name}") mode ${g.mode.kind} ends at ${end} ms, after the load (durationMs ${s.durationMs}): move it earlier or lengthen the load`);
  }
}
