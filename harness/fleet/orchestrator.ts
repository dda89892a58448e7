import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Fact } from '../model/facts.ts';
import type { MetricFamilyJSON } from '../live/fleet-metrics.ts';
import { LatencyRecorder } from '../measure/latency.ts';
import type { ClockEstimate } from './clock.ts';
import { ControlError, ControlServer, type AgentLink } from './control-server.ts';
import { MAX_CLIENTS_PER_PROCESS } from './limits.ts';
import type { FleetDone, FleetProgress, FleetWorkload, OrchestratorCommand, WindowCounts } from './protocol.ts';
import type { DevicePlan } from './workload.ts';

export { MAX_CLIENTS_PER_PROCESS };
export type { WindowCounts };

const FLEET_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fleet-process.ts');

/**
 * Where a fleet's agents come from. Local fleet processes and agents on other machines
 * talk to the orchestrator the same way (a control endpoint over TCP); only who starts them differs.
 */
export interface AgentPool {
  /** the agents one fleet (one storm) drives */
  acquire(): Promise<AgentLink[]>;
  /** the fleet is done with them */
  release(): Promise<void>;
  /** stop what this pool started, now */
  kill(): void;
}

/** `n` fleet processes on this machine, started for one fleet and stopped after it. */
export class LocalAgents implements AgentPool {
  private server: ControlServer | null = null;
  private readonly children: ChildProcess[] = [];

  private readonly n: number;

  constructor(n: number) {
    this.n = n;
  }

  async acquire(): Promise<AgentLink[]> {
    const token = randomBytes(24).toString('hex');
    this.server = await ControlServer.start({ host: '127.0.0.1', port: 0, token });
    let exitedEarly: (e: Error) => void = () => {};
    const early = new Promise<never>((_, reject) => (exitedEarly = reject));
    early.catch(() => {});
    for (let i = 0; i < this.n; i++) {
      const name = `local-${i}`;
      const child = spawn(process.execPath, [FLEET_ENTRY], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, IMSTORM_CONTROL_URL: this.server.url, IMSTORM_CONTROL_TOKEN: token, IMSTORM_AGENT_NAME: name },
      });
      this.children.push(child);
      child.once('exit', (code, signal) => exitedEarly(new ControlError(`fleet process ${name} exited (${signal ?? `code ${code}`}) before it connected to the control endpoint`)));
    }
    return this.server.waitForAgents(this.n, { deadlineMs: 60_000, abort: early });
  }

  async release(): Promise<void> {
    await this.server?.close();
    this.server = null;
    // they exit on bye; any that does not within 5 s is killed
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const t = setTimeout(() => {
              c.kill('SIGKILL');
              resolve();
            }, 5000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
  }

  kill(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    void this.server?.close().catch(() => {});
    this.server = null;
  }

  /** the local process that said hello as `name` (local-<i>) */
  processNamed(name: string): ChildProcess | undefined {
    const i = /^local-(\d+)$/.exec(name)?.[1];
    return i === undefined ? undefined : this.children[Number(i)];
  }

  /** the local processes (tests kill one to see a lost agent reported) */
  get processes(): readonly ChildProcess[] {
    return this.children;
  }
}

/**
 * Agents that connect from elsewhere (`imstorm agent --control URL`) to an endpoint kept for
 * the whole command: the first fleet waits for `agents` of them; later fleets (storms,
 * scenarios of a suite) use those still alive.
 */
export class RemoteAgents implements AgentPool {
  private links: AgentLink[] | null = null;

  readonly server: ControlServer;
  private readonly agents: number;
  private readonly waitMs: number;
  private readonly log: (line: string) => void;

  private constructor(server: ControlServer, agents: number, waitMs: number, log: (line: string) => void) {
    this.server = server;
    this.agents = agents;
    this.waitMs = waitMs;
    this.log = log;
  }

  static async listen(o: { host: string; port: number; token: string; agents: number; waitMs: number; log: (line: string) => void }): Promise<RemoteAgents> {
    const server = await ControlServer.start({ host: o.host, port: o.port, token: o.token, log: o.log });
    return new RemoteAgents(server, o.agents, o.waitMs, o.log);
  }

