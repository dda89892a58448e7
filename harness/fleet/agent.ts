/**
 * A fleet agent: runs its share of simulated devices, driven by the orchestrator over one
 * WebSocket to its control endpoint (protocol.ts). The same code whether it is a local
 * `--processes` child or `imstorm agent` on another machine. Separate processes, not worker
 * threads: open files are capped per process, and each process stays under ~18k sockets.
 *
 * One plan at a time (`init` … `finish`): after `done` the agent waits for the next plan (the
 * next storm, the next scenario of a suite) until `bye`.
 */
import os from 'node:os';
import { WebSocket } from 'ws';
import { mintToken } from '../util/tokens.ts';
import { FleetLiveMetrics, LiveRecorder } from '../live/fleet-metrics.ts';
import { SimClient } from './sim-client.ts';
import { CONTROL_PROTOCOL_VERSION, controlFrame, describeIssues, MAX_CONTROL_FRAME_BYTES, type AgentMessage, type ControlFrame, type FleetInit, type OrchestratorCommand } from './protocol.ts';
import { FactShipper } from './fact-stream.ts';
import { pool } from '../util/pool.ts';
import { collectGarbage, youngGenerationBytes } from '../util/gc.ts';

export interface AgentOptions {
  /** ws://host:port/control */
  control: string;
  token: string;
  /** unique in the run */
  name: string;
  /** most devices this agent takes */
  capacity: number;
  /** keep trying to reach the control endpoint this long (it may start after the agents) */
  connectWithinMs: number;
  log: (line: string) => void;
  /** say when connected (an agent started by hand); local children stay quiet */
  announce?: boolean;
}

/** The other distinct URLs after device j's, in order (device j+k is on node j+k mod N). */
function fallbacks(urls: string[], j: number): string[] {
  const own = urls[j % urls.length]!;
  const out: string[] = [];
  for (let k = 1; k < Math.min(urls.length, 64); k++) {
    const u = urls[(j + k) % urls.length]!;
    if (u !== own && !out.includes(u)) out.push(u);
  }
  return out;
}

/** One plan's devices and what they record. */
class Session {
  readonly clients: SimClient[];
  readonly recorder = new LiveRecorder();
  readonly shipper: FactShipper;
  private readonly progressTimer: NodeJS.Timeout;
  /** RSS before any device existed (FleetDone.rss) */
  private readonly base: { rss: number; heap: number; young: number };

  readonly init: FleetInit;
  private readonly send: (m: AgentMessage) => void;

