import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fact as factSchema, type Fact } from '../model/facts.ts';
import type { MetricFamilyJSON } from '../live/fleet-metrics.ts';
import type { FleetDone, FleetMessage, FleetProgress, OrchestratorCommand, WindowCounts } from './protocol.ts';
import type { DevicePlan, Workload } from './workload.ts';

const FLEET_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fleet-process.ts');

/** Most sockets one fleet process holds: the open-file cap is 20,000 per process here. */
export const MAX_CLIENTS_PER_PROCESS = 18_000;

export interface FleetOptions {
  devices: DevicePlan[];
  urls: string[];
  processes?: number;
  localAddresses?: string[];
  jwtSecret: string;
  workload: Pick<Workload, 'bodyBytes' | 'ack' | 'reconnect' | 'failover' | 'cmids'> & Partial<Pick<Workload, 'stages'>>;
  outDir: string;
  connectConcurrency?: number;
  onProgress?: (p: FleetTotals) => void;
  /** fleet processes count for the live /metrics view and send snapshots (harness/live) */
  liveMetrics?: boolean;
  /** one process per node (this many): process i holds the devices j ≡ i (mod nodes), whose URLs are that node's (a `fleet-pause` freezes one node's clients) */
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

export interface FleetResult {
  facts: Fact[];
  latencies: Record<string, number[]>;
  counts: Record<string, number>;
  rssPerClient: number;
  /** RSS the devices added to their processes, per device (bytes; FleetDone.rss) */
  rssAddedPerClient: number;
  /** the same for the JS heap (heapUsed after a full GC) */
  heapAddedPerClient: number;
  /** rssAddedPerClient less the growth of V8's young generation (a per-process amount) */
  rssAddedLessYoungPerClient: number;
  processes: number;
}

/**
 * Runs a fleet as child processes, coordinated over IPC. Each phase is a command sent to
 * every process; the phase ends when all of them acknowledge it.
 */
export class Fleet {
  private readonly children: ChildProcess[] = [];
  private readonly progress = new Map<number, FleetProgress>();
  private readonly waiters = new Map<string, { left: Set<number>; resolve: () => void; reject: (e: Error) => void }>();
  private readonly done = new Map<number, FleetDone>();
  /** each process's latest metric families (its final ones once done) */
  private readonly metrics = new Map<number, MetricFamilyJSON[]>();
  private failed: Error | null = null;
  private readonly o: FleetOptions;
  /** in-flight windows waiting for every process's counts */
  private readonly windows = new Map<string, { left: Set<number>; counts: WindowCounts; resolve: (c: WindowCounts) => void }>();

  constructor(o: FleetOptions) {
    this.o = o;
  }

  get size(): number {
    return this.children.length;
  }

  async start(): Promise<void> {
    const perNode = this.o.perNode !== undefined && this.o.perNode > 0;
    const n = perNode ? this.o.perNode! : Math.max(this.o.processes ?? 1, Math.ceil(this.o.devices.length / MAX_CLIENTS_PER_PROCESS));
    const per = Math.ceil(this.o.devices.length / n);
    for (let i = 0; i < n; i++) {
      const child = fork(FLEET_ENTRY, [], { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
      this.children.push(child);
      child.on('message', (m: FleetMessage) => this.onMessage(m));
      child.on('exit', (code) => {
        if (code !== 0 && !this.done.has(i)) this.fail(new Error(`fleet process ${i} exited with code ${code}`));
      });
      // per node: the devices j ≡ i (mod nodes), each on its own URL as always (device j's is on node j mod nodes)
      const indexes = perNode ? this.o.devices.map((_, j) => j).filter((j) => j % n === i) : undefined;
      const devices = indexes ? indexes.map((j) => this.o.devices[j]!) : this.o.devices.slice(i * per, (i + 1) * per);
      child.send({
        type: 'init',
        index: i,
        devices,
        urls: this.o.urls,
        urlOffset: i * per,
        ...(indexes ? { indexes } : {}),
        localAddresses: this.o.localAddresses ?? [],
        jwtSecret: this.o.jwtSecret,
        workload: this.o.workload,
        factsPath: path.join(this.o.outDir, `facts-${i}.ndjson`),
        connectConcurrency: this.o.connectConcurrency ?? 200,
        liveMetrics: this.o.liveMetrics === true,
      } satisfies OrchestratorCommand);
    }
    await this.phase('init');
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
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.windows.set(w.id, { left: new Set(this.children.map((_, i) => i)), counts: { connected: 0, atRisk: 0, sends: 0, unacked: 0 }, resolve });
      for (const c of this.children) c.send({ type: 'window', ...w } satisfies OrchestratorCommand);
    });
  }

