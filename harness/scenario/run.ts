import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { runAllCheckers } from '../checks/index.ts';
import type { GoneKeysSample, ServerSample } from '../checks/samples.ts';
import type { Fact } from '../model/facts.ts';
import type { EnvChoice } from '../env/environment.ts';
import { startTopology, type Topology } from '../env/topology.ts';
import { checkLimits, sourceAddresses } from '../fleet/limits.ts';
import { Fleet, MAX_CLIENTS_PER_PROCESS, type FleetTotals } from '../fleet/orchestrator.ts';
import { createGroups } from '../fleet/setup.ts';
import { planWorkload } from '../fleet/workload.ts';
import { LatencySet } from '../measure/latency.ts';
import { recordFacts } from '../measure/from-facts.ts';
import { ServerSampler } from '../measure/sampler.ts';
import { ThroughputSeries } from '../measure/series.ts';
import { imRoutes, runHttpLoad, type HttpResult } from '../measure/http-load.ts';
import { buildReport } from '../report/build.ts';
import { writeReport } from '../report/write.ts';
import type { Report } from '../report/schema.ts';
import { goneConnectionKeys, settledLeakSample } from './leak-samples.ts';
import type { FaultStep, Scenario } from './define.ts';

/**
 * Runs one scenario end to end: environment and topology, groups, fleet, faults on their
 * schedule, final sync, checkers, HTTP load, leak samples, report. Everything it starts is
 * stopped on the way out, whatever happens.
 */
export interface RunOptions {
  env: EnvChoice;
  seed: number;
  /** reports/ root */
  outRoot?: string;
  /** override the scenario's user count (devices follow devicesPerUser) */
  users?: number;
  nodes?: number;
  durationMs?: number;
  processes?: number;
  /** spread fleet connections over this many loopback source addresses (127.0.0.2, …) */
  sourceAddresses?: number;
  /** progress lines (plain text) */
  log: (line: string) => void;
  /** live totals about once a second (the CLI draws them) */
  onProgress?: (p: LiveProgress) => void;
}

export interface LiveProgress {
  phase: string;
  elapsedMs: number;
  fleet: FleetTotals | null;
  activeFaults: string[];
}