  get url(): string {
    return this.server.url;
  }

  async acquire(): Promise<AgentLink[]> {
    if (!this.links) {
      this.log(`waiting up to ${Math.round(this.waitMs / 1000)} s for ${this.agents} agent(s) on ${this.server.url}`);
      this.links = await this.server.waitForAgents(this.agents, { deadlineMs: this.waitMs, onProgress: (got, l) => this.log(`agents: ${got} of ${this.agents} connected (${l.name})`) });
      return this.links;
    }
    const alive = this.links.filter((l) => l.alive);
    if (!alive.length) throw new ControlError(`every agent is gone (${this.links.map((l) => `${l.name}: ${l.death?.reason}`).join('; ')})`);
    // clocks drift: probe again for each fleet
    for (const l of alive) await l.probeClock();
    return alive;
  }

  async release(): Promise<void> {}

  kill(): void {}

  close(reason?: string): Promise<void> {
    return this.server.close(reason);
  }
}

export interface FleetOptions {
  devices: DevicePlan[];
  urls: string[];
  /** local fleet processes (ignored with `agents`) */
  processes?: number;
  /** agents from elsewhere (RemoteAgents); default: local processes */
  agents?: AgentPool;
  localAddresses?: string[];
  /** the agents mint tokens with it; '' with `tokens` */
  jwtSecret: string;
  /** each device's token, in `devices` order (a target's --token-cmd), instead of minting */
  tokens?: readonly string[];
  workload: FleetWorkload;
  connectConcurrency?: number;
  onProgress?: (p: FleetTotals) => void;
  /** an agent died mid-run (its facts up to then are kept) */
  onAgentLost?: (a: LostAgent) => void;
  /** fleet processes count for the live /metrics view and send snapshots (harness/live) */
  liveMetrics?: boolean;
  /**
   * one local process per node (this many): process i holds the devices j ≡ i (mod nodes),
   * whose URLs are that node's, so a `fleet-pause` freezes exactly one node's clients
   */
  perNode?: number;
}

export interface FleetTotals {
  at: number;
  open: number;
  synced: number;
  counts: Record<string, number>;
  /** the worst fleet process's send→sent p99 over the last second, ms */
  sentP99: number | null;
}

export interface LostAgent {
  agent: string;
  at: number;
  reason: string;
  /** devices it held (their facts up to `at` are kept) */
  devices: number;
}

export interface AgentInfo {
  agent: string;
  host: string | undefined;
  devices: number;
  clock: ClockEstimate;
}

export interface FleetResult {
  facts: Fact[];
  /** connect (TCP + WebSocket upgrade), merged from every agent's HdrHistogram */
  connect: LatencyRecorder;
  counts: Record<string, number>;
  rssPerClient: number;
  /** RSS the devices added to their processes, per device (bytes; FleetDone.rss) */
  rssAddedPerClient: number;
  /** the same for the JS heap (heapUsed after a full GC) */
  heapAddedPerClient: number;
  /** rssAddedPerClient less the growth of V8's young generation (a per-process amount) */
  rssAddedLessYoungPerClient: number;
  processes: number;
  agents: AgentInfo[];
  /** agents that died before they were done: the run is incomplete */
  lost: LostAgent[];
  /** `<user>/<device>` → index into `agents` */
  agentOf: Map<string, number>;
}

/** Devices per agent, in proportion to capacity (equal shares for equal capacities). */
export function spreadDevices(total: number, capacities: readonly number[]): number[] {
  const sum = capacities.reduce((a, b) => a + b, 0);
  if (total > sum) throw new ControlError(`${total} devices are more than the agents can hold (${capacities.length} agent(s), ${sum} in all): start more agents or give them a larger --capacity`);
  const out: number[] = [];
  let left = total;
  let capLeft = sum;
  for (const cap of capacities) {
    const share = Math.min(cap, left, Math.ceil((left * cap) / capLeft));
    out.push(share);
    left -= share;
    capLeft -= cap;
  }
  return out;
}

