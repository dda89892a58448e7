/**
 * What the bench scripts (fanout-bench.ts, dm-bench.ts) share: pinning server and load to
 * separate cores, a process's CPU time from /proc, waiting for the servers to go quiet,
 * forked children with an IPC channel, and a server's memory after a full GC (imstorm's
 * through POST /debug/gc, the raw-ws baseline's through its IPC channel).
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../env/paths.ts';
import { track } from '../env/procs.ts';
import { startRedisProcess, type RedisProcessHandle } from '../env/redis-process.ts';
import { startServerNode, type ServerNodeHandle } from '../env/server-node.ts';
import { decodeHistogram, summarize, type LatencySummary } from '../measure/latency.ts';
import { PromSnapshot } from '../measure/prometheus.ts';
import { httpCall } from '../util/http-call.ts';
import { LATENCY_WINDOW_MS, type ReceiverCommand, type ReceiverReply } from './fanout-plan.ts';
import type { StepContention } from './cpu-contention.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** connections per receiver process (both servers' counted): under the 20,000 open files a process may hold here */
export const RECEIVERS_PER_PROCESS = 16_000;

/** receiver processes for N clients (dm-bench, fanout-bench: each holds its clients for both servers), unless given */
export function receiverProcesses(connections: number, given?: number): number {
  return given ?? Math.max(1, Math.ceil((2 * connections) / RECEIVERS_PER_PROCESS));
}

/**
 * dm-bench's warm-up, in seconds: at least `flag`, and long enough that every client sends
 * once, since a dm's first message makes it (index writes, a round trip more, state the node
 * keeps for good) and a measured step must not: each of P processes sends rate / P a second,
 * round robin over its at most ⌈N / P⌉ clients. 0 stays 0 (no warm-up). `imstorm bench`
 * sizes its deadline for dm-bench with it too.
 */
export function dmWarmupSeconds(flag: number, connections: number, firstRate: number, processes: number): number {
  if (flag <= 0 || !(firstRate > 0)) return flag;
  return Math.max(flag, Math.ceil((Math.ceil(connections / processes) * processes) / firstRate));
}

/** monitorEventLoopDelay (the server's metric and the baseline's) records whole intervals of its 10 ms timer: an idle loop reads about 10.1 ms */
export const LAG_RESOLUTION_MS = 10;

/**
 * A server process's garbage-collection pauses by kind, as V8 reports them to a 'gc'
 * PerformanceObserver, every entry of each batch (imstorm: its `nodejs_gc_duration_seconds`,
 * server/observability/metrics.ts; the baseline: raw-ws-server.ts's own observer). A step reports what its servers paused for while it ran:
 * on a core the server shares with its Redis, a major collection's few tens of ms hold back
 * every delivery behind it, and the backlog takes longer still to clear, so a sweep's p99
 * is read beside these.
 */
export const GC_KINDS = ['major', 'incremental', 'minor'] as const;
export type GcPauses = Record<(typeof GC_KINDS)[number], { count: number; ms: number }>;

/** Totals since the process started, from a node's /metrics text (a kind not seen yet: 0); null when the histogram is absent. */
export function gcPausesFromMetrics(text: string): GcPauses | null {
  const snap = new PromSnapshot(text);
  if (!snap.has('nodejs_gc_duration_seconds_count') && snap.parsed.types['nodejs_gc_duration_seconds'] === undefined) return null;
  const counts = snap.byLabel('nodejs_gc_duration_seconds_count', 'kind');
  const sums = snap.byLabel('nodejs_gc_duration_seconds_sum', 'kind');
  return Object.fromEntries(GC_KINDS.map((k) => [k, { count: counts[k] ?? 0, ms: (sums[k] ?? 0) * 1000 }])) as GcPauses;
}

/**
 * `imstorm_send_holds_total` from a node's /metrics text: times a connection's send waited
 * for one of the node's MAX_SENDS_IN_FLIGHT slots (server/gateway/send-gate.ts); null when
 * the node does not export it. A step that held none ran below the bound throughout.
 */
export function sendHoldsFromMetrics(text: string): number | null {
  return new PromSnapshot(text).select('imstorm_send_holds_total')[0]?.value ?? null;
}

/** What was paused between two readings of the same process (null when either is missing). */
export function gcDelta(before: GcPauses | null, after: GcPauses | null): GcPauses | null {
  if (!before || !after) return null;
  return Object.fromEntries(GC_KINDS.map((k) => [k, { count: after[k].count - before[k].count, ms: +(after[k].ms - before[k].ms).toFixed(1) }])) as GcPauses;
}

