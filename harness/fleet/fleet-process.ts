/**
 * A fleet process: runs its share of simulated devices, driven over IPC by the
 * orchestrator. Separate processes, not worker threads: open files are capped per process,
 * and each process stays under ~18k sockets.
 */
import { createWriteStream } from 'node:fs';
import { mintToken } from '../util/tokens.ts';
import { FleetLiveMetrics, LiveRecorder } from '../live/fleet-metrics.ts';
import { SimClient } from './sim-client.ts';
import type { FleetInit, FleetMessage, OrchestratorCommand } from './protocol.ts';
import { pool } from '../util/pool.ts';
import { collectGarbage, youngGenerationBytes } from '../util/gc.ts';

let init: FleetInit | null = null;
let clients: SimClient[] = [];
const recorder = new LiveRecorder();
let progressTimer: NodeJS.Timeout | null = null;
/** RSS before any device existed (FleetDone.rss) */
let base = { rss: 0, heap: 0, young: 0 };

function send(m: FleetMessage): void {
  process.send?.(m);
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

async function handle(cmd: OrchestratorCommand): Promise<void> {
  switch (cmd.type) {
    case 'init': {
      init = cmd;
      collectGarbage();
      base = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, young: youngGenerationBytes() };
      clients = cmd.devices.map((plan, i) => {
        const token = () => mintToken(cmd.jwtSecret, plan.user, { dev: plan.device, expiresIn: '12h' });
        const j = cmd.indexes ? cmd.indexes[i]! : cmd.urlOffset + i;
        return new SimClient(plan, {
          url: cmd.urls[j % cmd.urls.length]!,
          fallbackUrls: cmd.workload.failover || cmd.workload.reconnect.rotate ? fallbacks(cmd.urls, j) : undefined,
          localAddress: cmd.localAddresses.length ? cmd.localAddresses[i % cmd.localAddresses.length] : undefined,
          token,
          recorder,
          workload: cmd.workload,
        });
      });
      if (cmd.liveMetrics) recorder.live = new FleetLiveMetrics();
      progressTimer = setInterval(() => {
        const progress = { type: 'progress', index: cmd.index, at: Date.now(), open: clients.filter((c) => c.isOpen).length, synced: clients.filter((c) => c.isSynced).length, counts: Object.fromEntries(recorder.counts), sentP99: recorder.takeWindowP99() } as const;
        if (!recorder.live) return send(progress);
        void recorder.live.snapshot(clients).then((metrics) => send({ ...progress, metrics }));
      }, 1000);
      break;
    }
    case 'connect':
      await pool(clients, init!.connectConcurrency, async (c) => {
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
      await pool(clients, init!.connectConcurrency, (c) => c.resync());
      break;
    case 'frozen':
      // fault step fleet-pause: nothing was read or written from `at` to `end`, so the checkers
      // judge these devices as they judge a device that stopped reading
      for (const c of clients) recorder.fact({ k: 'stall', client: c.client, mode: 'freeze', at: cmd.at, end: cmd.end });
      return;
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
      send({ type: 'windowed', index: init?.index ?? -1, id: cmd.id, ...n });
      return;
    }
    case 'finish': {
      if (progressTimer) clearInterval(progressTimer);
      collectGarbage();
      const atFinish = process.memoryUsage();
      await Promise.all(clients.map((c) => c.stop()));
      for (const c of clients) c.finalizeSends();
      const out = createWriteStream(init!.factsPath);
      for (const f of recorder.facts) out.write(`${JSON.stringify(f)}\n`);
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      send({
        type: 'done',
        index: init!.index,
        factsPath: init!.factsPath,
        facts: recorder.facts.length,
        latencies: Object.fromEntries(recorder.latencies),
        counts: Object.fromEntries(recorder.counts),
        rssPerClient: clients.length ? Math.round(process.memoryUsage().rss / clients.length) : 0,
        rss: { base: base.rss, atFinish: atFinish.rss, clients: clients.length, baseHeap: base.heap, atFinishHeap: atFinish.heapUsed, baseYoung: base.young, atFinishYoung: youngGenerationBytes() },
        ...(recorder.live ? { metrics: await recorder.live.snapshot(clients) } : {}),
      });
      return;
    }
  }
  send({ type: 'ack', index: init?.index ?? -1, of: cmd.type });
}

process.on('message', (cmd: OrchestratorCommand) => {
  handle(cmd).catch((err: unknown) => {
    send({ type: 'fatal', index: init?.index ?? -1, message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
