/**
 * The shape of `imstorm bench`'s bench.json, and how it is assembled from the step
 * scripts' own JSON reports (server-bench.ts: idle; dm-bench.ts: storm and dm;
 * fanout-bench.ts: fanout). Every ratio is imstorm ÷ raw-ws baseline of the same run,
 * oriented so that higher is worse (CPU, latency, memory, time per connect): a regression
 * gate then only ever asks "did it rise?".
 */
import type { LatencyWindow } from './bench-kit.ts';

export const STEPS = ['idle', 'storm', 'fanout', 'dm'] as const;
export type StepName = (typeof STEPS)[number];

/** one server's figures at one point of a step (null: not measured in this step) */
export interface Figures {
  p50Ms: number | null;
  p99Ms: number | null;
  /** delivered/s (fanout, dm) or connects/s (storm) */
  perSec: number | null;
  /** server CPU µs per delivery (per connect in the storm) */
  cpuMicros: number | null;
  /** imstorm: with its Redis */
  cpuMicrosWithRedis?: number | null;
  eventLoopLagP99Ms: number | null;
  heapKiBPerConnection: number | null;
  rssKiBPerConnection: number | null;
  pass?: boolean;
  /** sweeps: the share of the step the server's main thread waited for a core, % (its Redis's beside it), and the machine's CPU pressure (cpu-contention.ts); medians over the runs */
  waitedForCorePct?: number | null;
  redisWaitedForCorePct?: number | null;
  cpuPressurePct?: number | null;
  /** sweeps: p50/p99 by 5 s of intended send time, one list a run of the rate */
  latencyByWindow?: LatencyWindow[][];
}

export interface SweepPoint {
  offeredPerSec: number;
  imstorm: Figures;
  rawWs: Figures;
  ratios: Record<string, number | null>;
}

export interface StepResult {
  step: StepName;
  /** what the step held: connections, group size… */
  config: Record<string, unknown>;
  /** storm and idle: one point; fanout and dm: one per offered rate */
  points: SweepPoint[];
  /** the step's gate ratios (medians over the sweep, see sweep()), higher is worse */
  ratios: Record<string, number | null>;
  /** sweeps: the offered rates the CPU and p99 ratios are the medians of */
  ratioRates?: number[];
  /** idle: the same connections, each also watching `subscriptions` users' presence (no raw-ws twin: plain ws has no presence) */
  presence?: IdlePresence;
  /** the load generator's RSS per connection (idle: the fleet beside a raw ws client) */
  load?: { fleetRssKiB: number; rawWsClientRssKiB: number; fleetHeapKiB: number; rawWsClientHeapKiB: number } | null;
  loadavg1: number[];
  /** the step script's own JSON report */
  source: string;
}

export interface BenchResult {
  kind: 'imstorm-bench';
  version: 1;
  at: string;
  commit: string | null;
  node: string;
  machine: { cpus: number; loadavgStart: number[]; loadavgEnd: number[]; pinning: string };
  quick: boolean;
  testBugs: string | null;
  seconds: number;
  steps: StepResult[];
  /** every step's ratios, keyed `<step>.<ratio>` (what compare gates) */
  ratios: Record<string, number | null>;
  /** configKey(steps) */
  config: string;
}

/** One line of the history file (reports/bench-history.ndjson). */
export interface HistoryLine {
  at: string;
  /** the steps and their sizes, e.g. "storm:1000 dm:1000@500,2000/3s": runs compare only with the same */
  config: string;
  commit: string | null;
  quick: boolean;
  testBugs: string | null;
  loadavg1: number;
  out: string;
  ratios: Record<string, number | null>;
}

const median = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : +((v[mid - 1]! + v[mid]!) / 2).toFixed(2);
};
const r2 = (a: number | null | undefined, b: number | null | undefined): number | null => (a === null || a === undefined || b === null || b === undefined || !(b > 0) ? null : +(a / b).toFixed(2));
const empty = (): Figures => ({ p50Ms: null, p99Ms: null, perSec: null, cpuMicros: null, eventLoopLagP99Ms: null, heapKiBPerConnection: null, rssKiBPerConnection: null });

/* The step scripts' JSON, as far as it is read here. */
export interface IdlePresence {
  subscriptions: number;
  connections: number;
  heapKiBPerConnection: number;
  rssKiBPerConnection: number;
  /** beside the idle step's own figures (no subscriptions) */
  heapRatioToIdle: number | null;
  rssRatioToIdle: number | null;
  source: string;
}