/**
 * Runs a fleet on agents, coordinated over their control links. Each phase is a command sent
 * to every agent; the phase ends when every agent still alive acknowledges it. An agent
 * that dies is reported (onAgentLost, FleetResult.lost) and no longer waited for.
 */
export class Fleet {
  private links: AgentLink[] = [];
  private pool: AgentPool | null = null;
  private shares: number[] = [];
  /** each link's devices, as planned (contiguous slices, or every nth device with perNode) */
  private planned: DevicePlan[][] = [];
  private readonly progress = new Map<number, FleetProgress>();
  private readonly waiters = new Map<string, { left: Set<number>; resolve: () => void }>();
  private readonly done = new Map<number, FleetDone>();
  private readonly facts: Fact[][] = [];
  private readonly lost = new Map<number, LostAgent>();
  /** each process's latest metric families (its final ones once done) */
  private readonly metrics = new Map<number, MetricFamilyJSON[]>();
  private readonly o: FleetOptions;
  /** in-flight windows waiting for every process's counts */
  private readonly windows = new Map<string, { left: Set<number>; counts: WindowCounts; resolve: (c: WindowCounts) => void }>();

  constructor(o: FleetOptions) {
    this.o = o;
  }

  get size(): number {
    return this.links.length;
  }

  /** The local processes' pool, when this fleet started its own. */
  get localPool(): LocalAgents | null {
    return this.pool instanceof LocalAgents ? this.pool : null;
  }

  async start(): Promise<void> {
    const perNode = this.o.perNode !== undefined && this.o.perNode > 0 ? this.o.perNode : undefined;
    if (perNode && this.o.agents) throw new ControlError('topology.fleetPerNode (a fleet-pause fault freezes one local fleet process) needs local processes, not --agents');
    const n = perNode ?? Math.max(this.o.processes ?? 1, Math.ceil(this.o.devices.length / MAX_CLIENTS_PER_PROCESS));
    this.pool = this.o.agents ?? new LocalAgents(n);
    this.links = await this.pool.acquire();
    // per node: link i holds the devices j ≡ i (mod n), each on its own URL as always (device j's is on node j mod nodes)
    const perNodeIndexes = perNode ? this.links.map((_, i) => this.o.devices.map((_, j) => j).filter((j) => j % perNode === i)) : undefined;
    this.shares = perNodeIndexes ? perNodeIndexes.map((x) => x.length) : spreadDevices(this.o.devices.length, this.links.map((l) => l.capacity));
    let offset = 0;
    for (const [i, link] of this.links.entries()) {
      this.facts.push([]);
      const indexes = perNodeIndexes?.[i];
      const devices = indexes ? indexes.map((j) => this.o.devices[j]!) : this.o.devices.slice(offset, offset + this.shares[i]!);
      this.planned.push(devices);
      link.handler = {
        message: (m) => this.onMessage(i, m),
        facts: (f) => {
          const into = this.facts[i]!;
          for (const x of f) into.push(x);
        },
        dead: (reason) => this.onDeath(i, reason),
      };
      if (!link.alive) this.onDeath(i, link.death!.reason);
      link.beginPlan();
      link.send({
        type: 'init',
        index: i,
        devices,
        urls: this.o.urls,
        urlOffset: offset,
        ...(indexes ? { indexes } : {}),
        localAddresses: this.o.localAddresses ?? [],
        jwtSecret: this.o.jwtSecret,
        ...(this.o.tokens ? { tokens: indexes ? indexes.map((j) => this.o.tokens![j]!) : this.o.tokens.slice(offset, offset + this.shares[i]!) } : {}),
        workload: { bodyBytes: this.o.workload.bodyBytes, ack: this.o.workload.ack, reconnect: this.o.workload.reconnect, failover: this.o.workload.failover, cmids: this.o.workload.cmids, ...(this.o.workload.stages ? { stages: this.o.workload.stages } : {}) },
        connectConcurrency: this.o.connectConcurrency ?? 200,
        liveMetrics: this.o.liveMetrics === true,
      });
      offset += this.shares[i]!;
    }
    await this.command(null, 'init');
  }

