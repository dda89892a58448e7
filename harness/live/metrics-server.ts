// A live view of a run for people who watch dashboards: `imstorm run --metrics-port N`
// serves Prometheus text at /metrics while the run goes on, like k6's Prometheus output.
// What the devices do comes from the fleet processes' snapshots (harness/live/fleet-metrics.ts),
// summed here; what only the orchestrator knows (the phase, the faults active now, which
// scenario and seed) is computed at each scrape. One server lives for a whole `imstorm run`
// (a suite's scenarios one after the other), every series labelled with its scenario.
import http from 'node:http';
import net from 'node:net';
import { AggregatorRegistry, Gauge, Registry } from 'prom-client';
import type { FaultEvent } from '../model/facts.ts';
import type { FaultStep } from '../scenario/define.ts';
import type { MetricFamilyJSON } from './fleet-metrics.ts';

/** A --metrics-port / --metrics-host problem: said with what to do, exit 2. */
export class LiveMetricsError extends Error {}

export interface LiveMetricsOptions {
  port: number;
  host: string;
}

/**
 * Reads --metrics-port, --metrics-host and IMSTORM_METRICS_PORT (the flag wins): null when
 * neither asks for the endpoint. Throws LiveMetricsError naming the flag or variable and the fix.
 */
export function liveMetricsOptions(flags: { port?: string; host?: string }, env: NodeJS.ProcessEnv = process.env): LiveMetricsOptions | null {
  const fromEnv = env.IMSTORM_METRICS_PORT?.trim();
  const raw = flags.port ?? (fromEnv ? fromEnv : undefined);
  const source = flags.port !== undefined ? '--metrics-port' : 'IMSTORM_METRICS_PORT';
  if (raw === undefined) {
    if (flags.host !== undefined) throw new LiveMetricsError('--metrics-host needs --metrics-port N (or IMSTORM_METRICS_PORT): the endpoint is off by default');
    return null;
  }
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new LiveMetricsError(`${source} must be a whole number 0..65535 (0 lets the system pick a free port), got "${raw}"`);
  const host = flags.host ?? '127.0.0.1';
  if (!host || (!net.isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host))) throw new LiveMetricsError(`--metrics-host must be an IP address or a host name (default 127.0.0.1; 0.0.0.0 for every interface), got "${host}"`);
  return { port: Number(raw), host };
}

/** What the server reads of the scenario running now; functions, since all of it changes as the run goes. */
export interface LiveScenario {
  scenario: string;
  seed: number;
  env: string;
  devices: number;
  nodes: number;
  faults: readonly FaultStep[];
  /** the run's phase as its progress line says it */
  phase: () => string;
  /** the topology's fault timeline (empty before the topology is up) */
  timeline: () => readonly FaultEvent[];
  /** when the current storm's load started (0 before) */
  loadStartAt: () => number;
}

/** A fleet whose processes send metric snapshots (harness/fleet/orchestrator.ts). */
export interface LiveFleet {
  metricSnapshots(): MetricFamilyJSON[][];
}

/** What runScenario calls; a no-op when the run serves no endpoint. */
export interface LiveRun {
  beginScenario(s: LiveScenario): void;
  attachFleet(f: LiveFleet): void;
  /** the fleet finished (or is being torn down): its final counts stay, its gauges go */
  detachFleet(f: LiveFleet): void;
  endScenario(): void;
}

interface FaultState {
  labels: Record<string, string>;
  value: number;
}

interface ScenarioState {
  s: LiveScenario;
  /** phases seen, in order; the last is current */
  phases: string[];
  /** once ended: the fault gauges frozen (0) and the phase `done` */
  ended: boolean;
}

/** The Prometheus endpoint of one `imstorm run`. */
export class LiveMetricsServer implements LiveRun {
  readonly url: string;
  private readonly server: http.Server;
  private readonly own = new Registry();
  private readonly scenarios: ScenarioState[] = [];
  /** counters and histograms of fleets that finished, labelled with their scenario */
  private readonly finished: MetricFamilyJSON[][] = [];
  private fleet: LiveFleet | null = null;