interface IdleJson {
  idle: {
    connections: number;
    presenceSubs?: number;
    /** how the memory was read: after full GCs, or after V8's memory-reducing one too (older runs: full) */
    gc?: 'full' | 'reduce';
    nodes: number;
    fleetProcesses: number;
    connectPerSec: number;
    serverPerConnection: { rssKiB: number; heapKiB: number };
    clientRssAddedKiBPerConnection: number;
    clientHeapAddedKiBPerConnection: number;
    rawWsClientRssAddedKiBPerConnection: number;
    rawWsClientHeapAddedKiBPerConnection: number;
    rawWsServerPerConnection: { connections: number; heapKiB: number; rssKiB: number };
    loadavg1: number;
  };
}
interface SweepStepJson {
  target: 'raw-ws' | 'imstorm';
  warmup: boolean;
  offeredPerSec: number;
  deliveredPerSec: number;
  latencyMs: { p50: number; p99: number };
  cpuMicrosPerDelivery: { server: number; withRedis?: number };
  eventLoopLagP99Ms: number;
  loadavg1: number;
  pass: boolean;
  /** absent in step files written before they carried it */
  latencyByWindow?: LatencyWindow[];
  contention?: { waitPct: { server: number | null; redis?: number | null }; cpuPressurePct: number | null };
}
interface StormJson {
  connections: number;
  connectsPerSec: number;
  latencyMs: { p50: number; p99: number };
  cpuMicrosPerConnect: { server: number; withRedis?: number };
  eventLoopLagP99Ms: number;
  perConnection: { heapKiB: number; rssKiB: number };
  loadavg1: number;
}
interface DmJson {
  config: Record<string, unknown>;
  storm: { rawWs: StormJson; imstorm: StormJson };
  steps: SweepStepJson[];
}
interface FanoutJson {
  config: Record<string, unknown>;
  connected: Record<'raw-ws' | 'imstorm', { connectsPerSec: number; perConnection: { heapKiB: number; rssKiB: number } }>;
  steps: SweepStepJson[];
}

export function idleStep(j: IdleJson, source: string): StepResult {
  const i = j.idle;
  const im: Figures = { ...empty(), perSec: i.connectPerSec, heapKiBPerConnection: i.serverPerConnection.heapKiB, rssKiBPerConnection: i.serverPerConnection.rssKiB };
  const raw: Figures = { ...empty(), heapKiBPerConnection: i.rawWsServerPerConnection.heapKiB, rssKiBPerConnection: i.rawWsServerPerConnection.rssKiB };
  const ratios = {
    heapPerConnection: r2(im.heapKiBPerConnection, raw.heapKiBPerConnection),
    rssPerConnection: r2(im.rssKiBPerConnection, raw.rssKiBPerConnection),
    fleetRssPerConnection: r2(i.clientRssAddedKiBPerConnection, i.rawWsClientRssAddedKiBPerConnection),
  };
  return {
    step: 'idle',
    config: { connections: i.connections, conversationsEach: 5, gc: i.gc ?? 'full', nodes: i.nodes, fleetProcesses: i.fleetProcesses, rawWsServerConnections: i.rawWsServerPerConnection.connections },
    points: [{ offeredPerSec: 0, imstorm: im, rawWs: raw, ratios }],
    ratios,
    load: { fleetRssKiB: i.clientRssAddedKiBPerConnection, rawWsClientRssKiB: i.rawWsClientRssAddedKiBPerConnection, fleetHeapKiB: i.clientHeapAddedKiBPerConnection, rawWsClientHeapKiB: i.rawWsClientHeapAddedKiBPerConnection },
    loadavg1: [i.loadavg1],
    source,
  };
}

/** The idle step's twin run with presence subscriptions, set beside the idle step's figures. */
export function idlePresence(idle: StepResult, j: IdleJson, source: string): IdlePresence {
  const i = j.idle;
  if (!i.presenceSubs) throw new Error(`${source}: an idle run without presence subscriptions (presenceSubs ${String(i.presenceSubs)}) where one with them was expected`);
  const base = idle.points[0]!.imstorm;
  return {
    subscriptions: i.presenceSubs,
    connections: i.connections,
    heapKiBPerConnection: i.serverPerConnection.heapKiB,
    rssKiBPerConnection: i.serverPerConnection.rssKiB,
    heapRatioToIdle: r2(i.serverPerConnection.heapKiB, base.heapKiBPerConnection),
    rssRatioToIdle: r2(i.serverPerConnection.rssKiB, base.rssKiBPerConnection),
    source,
  };
}