  /** Connects every device and waits until all are synced (or gave up). */
  connect(): Promise<void> {
    return this.command({ type: 'connect' });
  }
  startLoad(): Promise<void> {
    return this.command({ type: 'load' });
  }
  stopLoad(): Promise<void> {
    return this.command({ type: 'stopLoad' });
  }
  drain(timeoutMs: number): Promise<void> {
    return this.command({ type: 'drain', timeoutMs });
  }
  /** The final sync: every device reconnects and fetches what it lacks. */
  resync(): Promise<void> {
    return this.command({ type: 'resync' });
  }

  /**
   * An in-flight window: every device connected to `node` (undefined: any node) records
   * what it has at risk (harness/model/facts.ts `window`); resolves with the fleet's counts.
   */
  window(w: { id: string; fault: string; node?: string }): Promise<WindowCounts> {
    return new Promise((resolve) => {
      const left = this.pending();
      const entry = { left, counts: { connected: 0, atRisk: 0, sends: 0, unacked: 0 }, resolve };
      if (!left.size) return resolve(entry.counts);
      this.windows.set(w.id, entry);
      for (const i of left) this.links[i]!.send({ type: 'window', ...w });
    });
  }

  private readonly frozenAt = new Map<number, number>();

  /**
   * Freezes the local fleet process of link i (SIGSTOP: its sockets stay open, nothing is read
   * or written) or resumes it (SIGCONT), then tells it how long it was frozen: its devices
   * record that as a `freeze` stall (they could not have read what the nodes sent or closed meanwhile).
   */
  freeze(i: number, frozen: boolean): void {
    const link = this.links[i];
    const c = link ? this.localPool?.processNamed(link.name) : undefined;
    if (!link || !c || c.exitCode !== null || c.signalCode !== null || c.pid === undefined) throw new Error(`fleet process ${i} is not a running local process (${this.links.length} agents)`);
    process.kill(c.pid, frozen ? 'SIGSTOP' : 'SIGCONT');
    if (frozen) return void this.frozenAt.set(i, Date.now());
    const at = this.frozenAt.get(i);
    this.frozenAt.delete(i);
    if (at !== undefined && link.alive) link.send({ type: 'frozen', at, end: Date.now() });
  }