  private constructor(server: http.Server, url: string) {
    this.server = server;
    this.url = url;
    const self = this;
    new Gauge({
      name: 'imstorm_run_info',
      help: 'the scenario running (or run) and how: always 1',
      labelNames: ['scenario', 'seed', 'env', 'devices', 'nodes'],
      registers: [this.own],
      collect() {
        this.reset();
        for (const { s } of self.scenarios) this.set({ scenario: s.scenario, seed: String(s.seed), env: s.env, devices: String(s.devices), nodes: String(s.nodes) }, 1);
      },
    });
    new Gauge({
      name: 'imstorm_phase',
      help: 'the phase a scenario is in: 1 for the current one, 0 for those it left (connecting, load, draining, final sync, …, done)',
      labelNames: ['scenario', 'phase'],
      registers: [this.own],
      collect() {
        this.reset();
        for (const st of self.scenarios) {
          self.notePhase(st);
          st.phases.forEach((phase, i) => this.set({ scenario: st.s.scenario, phase }, i === st.phases.length - 1 ? 1 : 0));
        }
      },
    });
    new Gauge({
      name: 'imstorm_fault_active',
      help: "one series per fault step of the scenario: 1 while the fault is applied (from the topology's fault timeline), else 0",
      labelNames: ['scenario', 'step', 'kind', 'link', 'target', 'toxic', 'at_ms'],
      registers: [this.own],
      collect() {
        this.reset();
        const now = Date.now();
        for (const st of self.scenarios) for (const f of faultStates(st, now)) this.set(f.labels, f.value);
      },
    });
    new Gauge({
      name: 'imstorm_load_elapsed_seconds',
      help: "time since the current storm's load started (0 before it and after the scenario ended)",
      labelNames: ['scenario'],
      registers: [this.own],
      collect() {
        this.reset();
        for (const st of self.scenarios) {
          const at = st.ended ? 0 : st.s.loadStartAt();
          this.set({ scenario: st.s.scenario }, at ? (Date.now() - at) / 1000 : 0);
        }
      },
    });
  }

  /** Listens on host:port (0: a free port); throws LiveMetricsError when it cannot, saying how to pick another. */
  static async start(o: LiveMetricsOptions): Promise<LiveMetricsServer> {
    let instance: LiveMetricsServer | null = null;
    const server = http.createServer((req, res) => {
      if (!instance) return void res.writeHead(503).end();
      void instance.handle(req, res);
    });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, o)));
      server.listen(o.port, o.host, () => resolve());
    });
    const addr = server.address() as net.AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    instance = new LiveMetricsServer(server, `http://${host}:${addr.port}/metrics`);
    return instance;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  beginScenario(s: LiveScenario): void {
    // a suite may run one scenario twice: the later run's series replace the earlier's
    const again = this.scenarios.findIndex((x) => x.s.scenario === s.scenario);
    if (again >= 0) this.scenarios.splice(again, 1);
    this.scenarios.push({ s, phases: [], ended: false });
  }

  attachFleet(f: LiveFleet): void {
    this.fleet = f;
  }

  detachFleet(f: LiveFleet): void {
    if (this.fleet !== f) return;
    this.fleet = null;
    const scenario = this.current()?.s.scenario ?? '';
    // gauges describe a fleet that is gone; counters and histograms keep counting up across storms
    for (const families of f.metricSnapshots()) this.finished.push(labelled(families.filter((m) => m.type !== 'gauge'), scenario));
  }

  endScenario(): void {
    const st = this.current();
    if (this.fleet) this.detachFleet(this.fleet);
    if (!st) return;
    this.notePhase(st);
    st.ended = true;
    st.phases = st.phases.filter((p) => p !== 'done').concat('done');
  }

  /** The exposition text (what GET /metrics answers). */
  async text(): Promise<string> {
    const st = this.current();
    const live = this.fleet && st && !st.ended ? this.fleet.metricSnapshots().map((fam) => labelled(fam, st.s.scenario)) : [];
    const fleet = AggregatorRegistry.aggregate([...this.finished, ...live]);
    return (await fleet.metrics()) + (await this.own.metrics());
  }

  /** Stops listening and drops open scrape connections. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private current(): ScenarioState | undefined {
    return this.scenarios[this.scenarios.length - 1];
  }

  private notePhase(st: ScenarioState): void {
    if (st.ended) return;
    // "storm 2/3: load" is the phase `load`: the storm shows in the load timer restarting
    const phase = st.s.phase().replace(/^storm \d+\/\d+: /, '');
    if (st.phases[st.phases.length - 1] === phase) return;
    st.phases = st.phases.filter((p) => p !== phase).concat(phase);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET' }).end();
    if (url === '/') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('imstorm live metrics: GET /metrics (Prometheus text format)\n');
    if (url !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
    try {
      const body = await this.text();
      res.writeHead(200, { 'content-type': this.own.contentType }).end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}

function listenError(err: NodeJS.ErrnoException, o: LiveMetricsOptions): LiveMetricsError {
  const where = `${o.host}:${o.port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new LiveMetricsError(`--metrics-port ${o.port}: ${where} is already in use (another imstorm run or exporter listens there; \`ss -ltnp | grep :${o.port}\` shows which); pick another port with --metrics-port N, or --metrics-port 0 to let the system choose a free one (the URL is printed)`);
    case 'EACCES':
      return new LiveMetricsError(`--metrics-port ${o.port}: not allowed to listen on ${where} (ports below 1024 need root); pick a port from 1024 up, or 0 for a free one`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new LiveMetricsError(`--metrics-host ${o.host}: not an address of this machine (${err.code}); use 127.0.0.1 (the default), 0.0.0.0 for every interface, or one of this machine's addresses`);
    default:
      return new LiveMetricsError(`--metrics-port ${o.port} / --metrics-host ${o.host}: cannot listen on ${where}: ${err.message}`);
  }
}

/** The families with a `scenario` label on every value (a suite's scenarios side by side). */
function labelled(families: MetricFamilyJSON[], scenario: string): MetricFamilyJSON[] {
  return families.map((m) => ({ ...m, values: m.values.map((v) => ({ ...v, labels: { scenario, ...v.labels } })) }));
}