  constructor(init: FleetInit, send: (m: AgentMessage) => void, sendBinary: (b: Buffer) => void) {
    this.init = init;
    this.send = send;
    // memory-reducing, at both readings: after full GCs alone RSS keeps the pages a burst of
    // garbage left pooled, and the young generation's growth (16 → 32 MiB in some
    // processes), so the fleet's RSS per device beside a raw ws client's moved 0.92–1.40×
    collectGarbage(true);
    this.base = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, young: youngGenerationBytes() };
    const recorder = this.recorder;
    this.clients = init.devices.map((plan, i) => {
      const given = init.tokens?.[i];
      const token = given !== undefined ? () => Promise.resolve(given) : () => mintToken(init.jwtSecret, plan.user, { dev: plan.device, expiresIn: '12h' });
      const j = init.indexes ? init.indexes[i]! : init.urlOffset + i;
      return new SimClient(plan, {
        url: init.urls[j % init.urls.length]!,
        fallbackUrls: init.workload.failover || init.workload.reconnect.rotate ? fallbacks(init.urls, j) : undefined,
        localAddress: init.localAddresses.length ? init.localAddresses[i % init.localAddresses.length] : undefined,
        token,
        recorder,
        workload: init.workload,
      });
    });
    if (init.liveMetrics) recorder.live = new FleetLiveMetrics();
    this.shipper = new FactShipper(recorder.facts, sendBinary);
    this.progressTimer = setInterval(() => {
      void this.shipper.pump();
      // one pass, no arrays: two filters a second over 16,667 devices were 3 % of a fleet process's busy samples (--cpu-prof) in the 100k ramp
      let open = 0;
      let synced = 0;
      for (const c of this.clients) {
        if (!c.isOpen) continue;
        open++;
        if (c.isSynced) synced++;
      }
      const progress = { type: 'progress', at: Date.now(), open, synced, counts: Object.fromEntries(recorder.counts), sentP99: recorder.takeWindowP99() } as const;
      if (!recorder.live) return send(progress);
      void recorder.live.snapshot(this.clients).then((metrics) => send({ ...progress, metrics }));
    }, 1000);
  }

  async handle(cmd: Exclude<OrchestratorCommand, FleetInit>): Promise<void> {
    const clients = this.clients;
    switch (cmd.type) {
      case 'connect':
        await pool(clients, this.init.connectConcurrency, async (c) => {
          c.start();
          await c.whenSynced();
        });
        break;
      case 'load':
        for (const c of clients) c.startLoad();
        break;
      case 'stopLoad':
        for (const c of clients) c.stopLoad();
        break;
      case 'drain': {
        // wait for answers to what was sent (bounded)
        const until = Date.now() + cmd.timeoutMs;
        while (Date.now() < until && clients.some((c) => c.unanswered > 0 && (c.state === 'open' || c.state === 'backoff' || c.state === 'connecting'))) {
          await new Promise((r) => setTimeout(r, 100));
        }
        break;
      }
      case 'resync':
        await pool(clients, this.init.connectConcurrency, (c) => c.resync());
        break;
      case 'window': {
        const n = { connected: 0, atRisk: 0, sends: 0, unacked: 0 };
        for (const c of clients) {
          const r = c.recordWindow(cmd);
          if (!r.connected) continue;
          n.connected++;
          if (r.sends || r.unacked) n.atRisk++;
          n.sends += r.sends;
          n.unacked += r.unacked;
        }
        // answered on its own id: windows of steps at the same moment may overlap
        this.send({ type: 'windowed', id: cmd.id, ...n });
        return;
      }
      case 'frozen':
        // fault step fleet-pause: nothing was read or written from `at` to `end`, so the checkers
        // judge these devices as they judge a device that stopped reading
        for (const c of clients) this.recorder.fact({ k: 'stall', client: c.client, mode: 'freeze', at: cmd.at, end: cmd.end });
        return;
      case 'finish': {
        clearInterval(this.progressTimer);
        collectGarbage(true);
        const atFinish = process.memoryUsage();
        await Promise.all(clients.map((c) => c.stop()));
        for (const c of clients) c.finalizeSends();
        const metrics = this.recorder.live ? await this.recorder.live.snapshot(clients) : undefined;
        await this.shipper.flush();
        const base = this.base;
        this.send({
          type: 'done',
          facts: this.shipper.count,
          latencies: this.recorder.connect.count ? { connect: this.recorder.connect.snapshot() } : {},
          counts: Object.fromEntries(this.recorder.counts),
          rssPerClient: clients.length ? Math.round(process.memoryUsage().rss / clients.length) : 0,
          rss: { base: base.rss, atFinish: atFinish.rss, clients: clients.length, baseHeap: base.heap, atFinishHeap: atFinish.heapUsed, baseYoung: base.young, atFinishYoung: youngGenerationBytes() },
          ...(metrics ? { metrics } : {}),
        });
        return;
      }
    }
    this.send({ type: 'ack', of: cmd.type });
  }

  kill(): void {
    clearInterval(this.progressTimer);
  }

  /** Every device stops (as `finish` stops them): what a drain or a resync waits on ends. */
  stopDevices(): void {
    for (const c of this.clients) void c.stop();
  }
}