export function stormStep(j: DmJson, source: string): StepResult {
  const f = (s: StormJson): Figures => ({
    p50Ms: s.latencyMs.p50,
    p99Ms: s.latencyMs.p99,
    perSec: s.connectsPerSec,
    cpuMicros: s.cpuMicrosPerConnect.server,
    ...(s.cpuMicrosPerConnect.withRedis !== undefined ? { cpuMicrosWithRedis: s.cpuMicrosPerConnect.withRedis } : {}),
    eventLoopLagP99Ms: s.eventLoopLagP99Ms,
    heapKiBPerConnection: s.perConnection.heapKiB,
    rssKiBPerConnection: s.perConnection.rssKiB,
  });
  const im = f(j.storm.imstorm);
  const raw = f(j.storm.rawWs);
  const ratios = {
    // time per connect: the baseline's connects/s over imstorm's
    timePerConnect: r2(raw.perSec, im.perSec),
    p99: r2(im.p99Ms, raw.p99Ms),
    cpuPerConnect: r2(im.cpuMicros, raw.cpuMicros),
    cpuPerConnectWithRedis: r2(im.cpuMicrosWithRedis, raw.cpuMicros),
    heapPerConnection: r2(im.heapKiBPerConnection, raw.heapKiBPerConnection),
    rssPerConnection: r2(im.rssKiBPerConnection, raw.rssKiBPerConnection),
  };
  return {
    step: 'storm',
    config: { connections: j.storm.imstorm.connections, concurrencyPerProcess: j.config['concurrency'], receiverProcesses: j.config['receiverProcesses'] },
    points: [{ offeredPerSec: 0, imstorm: im, rawWs: raw, ratios }],
    ratios,
    load: null,
    loadavg1: [j.storm.rawWs.loadavg1, j.storm.imstorm.loadavg1],
    source,
  };
}

/** a point where this share of the offered rate was delivered by the step's end counts as carried */
const CARRIED = 0.95;

/**
 * A sweep's points and the step's ratios. CPU and p99 ratios are medians over the rates
 * both servers carried (≥ 95 % of the offered rate delivered by the step's end): past
 * saturation, CPU per delivery counts a backlog's work over the few deliveries that made it,
 * and p99 the queue, which says how the machine was loaded, not what a delivery costs. With
 * no such rate, the lowest rate's. `deliveredShortfall` is over every rate.
 */
