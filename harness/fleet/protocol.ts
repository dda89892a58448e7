// The control protocol between the orchestrator and its fleet agents (never through the
// Redis under test). One WebSocket per agent, opened by the agent to the orchestrator's
// control endpoint (control-server.ts) with `Authorization: Bearer <token>`; local
// `--processes` children connect to it the same way as an agent on another machine.
//
// Text frames are JSON, validated with zod on receipt at both ends (a bad frame closes
// the link with 1008 and says which field). Binary frames carry facts, agent → orchestrator
// only: a 4-byte big-endian batch number, then the gzip of NDJSON facts (fact-stream.ts).
import { z } from 'zod';
import type { MetricFamilyJSON } from '../live/fleet-metrics.ts';
import { ackModeSchema, bodySizeSchema, clientModeSchema, stageSchema, type DevicePlan, type Workload } from './workload.ts';
import { recordedStep } from './recorded.ts';

/** Bumped on any incompatible change: an agent of another version is refused at hello. */
export const CONTROL_PROTOCOL_VERSION = 1;

/** Most bytes of one control frame (a plan of 18,000 devices is ~4 MiB of JSON). */
export const MAX_CONTROL_FRAME_BYTES = 64 * 2 ** 20;

const devicePlan = z.object({
  user: z.string().min(1),
  device: z.string().min(1),
  convs: z.array(z.string()),
  sendRate: z.number().nonnegative(),
  churnRate: z.number().nonnegative(),
  replaceRate: z.number().nonnegative().optional(),
  presenceSubs: z.array(z.string()),
  seed: z.number().int(),
  tag: z.string().optional(),
  livenessMs: z.number().int().positive().optional(),
  group: z.string().optional(),
  ack: ackModeSchema.optional(),
  body: bodySizeSchema.optional(),
  mode: clientModeSchema.optional(),
  node: z.number().int().min(1).optional(),
  script: z.array(recordedStep).optional(),
}) satisfies z.ZodType<DevicePlan>;

// Every DevicePlan field must travel: zod strips keys it does not know, so a field missing
// above would silently vanish on the way to the agent (a recorded plan's `script` once did:
// replayed devices sent nothing). This line stops compiling when one is missing.
type UntravelledPlanFields = Exclude<keyof DevicePlan, keyof z.infer<typeof devicePlan>>;
const everyPlanFieldTravels: [UntravelledPlanFields] extends [never] ? true : UntravelledPlanFields = true;
void everyPlanFieldTravels;

const fleetWorkload = z.object({
  bodyBytes: z.number().int().positive(),
  ack: z.enum(['immediate', 'batched', 'never']),
  reconnect: z.object({ baseMs: z.number().int().min(1), capMs: z.number().int().min(1), attempts: z.number().int().min(1), rotate: z.boolean() }),
  failover: z.boolean(),
  cmids: z.enum(['unique', 'counter']),
  stages: z.array(stageSchema).optional(),
});
export type FleetWorkload = Pick<Workload, 'bodyBytes' | 'ack' | 'reconnect' | 'failover' | 'cmids'> & Partial<Pick<Workload, 'stages'>>;