  async finish(): Promise<FleetResult> {
    for (const c of this.children) c.send({ type: 'finish' } satisfies OrchestratorCommand);
    const deadline = Date.now() + 120_000;
    while (this.done.size < this.children.length) {
      if (this.failed) throw this.failed;
      if (Date.now() > deadline) throw new Error('fleet processes did not finish within 120 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const facts: Fact[] = [];
    const latencies: Record<string, number[]> = {};
    const counts: Record<string, number> = {};
    let rss = 0;
    let added = 0;
    let heapAdded = 0;
    let young = 0;
    let clients = 0;
    for (const d of this.done.values()) {
      for (const line of readFileSync(d.factsPath, 'utf8').split('\n')) {
        if (line) facts.push(factSchema.parse(JSON.parse(line)));
      }
      for (const [k, v] of Object.entries(d.latencies)) {
        const into = (latencies[k] ??= []);
        for (const x of v) into.push(x);
      }
      for (const [k, v] of Object.entries(d.counts)) counts[k] = (counts[k] ?? 0) + v;
      rss += d.rssPerClient;
      added += d.rss.atFinish - d.rss.base;
      heapAdded += d.rss.atFinishHeap - d.rss.baseHeap;
      young += d.rss.atFinishYoung - d.rss.baseYoung;
      clients += d.rss.clients;
    }
    return { facts, latencies, counts, rssPerClient: Math.round(rss / this.done.size), rssAddedPerClient: clients ? Math.round(added / clients) : 0, heapAddedPerClient: clients ? Math.round(heapAdded / clients) : 0, rssAddedLessYoungPerClient: clients ? Math.round((added - young) / clients) : 0, processes: this.children.length };
  }

  private readonly frozenAt = new Map<number, number>();

  /**
   * Freezes fleet process i (SIGSTOP: its sockets stay open, nothing is read or written) or
   * resumes it (SIGCONT), then tells it how long it was frozen: its devices record that as a
   * `freeze` stall (they could not have read what the nodes sent or closed meanwhile).
   */
  freeze(i: number, frozen: boolean): void {
    const c = this.children[i];
    if (!c || c.exitCode !== null || c.pid === undefined) throw new Error(`fleet process ${i} is not running (${this.children.length} processes)`);
    process.kill(c.pid, frozen ? 'SIGSTOP' : 'SIGCONT');
    if (frozen) return void this.frozenAt.set(i, Date.now());
    const at = this.frozenAt.get(i);
    this.frozenAt.delete(i);
    if (at !== undefined) c.send({ type: 'frozen', at, end: Date.now() } satisfies OrchestratorCommand);
  }

  kill(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
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

  private async command(cmd: OrchestratorCommand): Promise<void> {
    const p = this.phase(cmd.type);
    for (const c of this.children) c.send(cmd);
    await p;
  }

  private phase(type: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.waiters.set(type, { left: new Set(this.children.map((_, i) => i)), resolve, reject });
    });
  }

  private onMessage(m: FleetMessage): void {
    if (m.type === 'progress') {
      this.progress.set(m.index, m);
      // a snapshot taken before `finish` may arrive after `done`: the final one stays
      if (m.metrics && !this.done.has(m.index)) this.metrics.set(m.index, m.metrics);
      this.o.onProgress?.(this.totals());
    } else if (m.type === 'ack') {
      const w = this.waiters.get(m.of);
      if (!w) return;
      w.left.delete(m.index);
      if (w.left.size === 0) {
        this.waiters.delete(m.of);
        w.resolve();
      }
    } else if (m.type === 'windowed') {
      const w = this.windows.get(m.id);
      if (!w) return;
      for (const k of ['connected', 'atRisk', 'sends', 'unacked'] as const) w.counts[k] += m[k];
      w.left.delete(m.index);
      if (w.left.size === 0) {
        this.windows.delete(m.id);
        w.resolve(w.counts);
      }
    } else if (m.type === 'done') {
      this.done.set(m.index, m);
      if (m.metrics) this.metrics.set(m.index, m.metrics);
    } else if (m.type === 'fatal') this.fail(new Error(`fleet process ${m.index} failed: ${m.message}`));
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
  }
}