/** `GC major 9 (142 ms), incremental 3 (27 ms), minor 160 (820 ms)` */
export function formatGc(p: GcPauses | null): string {
  if (!p) return 'GC not read';
  return `GC ${GC_KINDS.map((k) => `${k} ${p[k].count} (${Math.round(p[k].ms)} ms)`).join(', ')}`;
}

/**
 * TEST_BUGS for the imstorm node(s) a bench script starts (only `imstorm bench --test-bugs`
 * sets it, to show the CI gate fails a deliberately slowed server); unset otherwise.
 */
export const benchTestBugs = (): Record<string, string> => (process.env.BENCH_TEST_BUGS ? { TEST_BUGS: process.env.BENCH_TEST_BUGS } : {});

/**
 * The environment of an imstorm node under a bench: its per-connection send and group-ops
 * limits far above any offered rate (the bench measures the server, not its rate limiter),
 * quiet logs, a short drain.
 */
export const UNTHROTTLED_NODE_ENV = { SEND_RATE: 1_000_000, SEND_BURST: 1_000_000, GROUP_OPS_RATE: 100_000, GROUP_OPS_BURST: 100_000, LOG_LEVEL: 'warn', DRAIN_MS: 1000 } as const;

/** Writes a bench script's JSON report to `out`, or reports/<prefix>-<time>.json; logs and returns the path. */
export function writeBenchReport(prefix: string, out: string | undefined, report: unknown, log: (line: string) => void): string {
  const file = out ?? path.join(REPO_ROOT, 'reports', `${prefix}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(report, null, 2));
  log(`report: ${path.relative(process.cwd(), file)}`);
  return file;
}

export interface Pinning {
  ok: boolean;
  serverCpu: string;
  loadCpus: string;
  text: string;
  pin(pid: number | undefined, cpuList: string): void;
}

/** Server (+ Redis, + the baseline) on CPU 0, load on the others, when asked and possible. */
export function pinning(mode: 'auto' | 'off'): Pinning {
  const cpus = os.availableParallelism();
  const ok = mode === 'auto' && cpus >= 2 && existsSync('/usr/bin/taskset');
  const serverCpu = '0';
  const loadCpus = cpus > 2 ? `1-${cpus - 1}` : '1';
  const text = ok ? `servers, their Redis and the baseline on CPU ${serverCpu}; load and the bench on CPU ${loadCpus} (taskset)` : mode === 'off' ? 'not pinned (--pin off)' : `not pinned (${cpus < 2 ? 'one CPU' : 'no taskset'})`;
  return {
    ok,
    serverCpu,
    loadCpus,
    text,
    pin(pid, cpuList) {
      if (!ok || pid === undefined) return;
      // taskset -a lists /proc/PID/task, then sets each thread: a thread that exits in between
      // (a starting node's short-lived threads) fails it with ESRCH, and the next listing no
      // longer has it (CI rehearsal 2026-12-02: "Command failed: taskset -a -p -c 0 28064")
      for (let attempt = 1; ; attempt++) {
        try {
          execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
          return;
        } catch (err) {
          if (attempt >= 5 || !existsSync(`/proc/${pid}`)) throw err;
        }
      }
    },
  };
}

let clkTck = 0;
/** CPU time (user + system) of a process so far, in µs. */
export function cpuMicros(pid: number): number {
  if (!clkTck) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clkTck = 100; // every Linux we run on
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / clkTck;
}

/**
 * Waits (at most maxMs) until the servers under test are quiet — together under 5 % of a
 * core over 500 ms — so a step does not pay for the backlog of the one before it.
 */
export async function settle(pids: number[], maxMs = 60_000): Promise<{ ms: number; quiet: boolean }> {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const before = pids.reduce((n, p) => n + cpuMicros(p), 0);
    await sleep(500);
    const used = pids.reduce((n, p) => n + cpuMicros(p), 0) - before;
    if (used < 0.05 * 500 * 1000) return { ms: Date.now() - t0, quiet: true };
  }
  return { ms: Date.now() - t0, quiet: false };
}

export function forkChild(file: string, env: Record<string, string>): ChildProcess {
  const child = fork(path.join(REPO_ROOT, 'harness', 'bench', file), [], { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  track(child);
  return child;
}

/** The next IPC message of `child` matching `pred`, or an error after `timeoutMs`. */
export function nextMessage<T>(child: ChildProcess, pred: (m: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const onMsg = (m: T) => {
      if (pred(m)) done(null, m);
    };
    const onExit = (code: number | null) => done(new Error(`${what}: the process exited (code ${code})`));
    const done = (err: Error | null, m?: T) => {
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    };
    child.on('message', onMsg);
    child.on('exit', onExit);
  });
}

/** Sends `cmd` to each receiver process (receivers.ts) and waits for each one's `type` answer (of the same step, for a step's command). */
export const askAll = <T extends ReceiverReply>(procs: ChildProcess[], cmd: ReceiverCommand, type: T['type'], timeoutMs: number): Promise<T[]> =>
  Promise.all(
    procs.map((p) => {
      const answer = nextMessage<ReceiverReply>(p, (m) => m.type === type && (!('step' in cmd) || (m as { step?: number }).step === cmd.step), timeoutMs, `receiver process ${p.pid} (${cmd.type})`);
      p.send(cmd);
      return answer as Promise<T>;
    }),
  );

export interface ServerMemory {
  rss: number;
  heapUsed: number;
}

/** An imstorm node's RSS and heap after a full GC (needs DEBUG_ROUTES=1 on the node). */
export async function nodeMemory(node: ServerNodeHandle): Promise<ServerMemory> {
  const gc = JSON.parse((await httpCall(`${node.adminUrl}/debug/gc`, { method: 'POST', timeoutMs: 30_000 })).text) as { heapUsed: number };
  const st = JSON.parse((await httpCall(`${node.adminUrl}/debug/state`, { timeoutMs: 30_000 })).text) as { memory: NodeJS.MemoryUsage };
  return { rss: st.memory.rss, heapUsed: gc.heapUsed };
}

/** The raw-ws baseline's RSS and heap after a full GC, then with `reduce` V8's memory-reducing one (its IPC `memory` command). */
export async function baselineMemory(baseline: ChildProcess, reduce = false): Promise<ServerMemory> {
  const answer = nextMessage<{ type: string } & ServerMemory>(baseline, (m) => m.type === 'memory', 30_000, 'raw-ws baseline (memory)');
  baseline.send({ type: 'memory', reduce });
  const m = await answer;
  return { rss: m.rss, heapUsed: m.heapUsed };
}

/** KiB per connection between two memory readings (2 decimals). */
export function perConnectionKiB(before: ServerMemory, after: ServerMemory, connections: number): { heapKiB: number; rssKiB: number } {
  const kib = (b: number) => +(b / connections / 1024).toFixed(2);
  return { heapKiB: kib(after.heapUsed - before.heapUsed), rssKiB: kib(after.rss - before.rss) };
}

/** a / b to 2 decimals, null where b is 0 (no ratio to a zero baseline) or either is missing */
export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a === null || a === undefined || b === null || b === undefined || !(b > 0) ? null : +(a / b).toFixed(2));

/** The receiver processes' latency histograms (encoded; '' from a process that recorded none) as one summary. */
export function mergeHistograms(encoded: string[]): LatencySummary {
  const parts = encoded.filter(Boolean);
  const hist = decodeHistogram(parts[0] ?? '');
  for (const e of parts.slice(1)) hist.add(decodeHistogram(e));
  return summarize(hist);
}

/** A step's latency over the messages meant to leave in one LATENCY_WINDOW_MS window (fanout-plan.ts). */
export interface LatencyWindow {
  /** the window's start, seconds after the step's first intended send (the first and last windows may be partial) */
  fromS: number;
  messages: number;
  p50Ms: number;
  p99Ms: number;
}

/** The receiver processes' windows (stats `windows`) merged, in time order, for the step that began at `t0`. */
export function latencyWindows(perProcess: Array<Array<[number, string]>>, t0: number): LatencyWindow[] {
  const byKey = new Map<number, string[]>();
  for (const windows of perProcess) for (const [k, h] of windows) byKey.set(k, [...(byKey.get(k) ?? []), h]);
  return [...byKey.keys()]
    .sort((a, b) => a - b)
    .map((k) => {
      const sum = mergeHistograms(byKey.get(k)!);
      return { fromS: +(Math.max(0, k * LATENCY_WINDOW_MS - t0) / 1000).toFixed(1), messages: sum.count, p50Ms: sum.percentiles.p50, p99Ms: sum.percentiles.p99 };
    });
}

/** `p50/p99 by 5 s of send time: 3/40, 4/52, 900/2400 ms` for a step line */
export function formatWindows(ws: LatencyWindow[]): string {
  return `p50/p99 by ${LATENCY_WINDOW_MS / 1000} s of send time: ${windowPairs(ws)} ms`;
}

/** `20/71.2, 19.5/139, …`: each window's p50/p99 in ms (whole ms from 100 on); the step lines and bench.html */
export function windowPairs(ws: LatencyWindow[]): string {
  const ms = (x: number) => (x >= 100 ? Math.round(x) : +x.toFixed(1));
  return ws.map((w) => `${ms(w.p50Ms)}/${ms(w.p99Ms)}`).join(', ');
}

/** One sweep step of a bench target (fanout-bench.ts, dm-bench.ts): what the step JSON holds. */
export interface SweepStep<Name extends string = string> {
  target: Name;
  step: number;
  warmup: boolean;
  offeredPerSec: number;
  messages: number;
  sendsAnswered: { sent: number; errors: Record<string, number> };
  deliveredPerSec: number;
  /** deliveries received by the end of the wait / deliveries owed (sends answered `sent` × group size) */
  deliveredShare: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** the same by window of intended send time: a p50 that climbs window after window says the step fell behind its rate */
  latencyByWindow: LatencyWindow[];
  /** who waited for a core over the step, and second by second (cpu-contention.ts): a starved step measures the machine as much as the server */
  contention: StepContention;
  cpuMicrosPerDelivery: { server: number; withRedis?: number };
  /** dm-bench.ts: what the receiver processes (the load generator, on the other CPU) used, per delivery; the load CPUs' share of what they could give */
  loadCpu?: { microsPerDelivery: number; shareOfLoadCpus: number };
  /** event-loop delay p99 as monitorEventLoopDelay reads it (whole 10 ms timer intervals) */
  eventLoopDelayP99Ms: number;
  /** the same less the 10 ms interval: how late the loop was */
  eventLoopLagP99Ms: number;
  /** the server process's GC pauses from just before the step to the end of its wait for stragglers (null: not read) */
  gcPauses: GcPauses | null;
  /** dm-bench.ts, an imstorm node: times it held a connection's send for a MAX_SENDS_IN_FLIGHT slot over the same span (null: not read; absent for raw-ws) */
  sendHolds?: number | null;
  acksSent: number;
  /** how long the servers took to go quiet before the step (false: they did not within SETTLE_MAX_MS) */
  settled: { ms: number; quiet: boolean };
  /** the machine's 1-minute load average at the start (it is shared with other work) */
  loadavg1: number;
  pass: boolean;
}

/** The flags of a sweep (fanout-bench.ts, dm-bench.ts): step lengths, receiver processes, pinning, Redis's fsync, the report file. */
export const SWEEP_FLAGS = {
  'step-seconds': z.coerce.number().int().min(2).max(120),
  'grace-seconds': z.coerce.number().int().min(1).max(60),
  'warmup-seconds': z.coerce.number().int().min(0).max(60),
  'receiver-processes': z.coerce.number().int().min(1).max(8).optional(),
  pin: z.enum(['auto', 'off']),
  'redis-fsync': z.enum(['always', 'everysec', 'no']),
  out: z.string().optional(),
};

/** SWEEP_FLAGS as parseArgs options, with their defaults. */
export const SWEEP_OPTIONS = {
  'step-seconds': { type: 'string', default: '10' },
  'grace-seconds': { type: 'string', default: '5' },
  'warmup-seconds': { type: 'string', default: '3' },
  'receiver-processes': { type: 'string' },
  pin: { type: 'string', default: 'auto' },
  'redis-fsync': { type: 'string', default: 'everysec' },
  out: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

/**
 * A bench script's flags (process.argv), validated by its schema; a bad flag or value ends
 * the script with exit 2, the flag named and the usage after it.
 */
export function benchArgs<S extends z.ZodType>(label: string, usage: string, options: ParseArgsOptionsConfig, schema: S): z.output<S> {
  let values: unknown;
  try {
    ({ values } = parseArgs({ options, strict: true }));
  } catch (err) {
    process.stderr.write(`${label}: ${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    process.stderr.write(`${label}: --${String(i.path[0])}: ${i.message}\n${usage}\n`);
    process.exit(2);
  }
  return parsed.data;
}

/** A server a bench step drives (the raw-ws baseline, an imstorm node). */
export interface BenchTarget<Name extends string = string> {
  name: Name;
  wsUrl: string;
  /** the processes whose CPU is the server's */
  pids: { server: number; redis?: number };
  /** event-loop delay p99 (ms) since the last call */
  lagP99Ms(): Promise<number>;
  /** the server process's GC pauses since it started (null: not read) */
  gcPauses(): Promise<GcPauses | null>;
  /** an imstorm node: imstorm_send_holds_total since it started (null: not read) */
  sendHolds?(): Promise<number | null>;
  /** RSS and heap after a full GC */
  memory(): Promise<ServerMemory>;
}

/** The raw-ws baseline (raw-ws-server.ts, a child process listening on `port`) as a bench target. */
export function rawWsTarget(baseline: ChildProcess, port: number): BenchTarget<'raw-ws'> {
  return {
    name: 'raw-ws',
    wsUrl: `ws://127.0.0.1:${port}/`,
    pids: { server: baseline.pid! },
    async lagP99Ms() {
      const answer = nextMessage<{ type: string; p99Ms: number }>(baseline, (m) => m.type === 'lag', 10_000, 'raw-ws baseline (lag)');
      baseline.send({ type: 'lag' });
      return (await answer).p99Ms;
    },
    async gcPauses() {
      const answer = nextMessage<{ type: string; pauses: GcPauses }>(baseline, (m) => m.type === 'gc', 10_000, 'raw-ws baseline (gc)');
      baseline.send({ type: 'gc' });
      return (await answer).pauses;
    },
    memory: () => baselineMemory(baseline),
  };
}

/**
 * An imstorm node as a bench target: its own Redis's pid for the CPU with Redis; loop lag and
 * GC pauses from its /metrics. A saturated node may not answer in time: the step then
 * reports no figure (NaN, null) rather than stopping the bench.
 */
export function imstormTarget<Name extends string>(name: Name, node: ServerNodeHandle, redisPid: number, log: (line: string) => void): BenchTarget<Name> {
  const metrics = async (what: string): Promise<string | null> => {
    const res = await httpCall(`${node.adminUrl}/metrics`, { timeoutMs: 30_000, ...(node.metricsToken ? { token: node.metricsToken } : {}) }).catch((err: Error) => {
      log(`${name} /metrics: ${err.message}; no ${what} for this step`);
      return null;
    });
    return res?.text ?? null;
  };
  return {
    name,
    wsUrl: node.wsUrl,
    pids: { server: node.process.pid!, redis: redisPid },
    async lagP99Ms() {
      const text = await metrics('event-loop lag');
      return text === null ? NaN : (new PromSnapshot(text).select('imstorm_event_loop_lag_seconds')[0]?.value ?? NaN) * 1000;
    },
    async gcPauses() {
      const text = await metrics('GC pauses');
      return text === null ? null : gcPausesFromMetrics(text);
    },
    async sendHolds() {
      const text = await metrics('send holds');
      return text === null ? null : sendHoldsFromMetrics(text);
    },
    memory: () => nodeMemory(node),
  };
}

/**
 * What a bench script starts — imstorm nodes, each on a Redis of its own, and forked
 * children — stopped together in its `finally` (children killed, then the nodes and their
 * Redis in the reverse order of their start), whatever failed half-way.
 */
export class BenchRig {
  readonly children: ChildProcess[] = [];
  private readonly stops: (() => Promise<void>)[] = [];

  /** A Redis (appendfsync `fsync`) and an imstorm node on it, both pinned by `pin`. */
  async server(o: { nodeId: string; jwtSecret: string; fsync: 'always' | 'everysec' | 'no'; env: NonNullable<Parameters<typeof startServerNode>[0]['env']>; pin: (pid: number | undefined) => void }): Promise<{ redis: RedisProcessHandle; node: ServerNodeHandle }> {
    const redis = await startRedisProcess({ appendfsync: o.fsync });
    this.stops.push(() => redis.cleanup());
    o.pin(redis.process?.pid);
    const node = await startServerNode({ redisUrl: redis.url, jwtSecret: o.jwtSecret, nodeId: o.nodeId, env: o.env });
    this.stops.push(() => node.kill());
    o.pin(node.process.pid);
    return { redis, node };
  }

  /**
   * Runs a bench script's body: an error is printed as `label: message` (exit code 1);
   * whatever the rig started is stopped, then the process exits.
   */
  async run(label: string, body: () => Promise<void>): Promise<never> {
    let code = 0;
    try {
      await body();
    } catch (err) {
      process.stderr.write(`${label}: ${(err as Error).message}\n`);
      code = 1;
    } finally {
      await this.stop();
    }
    process.exit(code);
  }

  async stop(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    for (const stop of this.stops.reverse()) await stop();
    this.stops.length = 0;
  }
}