  async finish(): Promise<FleetResult> {
    const left = this.pending();
    for (const i of left) this.links[i]!.send({ type: 'finish' });
    const deadline = Date.now() + 120_000;
    while (this.pending().size) {
      if (Date.now() > deadline) {
        for (const i of this.pending()) this.links[i]!.drop('did not finish within 120 s of `finish`');
        continue;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.pool?.release();
    const facts: Fact[] = [];
    const connect = new LatencyRecorder();
    const counts: Record<string, number> = {};
    let rss = 0;
    let added = 0;
    let heapAdded = 0;
    let young = 0;
    let clients = 0;
    for (const [i, f] of this.facts.entries()) {
      // a loop, not push(...): millions of facts are past the engine's argument limit
      for (const x of f) facts.push(x);
      const d = this.done.get(i);
      if (!d) continue;
      if (d.latencies.connect) connect.merge(d.latencies.connect);
      for (const [k, v] of Object.entries(d.counts)) counts[k] = (counts[k] ?? 0) + v;
      rss += d.rssPerClient;
      added += d.rss.atFinish - d.rss.base;
      heapAdded += d.rss.atFinishHeap - d.rss.baseHeap;
      young += d.rss.atFinishYoung - d.rss.baseYoung;
      clients += d.rss.clients;
    }
    const agentOf = new Map<string, number>();
    for (const [i, devices] of this.planned.entries()) for (const d of devices) agentOf.set(`${d.user}/${d.device}`, i);
    const per = (x: number) => (clients ? Math.round(x / clients) : 0);
    return {
      facts,
      connect,
      counts,
      rssPerClient: this.done.size ? Math.round(rss / this.done.size) : 0,
      rssAddedPerClient: per(added),
      heapAddedPerClient: per(heapAdded),
      rssAddedLessYoungPerClient: per(added - young),
      processes: this.links.length,
      agents: this.links.map((l, i) => ({ agent: l.name, host: l.host, devices: this.shares[i]!, clock: l.clock })),
      lost: [...this.lost.values()],
      agentOf,
    };
  }

  kill(): void {
    this.pool?.kill();
  }

  totals(): FleetTotals {
    const t: FleetTotals = { at: Date.now(), open: 0, synced: 0, counts: {}, sentP99: null };
    for (const p of this.progress.values()) {
      t.open += p.open;
      t.synced += p.synced;
      if (p.sentP99 !== null) t.sentP99 = Math.max(t.sentP99 ?? 0, p.sentP99);
      for (const [k, v] of Object.entries(p.counts)) t.counts[k] = (t.counts[k] ?? 0) + v;
    }
    return t;
  }

  /** Each fleet process's latest metric families (with `liveMetrics`; empty before the first progress). */
  metricSnapshots(): MetricFamilyJSON[][] {
    return [...this.metrics.values()];
  }

  /** Agents neither done nor lost. */
  private pending(): Set<number> {
    return new Set(this.links.map((_, i) => i).filter((i) => !this.done.has(i) && !this.lost.has(i)));
  }

  private command(cmd: OrchestratorCommand | null, type: string = cmd!.type): Promise<void> {
    return new Promise((resolve) => {
      const left = this.pending();
      if (!left.size) return resolve();
      this.waiters.set(type, { left, resolve });
      if (cmd) for (const i of left) this.links[i]!.send(cmd);
    });
  }

  private onMessage(i: number, m: Parameters<NonNullable<AgentLink['handler']>['message']>[0]): void {
    if (m.type === 'progress') {
      if (this.lost.has(i)) return;
      this.progress.set(i, { ...m, index: i });
      // a snapshot taken before `finish` may arrive after `done`: the final one stays
      if (m.metrics && !this.done.has(i)) this.metrics.set(i, m.metrics);
      this.o.onProgress?.(this.totals());
    } else if (m.type === 'ack') {
      this.settle(this.waiters, m.of, i);
    } else if (m.type === 'windowed') {
      const w = this.windows.get(m.id);
      if (w) for (const k of ['connected', 'atRisk', 'sends', 'unacked'] as const) w.counts[k] += m[k];
      this.settleWindow(m.id, i);
    } else if (m.type === 'done') {
      const got = this.facts[i]!.length;
      if (got !== m.facts) return this.links[i]!.drop(`said it shipped ${m.facts} facts, ${got} arrived`);
      this.done.set(i, m);
      if (m.metrics) this.metrics.set(i, m.metrics);
    }
  }

  private settle(waiters: Map<string, { left: Set<number>; resolve: () => void }>, key: string, i: number): void {
    const w = waiters.get(key);
    if (!w) return;
    w.left.delete(i);
    if (w.left.size === 0) {
      waiters.delete(key);
      w.resolve();
    }
  }

  private settleWindow(id: string, i: number): void {
    const w = this.windows.get(id);
    if (!w) return;
    w.left.delete(i);
    if (w.left.size === 0) {
      this.windows.delete(id);
      w.resolve(w.counts);
    }
  }

  private onDeath(i: number, reason: string): void {
    if (this.done.has(i) || this.lost.has(i)) return;
    const link = this.links[i]!;
    const a: LostAgent = { agent: link.name, at: link.death?.at ?? Date.now(), reason, devices: this.shares[i] ?? 0 };
    this.lost.set(i, a);
    this.progress.delete(i);
    this.o.onAgentLost?.(a);
    // nothing waits for it any more
    for (const key of [...this.waiters.keys()]) this.settle(this.waiters, key, i);
    for (const id of [...this.windows.keys()]) this.settleWindow(id, i);
  }
}