/** A WebSocket to the control endpoint; retried while it is refused, until `connectWithinMs`. */
async function connectControl(o: AgentOptions): Promise<WebSocket> {
  const until = Date.now() + o.connectWithinMs;
  let said = false;
  for (;;) {
    const ws = new WebSocket(o.control, { headers: { authorization: `Bearer ${o.token}` }, maxPayload: MAX_CONTROL_FRAME_BYTES, perMessageDeflate: false, handshakeTimeout: 10_000 });
    const r = await new Promise<WebSocket | Error>((resolve) => {
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => resolve(new Error(res.statusCode === 401 ? `the control endpoint ${o.control} refused the token (401): give the orchestrator's --control-token (or IMSTORM_CONTROL_TOKEN)` : `the control endpoint ${o.control} answered HTTP ${res.statusCode}: is it an imstorm run --control-listen address?`)));
      ws.once('error', (err) => resolve(err));
    });
    if (r instanceof WebSocket) return r;
    ws.terminate();
    if (/refused the token|answered HTTP/.test(r.message)) throw r;
    if (Date.now() >= until) throw new Error(`could not reach the control endpoint ${o.control} within ${Math.round(o.connectWithinMs / 1000)} s: ${r.message}`);
    if (!said) o.log(`agent ${o.name}: ${o.control} not reachable yet (${r.message}); retrying until ${new Date(until).toISOString()}`);
    said = true;
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** Runs the agent until the orchestrator says bye (0) or the link fails (1). */
export async function runAgent(o: AgentOptions): Promise<number> {
  const ws = await connectControl(o);
  let session: Session | null = null;
  const send = (m: AgentMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const sendBinary = (b: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(b, { binary: true });
  };
  send({ type: 'hello', agent: o.name, capacity: o.capacity, version: CONTROL_PROTOCOL_VERSION, host: os.hostname() });
  // commands run one after the other, in the order they came
  let chain: Promise<void> = Promise.resolve();
  /** commands of the chain queued or running */
  let queued = 0;
  return new Promise<number>((resolve) => {
    let finished = false;
    const end = (code: number, why: string) => {
      if (finished) return;
      finished = true;
      session?.kill();
      for (const c of session?.clients ?? []) void c.stop();
      if (code !== 0) o.log(`agent ${o.name}: ${why}`);
      ws.terminate();
      resolve(code);
    };
    ws.on('close', (code, reason) => end(1, `the control connection closed (code ${code}${reason.length ? `: ${reason.toString()}` : ''}) before the orchestrator said bye`));
    ws.on('error', (err) => end(1, `control connection error: ${err.message}`));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return end(1, 'the orchestrator sent a binary frame');
      let f: ControlFrame;
      try {
        const r = controlFrame.safeParse(JSON.parse(String(data)));
        if (!r.success) return end(1, `a bad frame from the orchestrator: ${describeIssues(r.error)}`);
        f = r.data;
      } catch {
        return end(1, 'a frame from the orchestrator that is not JSON');
      }
      switch (f.type) {
        case 'ping':
          return send({ type: 'pong', id: f.id, now: Date.now() });
        case 'factsAck':
          return session?.shipper.ack(f.seq);
        case 'welcome':
          return void (o.announce && o.log(`agent ${o.name}: connected to ${o.control}`));
        case 'bye':
          return end(0, f.reason);
      }
      const cmd = f;
      // a window is answered at once, whatever phase is running (as a fault step acts on its schedule)
      if (cmd.type === 'window' || cmd.type === 'frozen') {
        if (session) void session.handle(cmd);
        return;
      }
      // `finish` while a drain or a resync still waits on its devices: the orchestrator gave up
      // on that phase (every node crashed: nothing can answer), so the devices stop now and the
      // phase ends, rather than `finish` queueing behind it until the phase's own limits (21 s
      // of 34 for a run whose only node died, TEST_BUGS=throw_uncaught_later)
      if (cmd.type === 'finish' && queued > 0) session?.stopDevices();
      queued++;
      chain = chain.then(async () => {
        try {
          if (cmd.type === 'init') {
            // every device needs a way to a token: the secret to mint one, or its own from the plan
            if (cmd.tokens ? cmd.tokens.length !== cmd.devices.length : !cmd.jwtSecret) throw new Error(cmd.tokens ? `bad init: ${cmd.tokens.length} tokens for ${cmd.devices.length} devices` : 'bad init: neither jwtSecret nor tokens');
            session?.kill();
            session = new Session(cmd, send, sendBinary);
            send({ type: 'ack', of: 'init' });
            return;
          }
          if (!session) throw new Error(`${cmd.type} before any plan (init)`);
          await session.handle(cmd);
        } catch (err) {
          send({ type: 'fatal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
          end(1, `failed: ${err instanceof Error ? err.message : String(err)}`);
        } finally {
          queued--;
        }
      });
    });
  });
}