/** The plan of one agent: its devices and how to reach the servers. */
export const fleetInit = z.object({
  type: z.literal('init'),
  index: z.number().int().nonnegative(),
  devices: z.array(devicePlan),
  /** WebSocket URLs; device i of this agent uses urls[(offset + i) % urls.length] */
  urls: z.array(z.string().regex(/^wss?:\/\//, 'a ws:// or wss:// URL')).min(1),
  urlOffset: z.number().int().nonnegative(),
  /** each device's index in the whole fleet, when this agent's devices are not contiguous (Fleet option perNode): device i uses urls[indexes[i] % urls.length] */
  indexes: z.array(z.number().int().nonnegative()).optional(),
  /** source addresses to spread connections over (127.0.0.2, …); empty = the default */
  localAddresses: z.array(z.string()),
  /** HS256 secret the agent mints its devices' tokens with; empty when `tokens` are given */
  jwtSecret: z.string(),
  /** each device's token, in `devices` order (a target's --token-cmd printed them): used instead of minting */
  tokens: z.array(z.string().min(1)).optional(),
  workload: fleetWorkload,
  /** concurrent connects in flight (paces connect storms) */
  connectConcurrency: z.number().int().positive(),
  /** the run serves /metrics: count for it and send a snapshot with every progress (harness/live) */
  liveMetrics: z.boolean().optional(),
});
export type FleetInit = z.infer<typeof fleetInit>;

export const orchestratorCommand = z.discriminatedUnion('type', [
  fleetInit,
  z.object({ type: z.literal('connect') }),
  z.object({ type: z.literal('load') }),
  z.object({ type: z.literal('stopLoad') }),
  z.object({ type: z.literal('drain'), timeoutMs: z.number().int().nonnegative() }),
  z.object({ type: z.literal('resync') }),
  /** stop the devices and send `done`; the agent then waits for its next plan */
  z.object({ type: z.literal('finish') }),
  /** an in-flight window: every device connected to `node` (undefined: any) records what it has at risk */
  z.object({ type: z.literal('window'), id: z.string(), fault: z.string(), node: z.string().optional() }),
  /** this agent's process was frozen (fault step fleet-pause) from `at` to `end`: every device records a `freeze` stall (no ack) */
  z.object({ type: z.literal('frozen'), at: z.number(), end: z.number() }),
]);
export type OrchestratorCommand = z.infer<typeof orchestratorCommand>;

/** What the orchestrator sends an agent besides commands. */
export const controlFrame = z.discriminatedUnion('type', [
  ...orchestratorCommand.options,
  /** answer to hello: the agent's slot in this run */
  z.object({ type: z.literal('welcome'), agent: z.string() }),
  /** clock probe: the agent answers `pong` with its own clock at once */
  z.object({ type: z.literal('ping'), id: z.number().int() }),
  /** facts batch `seq` written: one more batch may be in flight (backpressure) */
  z.object({ type: z.literal('factsAck'), seq: z.number().int().nonnegative() }),
  /** the run is over: exit 0 */
  z.object({ type: z.literal('bye'), reason: z.string() }),
]);
export type ControlFrame = z.infer<typeof controlFrame>;

/** A fleet process's share of an in-flight window. */
const windowCounts = z.object({
  /** devices connected to the window's node */
  connected: z.number().int().nonnegative(),
  /** of them, devices with something at risk */
  atRisk: z.number().int().nonnegative(),
  /** sends written and not answered */
  sends: z.number().int().nonnegative(),
  /** messages held above the last ack written */
  unacked: z.number().int().nonnegative(),
});
export type WindowCounts = z.infer<typeof windowCounts>;

const metricFamilies = z.array(
  z.object({
    name: z.string(),
    help: z.string(),
    type: z.string(),
    aggregator: z.string(),
    values: z.array(z.object({ value: z.number(), labels: z.record(z.string(), z.union([z.string(), z.number()])), metricName: z.string().optional() })),
  }),
) satisfies z.ZodType<MetricFamilyJSON[]>;

const counts = z.record(z.string(), z.number());

/** HdrHistogram snapshots (harness/measure/latency.ts LatencySnapshot), mergeable across agents. */
const latencySnapshot = z.object({
  v: z.literal(1),
  unit: z.literal('us'),
  windowMs: z.number().positive(),
  total: z.string(),
  windows: z.array(z.tuple([z.number(), z.string()])),
  invalid: z.number().int().nonnegative(),
});

export const fleetProgress = z.object({
  type: z.literal('progress'),
  at: z.number(),
  open: z.number().int().nonnegative(),
  synced: z.number().int().nonnegative(),
  counts,
  /** p99 of send→sent over the last second, ms (null when nothing was answered) */
  sentP99: z.number().nullable(),
  /** with liveMetrics: this process's metric families (cumulative) */
  metrics: metricFamilies.optional(),
});
export type FleetProgress = z.infer<typeof fleetProgress> & { index: number };

export const fleetDone = z.object({
  type: z.literal('done'),
  /** facts shipped in all (binary frames) for this plan: the orchestrator checks it got them all */
  facts: z.number().int().nonnegative(),
  /** live-recorded latencies facts cannot give (connect), as HdrHistogram snapshots */
  latencies: z.object({ connect: latencySnapshot.optional() }),
  counts,
  /** harness memory per simulated client (bytes of RSS) */
  rssPerClient: z.number().nonnegative(),
  /**
   * The process's RSS before its devices existed and when `finish` arrived (devices still
   * connected), each after a full GC, bytes: their difference is what the devices hold, without the runtime's own
   * RSS that rssPerClient spreads over them. The same for the JS heap (heapUsed) and for
   * V8's young generation (util/gc.ts youngGenerationBytes).
   */
  rss: z.object({ base: z.number(), atFinish: z.number(), clients: z.number().int(), baseHeap: z.number(), atFinishHeap: z.number(), baseYoung: z.number(), atFinishYoung: z.number() }),
  /** with liveMetrics: the final metric families, sends never answered included */
  metrics: metricFamilies.optional(),
});
export type FleetDone = z.infer<typeof fleetDone>;

export const agentHello = z.object({
  type: z.literal('hello'),
  /** unique per run: the agent's name (host/pod and pid by default) */
  agent: z.string().min(1).max(200),
  /** most devices it will hold */
  capacity: z.number().int().positive(),
  version: z.number().int(),
  /** the agent's machine, for the report */
  host: z.string().max(200).optional(),
});
export type AgentHello = z.infer<typeof agentHello>;

export const agentMessage = z.discriminatedUnion('type', [
  agentHello,
  z.object({ type: z.literal('pong'), id: z.number().int(), now: z.number() }),
  fleetProgress,
  fleetDone,
  z.object({ type: z.literal('ack'), of: z.enum(['init', 'connect', 'load', 'stopLoad', 'drain', 'resync']) }),
  z.object({ type: z.literal('fatal'), message: z.string() }),
  windowCounts.extend({ type: z.literal('windowed'), id: z.string() }),
]);
export type AgentMessage = z.infer<typeof agentMessage>;

/** "field: message; …" from a zod error, for a close reason and a log line. */
export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(frame)'}: ${i.message}`)
    .join('; ');
}