export interface RunResult {
  report: Report;
  dir: string;
  pass: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runScenario(scenario: Scenario, o: RunOptions): Promise<RunResult> {
  const s: Scenario = {
    ...scenario,
    topology: { ...scenario.topology, nodes: o.nodes ?? scenario.topology.nodes },
    workload: { ...scenario.workload, users: o.users ?? scenario.workload.users },
    durationMs: o.durationMs ?? scenario.durationMs,
  };
  const startedAt = Date.now();
  const notes: string[] = [];
  const devicesTotal = s.workload.users * s.workload.devicesPerUser;
  const processes = o.processes ?? Math.max(1, Math.ceil(devicesTotal / MAX_CLIENTS_PER_PROCESS));

  const limits = checkLimits({ connections: devicesTotal, processes, nodes: s.topology.nodes, sourceAddresses: o.sourceAddresses ?? 1, serverLocal: o.env !== 'external', churn: s.workload.churnRate > 0 });
  const bad = limits.filter((l) => !l.ok);
  if (bad.length) throw new RunSetupError(`this machine's limits do not fit the plan:\n${bad.map((l) => `  - ${l.what}: ${l.value}\n    fix: ${l.fix}`).join('\n')}`);

  let phase = 'starting';
  let topo: Topology | null = null;
  let fleet: Fleet | null = null;
  let sampler: ServerSampler | null = null;
  const workDir = mkdtempSync(path.join(os.tmpdir(), `imstorm-${s.name}-`));
  const restarted = new Set<string>();
  let progressTimer: NodeJS.Timeout | null = null;
  const loadStart = { at: 0 };
  try {
    o.log(`${s.name}: ${s.description}`);
    o.log(`seed ${o.seed}; ${s.topology.nodes} nodes; ${s.workload.users} users × ${s.workload.devicesPerUser} devices in ${processes} fleet process(es); ${Math.round(s.durationMs / 1000)} s of load`);
    topo = await startTopology({
      nodes: s.topology.nodes,
      redisBehindProxy: s.topology.redisBehindProxy,
      clientLinksBehindProxy: s.topology.clientLinksBehindProxy !== false,
      serverEnv: { DEBUG_ROUTES: 1, LOG_LEVEL: 'warn', ...s.topology.serverEnv },
      envChoice: o.env,
      maxProxiedClients: typeof s.topology.clientLinksBehindProxy === 'number' ? s.topology.clientLinksBehindProxy * s.topology.nodes : Number.MAX_SAFE_INTEGER,
      log: o.log,
    });
    const t = topo;
    o.log(`environment: ${t.env.kind}; Toxiproxy API ${t.toxiproxyUrl}; nodes ${t.nodes.map((n) => `${n.id} ${n.directUrl}`).join(', ')}`);

    sampler = new ServerSampler({ nodes: () => t.nodes.filter((n) => n.running).map((n) => ({ id: n.id, url: n.adminUrl, metricsToken: n.metricsToken })), redisUrl: t.redis.url, intervalMs: 1000 });
    sampler.start();

    const plan = planWorkload(s.workload, o.seed, `${s.name.replace(/[^a-z0-9]/g, '')}${(o.seed % 100000).toString(36)}`);
    phase = 'groups';
    await createGroups(plan.groups, t.nodes[0]!.directUrl, t.jwtSecret);

    const baseline: ServerSample[] = [];
    if (s.checks.leaks) for (const n of t.nodes) baseline.push(await settledLeakSample({ id: n.id, url: n.adminUrl }));

    const links = t.clientLinks(plan.devices.length);
    notes.push(links.note);
    const urls = plan.devices.map((_, i) => links.wsUrl(i));
    const facts: Fact[] = [];
    const connectLatencies: number[] = [];
    const runs: ServerSample[][] = [];
    let presenceAt = 0;
    let quiescentAt = 0;
    for (let storm = 1; storm <= s.checks.storms; storm++) {
      const label = s.checks.storms > 1 ? `storm ${storm}/${s.checks.storms}: ` : '';
      const f = new Fleet({
        devices: storm === 1 ? plan.devices : plan.devices.map((d) => ({ ...d, tag: `s${storm}`, seed: (d.seed + storm * 7919) >>> 0 })),
        urls,
        processes,
        jwtSecret: t.jwtSecret,
        workload: s.workload,
        outDir: workDir,
        localAddresses: o.sourceAddresses ? sourceAddresses(o.sourceAddresses) : [],
      });
      fleet = f;
      progressTimer = setInterval(() => {
        o.onProgress?.({ phase: `${label}${phase}`, elapsedMs: loadStart.at ? Date.now() - loadStart.at : 0, fleet: f.totals(), activeFaults: t.timeline.filter((e) => e.end === undefined && !/restart|kill/.test(e.kind)).map((e) => `${e.kind} ${e.target}`) });
      }, 1000);
      progressTimer.unref();
      await f.start();
      phase = 'connecting';
      o.log(`${label}connecting ${plan.devices.length} devices`);
      await f.connect();
      phase = 'load';
      o.log(`${label}load started`);
      loadStart.at = Date.now();
      await f.startLoad();
      const faultRuns = s.faults.map((step) => runFault(t, step, loadStart.at, restarted, o.log));
      await sleep(s.durationMs);
      await Promise.all(faultRuns);
      await t.heal();
      phase = 'draining';
      o.log(`${label}load stopped; waiting for answers`);
      await f.stopLoad();
      await f.drain(15_000);
      phase = 'final sync';
      o.log(`${label}final sync: every device reconnects and fetches what it lacks`);
      await f.resync();
      // presence settles after the resync's reconnects: one sweep plus propagation
      await sleep(1500);
      presenceAt = Date.now();
      quiescentAt = presenceAt - 1000;
      phase = 'finishing';
      const result = await f.finish();
      fleet = null;
      clearInterval(progressTimer);
      progressTimer = null;
      for (const x of result.facts) facts.push(x);
      connectLatencies.push(...(result.latencies.connect ?? []));
      o.log(`${label}fleet done: ${result.facts.length} facts; harness RSS ≈ ${(result.rssPerClient / 1024).toFixed(1)} KiB per simulated device`);
      if (storm === s.checks.storms) notes.push(`harness memory: about ${(result.rssPerClient / 1024).toFixed(1)} KiB RSS per simulated device (${result.processes} fleet process(es))`);
      if (s.checks.leaks && s.checks.storms > 1) {
        phase = 'leak samples';
        const alive = t.nodes.filter((n) => !restarted.has(n.id) && n.running);
        runs.push(await Promise.all(alive.map((n) => settledLeakSample({ id: n.id, url: n.adminUrl }))));
      }
    }

    let http: HttpResult[] = [];
    if (s.http) {
      phase = 'http';
      // one conversation, every member's token in turn: spreads the per-user send bucket
      const key = new TextEncoder().encode(t.jwtSecret);
      const target = plan.population.convs[0]!;
      const tokens = await Promise.all(target.members.map((u) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(u).setExpirationTime('1h').sign(key)));
      o.log(`HTTP load: ${s.http.durationSec} s per route, ${s.http.connections} connections`);
      http = await runHttpLoad({ baseUrl: t.nodes[0]!.directUrl, token: tokens, routes: imRoutes({ conv: target.conv }), connections: s.http.connections, durationSec: s.http.durationSec });
    }

    const after: ServerSample[] = [];
    let goneKeys: GoneKeysSample | undefined;
    const stable = t.nodes.filter((n) => !restarted.has(n.id) && n.running);
    if (s.checks.leaks) {
      phase = 'leak samples';
      await sleep(1000);
      for (const n of stable) after.push(await settledLeakSample({ id: n.id, url: n.adminUrl }));
      goneKeys = await goneConnectionKeys(t.redis.url, plan.population.users.map((u) => u.user));
      if (restarted.size) notes.push(`leaks: ${[...restarted].join(', ')} restarted during the run, so only ${stable.map((n) => n.id).join(', ') || 'no node'} is compared with its baseline`);
    }
    const serverSamples = await sampler.stop();
    sampler = null;

    phase = 'checks';
    const verdicts = runAllCheckers({
      facts,
      population: plan.population,
      faults: t.timeline,
      leaks: s.checks.leaks ? { baseline: baseline.filter((b) => stable.some((n) => n.id === b.node)), after, goneConnectionKeys: goneKeys, runs: runs.length > 1 ? runs : undefined } : undefined,
      options: { unseenWithinMs: s.checks.unseenWithinMs, presence: s.checks.presence ? { quiescentAt, at: presenceAt } : undefined },
    }).filter((v) => s.checks.presence || v.guarantee !== 'presence');
    const latency = new LatencySet();
    const series = new ThroughputSeries();
    recordFacts(facts, { latency, series });
    for (const ms of connectLatencies) latency.record('connect', ms);

    const endedAt = Date.now();
    const report = buildReport({
      scenario: { name: s.name, description: s.description },
      seed: o.seed,
      startedAt,
      endedAt,
      config: { scenario: s, fleetProcesses: processes, devices: plan.devices.length, storms: s.checks.storms },
      environment: { provider: t.env.kind, nodes: t.nodes.map((n) => ({ id: n.id, url: n.directUrl })) },
      thresholds: s.thresholds,
      verdicts,
      faults: t.timeline,
      latency,
      series,
      server: serverSamples,
      http,
      notes,
    });
    const written = await writeReport(report, { root: o.outRoot });
    return { report, dir: written.dir, pass: report.verdict.pass };
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    fleet?.kill();
    if (sampler) await sampler.stop().catch(() => {});
    if (topo) await topo.stop().catch((err: unknown) => o.log(`teardown: ${String(err)}`));
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** A problem with the machine or the plan, found before anything ran (exit 2). */
export class RunSetupError extends Error {}

async function runFault(t: Topology, step: FaultStep, loadStartAt: number, restarted: Set<string>, log: (l: string) => void): Promise<void> {
  const wait = loadStartAt + step.at - Date.now();
  if (wait > 0) await sleep(wait);
  switch (step.kind) {
    case 'toxic': {
      log(`fault: ${step.toxic.type} on ${step.link} for ${step.duration} ms`);
      const toxic = await t.addToxic(step.link, { type: step.toxic.type, stream: step.toxic.stream, toxicity: step.toxic.toxicity, attributes: step.toxic.attributes });
      await sleep(step.duration);
      await toxic.remove();
      return;
    }
    case 'cut':
      log(`fault: ${step.link} cut for ${step.duration} ms`);
      await t.disableLink(step.link);
      await sleep(step.duration);
      await t.enableLink(step.link);
      return;
    case 'kill':
      log(`fault: kill ${step.target}`);
      if (step.target === 'redis') await t.killRedis();
      else {
        restarted.add(step.target);
        await t.killNode(step.target);
      }
      if (step.restartAfter !== undefined) {
        await sleep(step.restartAfter);
        if (step.target === 'redis') await t.startRedis();
        else await t.startNode(step.target);
      }
      return;
    case 'restart':
      log(`fault: restart ${step.target}`);
      if (step.target === 'redis') await t.restartRedis();
      else {
        restarted.add(step.target);
        await t.restartNode(step.target);
      }
      return;
    case 'pause':
      log(`fault: pause ${step.target} for ${step.duration} ms`);
      if (step.target === 'redis') await t.pauseRedis();
      else await t.pauseNode(step.target);
      await sleep(step.duration);
      if (step.target === 'redis') await t.resumeRedis();
      else await t.resumeNode(step.target);
      return;
  }
}