function sweep(steps: SweepStepJson[], perConnection: Partial<Record<'raw-ws' | 'imstorm', { heapKiB: number; rssKiB: number }>>): { points: SweepPoint[]; ratios: Record<string, number | null>; ratioRates: number[] } {
  const real = steps.filter((s) => !s.warmup);
  const rates = [...new Set(real.map((s) => s.offeredPerSec))].sort((a, b) => a - b);
  const points = rates.map((rate): SweepPoint => {
    const of = (t: 'raw-ws' | 'imstorm') => real.filter((s) => s.target === t && s.offeredPerSec === rate);
    const fig = (t: 'raw-ws' | 'imstorm'): Figures => {
      const xs = of(t);
      const withRedis = median(xs.map((s) => s.cpuMicrosPerDelivery.withRedis ?? null));
      return {
        p50Ms: median(xs.map((s) => s.latencyMs.p50)),
        p99Ms: median(xs.map((s) => s.latencyMs.p99)),
        perSec: median(xs.map((s) => s.deliveredPerSec)),
        cpuMicros: median(xs.map((s) => s.cpuMicrosPerDelivery.server)),
        ...(withRedis !== null ? { cpuMicrosWithRedis: withRedis } : {}),
        eventLoopLagP99Ms: median(xs.map((s) => s.eventLoopLagP99Ms)),
        heapKiBPerConnection: perConnection[t]?.heapKiB ?? null,
        rssKiBPerConnection: perConnection[t]?.rssKiB ?? null,
        pass: xs.every((s) => s.pass),
        waitedForCorePct: median(xs.map((s) => s.contention?.waitPct.server ?? null)),
        ...(t === 'imstorm' ? { redisWaitedForCorePct: median(xs.map((s) => s.contention?.waitPct.redis ?? null)) } : {}),
        cpuPressurePct: median(xs.map((s) => s.contention?.cpuPressurePct ?? null)),
        latencyByWindow: xs.map((s) => s.latencyByWindow ?? []),
      };
    };
    const im = fig('imstorm');
    const raw = fig('raw-ws');
    return {
      offeredPerSec: rate,
      imstorm: im,
      rawWs: raw,
      ratios: {
        p99: r2(im.p99Ms, raw.p99Ms),
        cpuPerDelivery: r2(im.cpuMicros, raw.cpuMicros),
        cpuPerDeliveryWithRedis: r2(im.cpuMicrosWithRedis, raw.cpuMicros),
        // delivered/s falls when the server cannot keep up: baseline over imstorm, so higher is worse
        deliveredShortfall: r2(raw.perSec, im.perSec),
      },
    };
  });
  const carried = points.filter((p) => (p.imstorm.perSec ?? 0) >= CARRIED * p.offeredPerSec && (p.rawWs.perSec ?? 0) >= CARRIED * p.offeredPerSec);
  const basis = carried.length ? carried : points.slice(0, 1);
  const med = (k: string, over: SweepPoint[] = basis) => median(over.map((p) => p.ratios[k] ?? null));
  const first = points[0];
  return {
    points,
    ratioRates: basis.map((p) => p.offeredPerSec),
    ratios: {
      p99: med('p99'),
      cpuPerDelivery: med('cpuPerDelivery'),
      cpuPerDeliveryWithRedis: med('cpuPerDeliveryWithRedis'),
      deliveredShortfall: med('deliveredShortfall', points),
      heapPerConnection: first ? r2(first.imstorm.heapKiBPerConnection, first.rawWs.heapKiBPerConnection) : null,
      rssPerConnection: first ? r2(first.imstorm.rssKiBPerConnection, first.rawWs.rssKiBPerConnection) : null,
    },
  };
}

export function dmStep(j: DmJson, source: string): StepResult {
  const { points, ratios, ratioRates } = sweep(j.steps, { 'raw-ws': j.storm.rawWs.perConnection, imstorm: j.storm.imstorm.perConnection });
  return {
    step: 'dm',
    ratioRates,
    config: { connections: j.config['connections'], pairs: Number(j.config['connections']) / 2, rates: j.config['rates'], stepSeconds: j.config['stepSeconds'], ackEveryMs: j.config['ackEveryMs'] },
    points,
    ratios,
    load: null,
    loadavg1: j.steps.filter((s) => !s.warmup).map((s) => s.loadavg1),
    source,
  };
}

export function fanoutStep(j: FanoutJson, source: string): StepResult {
  const { points, ratios, ratioRates } = sweep(j.steps, { 'raw-ws': j.connected['raw-ws'].perConnection, imstorm: j.connected.imstorm.perConnection });
  return {
    step: 'fanout',
    ratioRates,
    config: { receivers: j.config['receivers'], groupSize: j.config['groupSize'], rates: j.config['rates'], stepSeconds: j.config['stepSeconds'], ackEveryMs: j.config['ackEveryMs'] },
    points,
    ratios,
    load: null,
    loadavg1: j.steps.filter((s) => !s.warmup).map((s) => s.loadavg1),
    source,
  };
}

/** The steps and their sizes in a few words: two runs' ratios compare only when this is the same. */
export function configKey(steps: StepResult[]): string {
  return steps
    .map((s) => {
      const c = s.config;
      const n = c['connections'] ?? c['receivers'];
      const rates = Array.isArray(c['rates']) ? `@${(c['rates'] as number[]).join(',')}/${String(c['stepSeconds'])}s` : '';
      const group = c['groupSize'] ? `/g${String(c['groupSize'])}` : '';
      // RSS read after a memory-reducing GC is not comparable with RSS after full GCs alone
      const gc = c['gc'] === 'reduce' ? '/gc-reduce' : '';
      return `${s.step}:${String(n)}${group}${gc}${rates}`;
    })
    .join(' ');
}

/** `<step>.<ratio>` → value, over every step */
export function flatRatios(steps: StepResult[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const s of steps) for (const [k, v] of Object.entries(s.ratios)) out[`${s.step}.${k}`] = v;
  return out;
}