/** Where a step acts: its link, or its process. */
function stepTarget(step: FaultStep): string {
  return 'link' in step ? step.link : 'target' in step ? step.target : '';
}

/**
 * Whether a timeline event is the work of this step. Kinds this module does not know
 * (added later) are matched by target alone.
 */
function eventOfStep(step: FaultStep, e: FaultEvent): boolean {
  if (e.target !== stepTarget(step)) return false;
  switch (step.kind) {
    case 'toxic':
      return e.kind === `toxic:${step.toxic.type}`;
    case 'blackhole':
      return e.kind === 'toxic:timeout';
    case 'cut':
      return e.kind === 'link:disable';
    case 'kill':
    case 'pause':
    case 'restart':
    case 'stop':
      return e.kind.endsWith(`:${step.kind}`);
    default:
      return true;
  }
}

/**
 * One gauge value per fault step: 1 while the event it caused on the topology's timeline is
 * open. A step's event is the first matching one that began at or after the step's planned
 * time in the current storm (each storm replays the faults). A restart is recorded only once
 * done, so it reads 1 from its planned time until then.
 */
function faultStates(st: ScenarioState, now: number): FaultState[] {
  const loadStartAt = st.ended ? 0 : st.s.loadStartAt();
  const timeline = loadStartAt ? st.s.timeline() : [];
  return st.s.faults.map((step, i) => {
    const labels = { scenario: st.s.scenario, step: String(i + 1), kind: step.kind, link: 'link' in step ? step.link : '', target: 'target' in step ? step.target : '', toxic: step.kind === 'toxic' ? step.toxic.type : '', at_ms: String(step.at) };
    if (!loadStartAt) return { labels, value: 0 };
    // timers fire a millisecond or two either side of the planned time
    const planned = loadStartAt + step.at - 25;
    if (now < planned) return { labels, value: 0 };
    let event: FaultEvent | undefined;
    for (const e of timeline) if (e.start >= planned && eventOfStep(step, e) && (!event || e.start < event.start)) event = e;
    if (step.kind === 'restart') return { labels, value: event ? 0 : 1 };
    return { labels, value: event && event.end === undefined ? 1 : 0 };
  });
}
