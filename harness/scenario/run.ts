// Runs one scenario end to end, one named phase after the other: topology, groups, the
// storms (each: connect, load and faults, heal, final sync), HTTP load, leak samples,
// judge, report. Everything it starts is stopped on the way out, whatever happens.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintToken } from '../util/tokens.ts';
import { runAllCheckers } from '../checks/index.ts';
import type { NodeExit } from '../checks/node-exits.ts';
import type { GoneKeysSample, ReclaimSample, ServerSample } from '../checks/samples.ts';
import { httpCall } from '../util/http-call.ts';
import { sleep } from '../env/procs.ts';
import type { Verdict } from '../checks/verdict.ts';
import type { Fact, FaultEvent } from '../model/facts.ts';
import type { EnvChoice } from '../env/environment.ts';
import { startTopology, type Topology } from '../env/topology.ts';
import { checkLimits, proxiedLinkBudget, sourceAddresses } from '../fleet/limits.ts';
import { Fleet, MAX_CLIENTS_PER_PROCESS, type AgentInfo, type AgentPool, type FleetResult, type FleetTotals } from '../fleet/orchestrator.ts';
import { ControlError } from '../fleet/control-server.ts';
import { MembershipChurn, MembershipChurnError } from '../fleet/membership-churn.ts';
import { createGroups, type UserToken } from '../fleet/setup.ts';
import type { TargetSpec } from '../env/target.ts';
import { TargetFlagError } from '../env/target.ts';
import { tokenSource } from '../env/target-tokens.ts';
import { probeTargets } from '../env/target-probe.ts';
import { TargetUnreachableError } from '../env/remote-node.ts';
import { EnvUnavailableError } from '../env/environment.ts';
import { planForTarget, refusal, stepWords } from './target-plan.ts';
import { modeEndMs, planWorkload, slowClients, type Plan } from '../fleet/workload.ts';
import { LatencyRecorder, LatencySet } from '../measure/latency.ts';
import { recordFacts } from '../measure/from-facts.ts';
import { herdReport } from '../measure/herd.ts';
import { ServerSampler, type ServerSamples } from '../measure/sampler.ts';
import { ThroughputSeries } from '../measure/series.ts';
import { imRoutes, runHttpLoad, type HttpResult } from '../measure/http-load.ts';
import { buildReport } from '../report/build.ts';
import { writeReport } from '../report/write.ts';
import type { Report } from '../report/schema.ts';
import { leakReport } from '../report/leaks.ts';
import { gaugeLeakSample, goneConnectionKeys, settledLeakSample } from './leak-samples.ts';
import { attackNotes, attackVerdicts, startAttack } from './attack-phase.ts';
import type { HostileResult } from '../attack/index.ts';
import type { FaultStep, Scenario } from './define.ts';
import type { LiveRun } from '../live/metrics-server.ts';
import { windowSummaries, type WindowMeta, type WindowSummary } from '../checks/inflight.ts';
import { dropBusConnection } from '../env/bus-drop.ts';
import { openWindow } from './inflight-windows.ts';

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
  /**
   * agents on other machines (imstorm run --agents N --control-listen HOST:PORT): the fleet
   * runs on them instead of local processes; kept by the caller across scenarios
   */
  agents?: AgentPool;
  /** spread fleet connections over this many loopback source addresses (127.0.0.2, …) */
  sourceAddresses?: number;
  /** progress lines (plain text) */
  log: (line: string) => void;
  /** live totals about once a second (the CLI draws them) */
  onProgress?: (p: LiveProgress) => void;
  /** a phase that waits on every device fails when nothing moved for this long (default 30 s) */
  stallMs?: number;
  /** the live /metrics endpoint (imstorm run --metrics-port), fed as the run goes */
  live?: LiveRun;
  /**
   * Run on this topology instead of starting one (imstorm explore: one environment for many
   * short runs). It must have been started with the scenario's topology settings and at least
   * its node count (clients use its first `topology.nodes` nodes); the run heals it, starts
   * again whatever an earlier run left down, judges only its own part of the timeline, and
   * leaves it running.
   */
  topology?: Topology;
  /** prefix of the run's users, groups and conversations (default from the name and seed); runs sharing a topology each need their own */
  namespace?: string;
  /** write the report's files under outRoot (default true) */
  writeReport?: boolean;
  /** return the recorded facts with the result (for a caller that renders them) */
  keepFacts?: boolean;
  /**
   * servers the harness did not start (imstorm run --target): no environment, no nodes and
   * no Redis of its own; what the scenario needs beyond them is refused or skipped and
   * reported (target-plan.ts). `env` is then ignored.
   */
  target?: TargetSpec;
}

export interface LiveProgress {
  phase: string;
  /** since the load started (0 before) */
  elapsedMs: number;
  /** since the current phase began */
  phaseElapsedMs: number;
  fleet: FleetTotals | null;
  activeFaults: string[];
}

export interface RunResult {
  report: Report;
  /** where the report was written ('' when RunOptions.writeReport is false) */
  dir: string;
  pass: boolean;
  /** the recorded facts, with RunOptions.keepFacts */
  facts?: Fact[];
}

/** A problem with the machine or the plan, found before anything ran (exit 2). */
export class RunSetupError extends Error {}

/**
 * The harness itself failed mid-run (a setup call refused, a sample that could not be
 * taken): no verdict on the server. Says the scenario, the phase, and any node that exited
 * by itself meanwhile (the usual reason a call to it was refused), so a suite can report it
 * and go on with the next scenario.
 */
export class RunAbortedError extends Error {}


/** What the phases of one run share; what is started here is stopped by teardown(). */
interface Run {
  /** the scenario as it runs (against a target: without the parts it cannot take) */
  s: Scenario;
  readonly o: RunOptions;
  readonly startedAt: number;
  readonly processes: number;
  readonly workDir: string;
  /** what the live progress line says the run is doing */
  phase: string;
  readonly notes: string[];
  /** nodes killed or restarted by a fault: their leak samples have no baseline */
  readonly restarted: Set<string>;
  /** when the latest storm's load started (0 before the first) */
  loadStartAt: number;
  /** joins and leaves the harness made (scenario `membership`), for the checkers */
  readonly memberFacts: Fact[];
  /** blackholed client links and how fast their nodes reclaimed the connections */
  readonly reclaims: ReclaimSample[];
  topo: Topology | null;
  sampler: ServerSampler | null;
  fleet: Fleet | null;
  progressTimer: NodeJS.Timeout | null;
  /** aborted when the run ends early or is torn down: fault steps still waiting stop there */
  readonly faults: AbortController;
  /** what the scenario's hostile clients recorded (scenario `attack`), once they ended */
  attack: HostileResult | null;
  /** in-flight windows, one per fault step (inflight-windows.ts), and what became of them once judged */
  readonly windows: WindowMeta[];
  inflight: WindowSummary[];
  /** when each storm's final sync began: the reconnect herd counts a device back only before it */
  readonly syncStarts: number[];
  /** why the run is incomplete (an agent lost mid-run): the verdict cannot pass */
  readonly incomplete: string[];
  /** the agents of the last storm and how their clocks compare */
  agents: AgentInfo[];
  /** how far two agents' clocks may disagree after correction (CheckOptions.clockErrorMs); 0: one machine */
  clockErrorMs: number;
  /** the topology is the caller's (RunOptions.topology): not stopped here */
  readonly shared: boolean;
  /** where this run's part of the topology's timeline begins (a shared topology has earlier runs' events) */
  timelineFrom: number;
  /** what this run could not check, each with why (the report says it beside the verdict) */
  readonly notChecked: string[];
  /** how leak samples are taken: POST /debug/gc (full), the /metrics gauge alone (a target without debug routes), or not at all */
  leakMode: 'full' | 'gauge' | 'none';
  /** a user's token for HTTP calls (group setup, membership churn, HTTP load) */
  userToken: UserToken;
  /** each device's token in plan order, when they are not minted by the fleet (a target's --token-cmd) */
  deviceTokens: string[] | undefined;
}

/** What the storms leave for the judge. */
interface StormsResult {
  facts: Fact[];
  /** connect (TCP + WebSocket upgrade), merged from every agent's HdrHistogram */
  connect: LatencyRecorder;
  /** leak samples after each storm (only with more than one storm) */
  runs: ServerSample[][];
  /** when presence was read as settled, and the quiet point before it */
  presenceAt: number;
  quiescentAt: number;
  /** `error` answers by code, over every storm */
  errorsByCode: Record<string, number>;
  /** close codes the devices' connections ended with, over every storm */
  closesByCode: Record<string, number>;
}

interface LeakSamples {
  baseline: ServerSample[];
  after: ServerSample[];
  goneKeys: GoneKeysSample | undefined;
  /** nodes up the whole run: the only ones compared with their baseline */
  stable: string[];
}

export async function runScenario(scenario: Scenario, o: RunOptions): Promise<RunResult> {
  // against a target the node count is the number of targets
  const s = withOverrides(scenario, o.target ? { ...o, nodes: o.target.nodes.length } : o);
  const startedAt = Date.now();
  // topology.fleetPerNode: one per node, whatever --processes says
  const processes = s.topology.fleetPerNode ? s.topology.nodes : (o.processes ?? Math.max(1, Math.ceil(deviceCount(s) / MAX_CLIENTS_PER_PROCESS)));
  checkMachine(s, o, processes);
  const run: Run = {
    s, o, startedAt, processes,
    workDir: mkdtempSync(path.join(os.tmpdir(), `imstorm-${s.name}-`)),
    phase: 'starting', notes: [], restarted: new Set(), loadStartAt: 0, memberFacts: [], reclaims: [],
    topo: null, sampler: null, fleet: null, progressTimer: null, faults: new AbortController(), attack: null,
    windows: [], inflight: [], syncStarts: [], incomplete: [], agents: [], clockErrorMs: 0, shared: o.topology !== undefined, timelineFrom: 0,
    notChecked: [], leakMode: s.checks.leaks ? 'full' : 'none', userToken: () => Promise.reject(new Error('no topology yet')), deviceTokens: undefined,
  };
  o.live?.beginScenario({ scenario: s.name, seed: o.seed, env: o.env, devices: deviceCount(s), nodes: s.topology.nodes, faults: s.faults, phase: () => run.phase, timeline: () => run.topo?.timeline ?? [], loadStartAt: () => run.loadStartAt });
  try {
    o.log(`${s.name}: ${s.description}`);
    o.log(`seed ${o.seed}; ${s.topology.nodes} nodes; ${s.workload.users} users × ${s.workload.devicesPerUser} devices in ${o.agents ? 'the agents (--agents)' : `${processes} fleet process(es)`}; ${Math.round(s.durationMs / 1000)} s of load`);
    const t = await startTopologyPhase(run);
    const plan = planWorkload(s.workload, o.seed, o.namespace ?? runNamespace(s, o));
    await tokensPhase(run, t, plan);
    run.phase = 'groups';
    await createGroups(plan.groups, t.nodes[0]!.directUrl, run.userToken);
    const baseline = await leakBaseline(run, t);
    const storms = await runStorms(run, t, plan);
    const http = await httpPhase(run, t, plan);
    const leaks = await leakSamplesAfter(run, t, plan, baseline);
    const serverSamples = await run.sampler!.stop();
    run.sampler = null;
    const verdicts = judge(run, t, plan, storms, leaks);
    return await reportPhase(run, t, plan, { verdicts, storms, http, serverSamples, leaks });
  } catch (err) {
    if (err instanceof RunSetupError || err instanceof RunAbortedError || !run.topo) throw err;
    const exits = nodeExits(run.topo, run.shared ? run.startedAt : 0).exits.map((e) => `${e.node} exited by itself (code ${e.code ?? 'none'}${e.signal ? `, ${e.signal}` : ''}): ${e.lastLines.at(-1)?.text.slice(0, 300) ?? 'no output'}`);
    throw new RunAbortedError(`${s.name} stopped in phase "${run.phase}": ${err instanceof Error ? err.message : String(err)}${exits.length ? `; ${exits.join('; ')}` : o.target ? " (the target's processes are not watched from here: check its own logs)" : '; every node was still running'}`, { cause: err });
  } finally {
    await teardown(run);
    o.live?.endScenario();
  }
}

function withOverrides(scenario: Scenario, o: RunOptions): Scenario {
  const a = scenario.attack;
  const durationMs = o.durationMs ?? scenario.durationMs;
  if (a && a.at + a.durationMs > durationMs) throw new RunSetupError(`--duration ${durationMs} ms is too short for ${scenario.name}'s attack (from ${a.at} ms for ${a.durationMs} ms): give at least ${a.at + a.durationMs} ms`);
  for (const g of scenario.workload.deviceGroups ?? []) {
    const end = modeEndMs(g.mode);
    if (end > durationMs) throw new RunSetupError(`--duration ${durationMs} ms is too short for ${scenario.name}'s device group "${g.name}" (mode ${g.mode.kind} until ${end} ms): give at least ${end} ms`);
  }
  return {
    ...scenario,
    topology: { ...scenario.topology, nodes: o.nodes ?? scenario.topology.nodes },
    workload: { ...scenario.workload, users: o.users ?? scenario.workload.users, stages: scaledStages(scenario, durationMs) },
    durationMs: o.durationMs ?? scenario.durationMs,
  };
}

/** Stages keep their shape under a --duration override: scaled to fill the new load phase. */
function scaledStages(s: Scenario, durationMs: number): Scenario['workload']['stages'] {
  const st = s.workload.stages;
  if (!st || durationMs === s.durationMs) return st;
  const out = st.map((x) => ({ ...x, durationMs: Math.max(1, Math.round((x.durationMs * durationMs) / s.durationMs)) }));
  out[out.length - 1]!.durationMs += durationMs - out.reduce((a, x) => a + x.durationMs, 0);
  return out;
}

const deviceCount = (s: Scenario): number => s.workload.users * s.workload.devicesPerUser;

/**
 * The prefix of the run's users, groups and conversations. A fresh environment starts with an
 * empty Redis, so the name and seed do; a target keeps what earlier runs left (the same seed
 * would find its groups taken, its cmids stored), so each run there adds its start time in
 * base 36 — the plan itself still follows the seed alone.
 */
function runNamespace(s: Scenario, o: RunOptions): string {
  const base = `${s.name.replace(/[^a-z0-9]/g, '')}${(o.seed % 100000).toString(36)}`;
  return o.target ? `${base}t${Date.now().toString(36)}` : base;
}

/** Throws RunSetupError when this machine's limits do not fit the plan. */
function checkMachine(s: Scenario, o: RunOptions, processes: number): void {
  const limits = checkLimits({ connections: deviceCount(s), processes, nodes: s.topology.nodes, sourceAddresses: o.sourceAddresses ?? 1, serverLocal: o.env !== 'external' && !o.target, churn: s.workload.churnRate > 0 });
  const bad = limits.filter((l) => !l.ok);
  if (bad.length) throw new RunSetupError(`this machine's limits do not fit the plan:\n${bad.map((l) => `  - ${l.what}: ${l.value}\n    fix: ${l.fix}`).join('\n')}`);
}

// ---- topology ------------------------------------------------------------------------

/**
 * How many client links go through the fault proxies: the scenario's sample, or every
 * link — unless that is more than the proxy can hold (2 fds a link under the open-file
 * limit), in which case an evenly spread sample of what it can (and the run says so).
 */
function maxProxiedClients(run: Run): number {
  const { s, o } = run;
  if (typeof s.topology.clientLinksBehindProxy === 'number') return s.topology.clientLinksBehindProxy * s.topology.nodes;
  const budget = proxiedLinkBudget();
  const devices = deviceCount(s);
  if (s.topology.clientLinksBehindProxy && devices > budget) {
    const note = `client links: ${devices} devices are more than the fault proxy can carry (2 open files a link: about ${budget} links here), so an evenly spread sample of ${budget} goes through it; client-link faults apply to those`;
    run.notes.push(note);
    o.log(note);
    return budget;
  }
  return Number.MAX_SAFE_INTEGER;
}

/** Redis, the nodes and their proxies, and the server sampler. */
async function startTopologyPhase(run: Run): Promise<Topology> {
  const { s, o } = run;
  if (o.topology) return useSharedTopology(run, o.topology);
  if (o.target) return startTargetPhase(run, o.target);
  const t = await startTopology({
    nodes: s.topology.nodes,
    redisBehindProxy: s.topology.redisBehindProxy,
    clientLinksBehindProxy: s.topology.clientLinksBehindProxy !== false,
    serverEnv: { DEBUG_ROUTES: 1, LOG_LEVEL: 'warn', ...(s.topology.volatileRedis ? { ALLOW_VOLATILE_STORE: 1 } : {}), ...s.topology.serverEnv },
    ...(s.topology.volatileRedis ? { envOptions: { volatileRedis: true } } : {}),
    nodeEnv: Array.from({ length: s.topology.nodes }, (_, i) => s.topology.nodeEnv[`node-${i + 1}`]),
    envChoice: o.env,
    maxProxiedClients: maxProxiedClients(run),
    log: o.log,
  });
  run.topo = t;
  o.log(`environment: ${t.env.kind}; Toxiproxy API ${t.toxiproxyUrl}; nodes ${t.nodes.map((n) => `${n.id} ${n.directUrl}`).join(', ')}`);
  const sampler = new ServerSampler({ nodes: () => t.nodes.filter((n) => n.running).map((n) => ({ id: n.id, url: n.adminUrl, metricsToken: n.metricsToken })), redisUrl: t.redis.url, intervalMs: 1000 });
  run.sampler = sampler;
  sampler.start();
  return t;
}

/**
 * Servers someone else runs: reach each (GET /readyz), put client-link proxies on the user's
 * Toxiproxy when there is one, ask what they let us see (/metrics, debug routes), and decide
 * what of the scenario can run — refusing it, naming the parts that cannot, unless
 * --skip-unsupported-faults asked to run the rest (then each is listed as not checked).
 */
async function startTargetPhase(run: Run, spec: TargetSpec): Promise<Topology> {
  const { s, o } = run;
  run.phase = 'target';
  const proxied = spec.toxiproxyUrl !== undefined && s.topology.clientLinksBehindProxy !== false;
  const t = await startTopology({
    nodes: spec.nodes.length,
    redisBehindProxy: false,
    clientLinksBehindProxy: proxied,
    target: spec,
    ...(spec.auth.kind === 'jwt' ? { jwtSecret: spec.auth.secret } : {}),
    maxProxiedClients: maxProxiedClients(run),
    log: o.log,
  }).catch((err: unknown) => {
    // a target that does not answer, or a Toxiproxy that does not: the user's to fix (exit 2)
    throw err instanceof TargetUnreachableError || err instanceof EnvUnavailableError ? new RunSetupError(err.message) : err;
  });
  run.topo = t;
  const reach = await probeTargets(t.nodes.map((n) => ({ id: n.id, adminUrl: n.adminUrl })), spec.metricsToken);
  const plan = planForTarget(s, spec, reach);
  const refused = refusal(s, plan);
  if (refused && !spec.skipUnsupportedFaults) throw new RunSetupError(refused);
  run.s = { ...s, faults: plan.faults, attack: plan.attackUnsupported ? undefined : s.attack, topology: { ...s.topology, redisBehindProxy: false, clientLinksBehindProxy: proxied ? s.topology.clientLinksBehindProxy : false } };
  run.notChecked.push(...plan.notChecked);
  run.notes.push(...plan.notes, `target: tokens ${spec.auth.kind === 'jwt' ? 'minted here with the deployment\'s JWT_SECRET' : 'printed by --token-cmd'}; HTTP at ${spec.nodes.map((n) => n.httpUrl).join(', ')}${spec.httpDerived ? ' (derived from the --target URLs)' : ' (--http)'}`);
  run.leakMode = !s.checks.leaks ? 'none' : reach.debugRoutes ? 'full' : reach.metrics ? 'gauge' : 'none';
  o.log(`target: ${t.nodes.map((n) => `${n.id} ${n.directWsUrl}`).join(', ')}; ${spec.toxiproxyUrl ? `client-link proxies on ${spec.toxiproxyUrl}` : 'no Toxiproxy: no link faults'}; /metrics ${reach.metrics ? 'reachable' : 'not reachable'}, debug routes ${reach.debugRoutes ? 'served' : 'not served'}`);
  for (const line of plan.notChecked) o.log(`not checked: ${line}`);
  const sampler = new ServerSampler({ nodes: () => t.nodes.map((n) => ({ id: n.id, url: n.adminUrl, metricsToken: n.metricsToken })), intervalMs: 1000 });
  run.sampler = sampler;
  sampler.start();
  return t;
}

/**
 * Where the devices' and users' tokens come from: minted from the nodes' secret (the
 * harness's own nodes, or a target's --jwt-secret), or printed by a target's --token-cmd —
 * every device's fetched and checked here, before anything connects.
 */
async function tokensPhase(run: Run, t: Topology, plan: Plan): Promise<void> {
  const auth = run.o.target?.auth;
  if (!auth || auth.kind === 'jwt') {
    run.userToken = (u) => mintToken(t.jwtSecret, u);
    return;
  }
  run.phase = 'tokens';
  const { s } = run;
  // each token must outlive the storms' load plus their connect, drain and sync phases, with room
  const validUntilMs = Date.now() + s.checks.storms * (s.durationMs + 120_000) + 600_000;
  const source = tokenSource(auth, { validUntilMs });
  run.o.log(`tokens: running --token-cmd for ${plan.devices.length} devices (${auth.timeoutMs / 1000} s deadline each, 8 at a time)`);
  const started = Date.now();
  try {
    await source.prefetch(plan.devices.map((d) => ({ user: d.user, device: d.device })));
    run.deviceTokens = await Promise.all(plan.devices.map((d) => source.token(d.user, d.device)));
  } catch (err) {
    throw err instanceof TargetFlagError ? new RunSetupError(err.message) : err;
  }
  run.userToken = (u) => source.token(u);
  run.notes.push(`tokens: --token-cmd ran ${plan.devices.length} times in ${((Date.now() - started) / 1000).toFixed(1)} s; every token checked for its sub, dev and an exp after ${new Date(validUntilMs).toISOString()}`);
}

/**
 * A topology left by earlier runs: whatever they left down comes back (a node killed and not
 * restarted, Redis killed or stopped), every fault heals, and this run's timeline starts here.
 */
async function useSharedTopology(run: Run, t: Topology): Promise<Topology> {
  const { s, o } = run;
  if (t.nodes.length < s.topology.nodes) throw new RunSetupError(`the shared topology has ${t.nodes.length} nodes but ${s.name} needs ${s.topology.nodes}`);
  run.phase = 'topology';
  await t.heal();
  if (t.faults.open({ target: 'redis', kind: /^redis:(kill|stop)$/ }).length) await t.startRedis();
  for (const n of t.nodes) if (!n.running) await t.startNode(n.id);
  run.topo = t;
  run.timelineFrom = t.timeline.length;
  const sampler = new ServerSampler({ nodes: () => t.nodes.filter((n) => n.running).map((n) => ({ id: n.id, url: n.adminUrl, metricsToken: n.metricsToken })), redisUrl: t.redis.url, intervalMs: 1000 });
  run.sampler = sampler;
  sampler.start();
  o.log(`shared topology: ${t.nodes.length} node(s) on ${t.env.kind}; this run uses ${s.topology.nodes}`);
  return t;
}

/** When a volatile Redis was wiped (a kill, stop or restart began) and when it took commands again. */
function storeWipesOf(timeline: FaultEvent[]): { storeWipes: number[]; storeBackAt: number[] } {
  const wipes = timeline.filter((e) => e.target === 'redis' && /^redis:(kill|stop|restart)$/.test(e.kind));
  // one left down has no end: nothing it answered after the wipe began can be judged either way
  return { storeWipes: wipes.map((e) => e.start), storeBackAt: wipes.map((e) => e.end ?? e.start) };
}

/** This run's part of the topology's timeline. */
function runTimeline(run: Run, t: Topology): FaultEvent[] {
  return run.timelineFrom ? t.timeline.slice(run.timelineFrom) : (t.timeline as FaultEvent[]);
}

async function leakBaseline(run: Run, t: Topology): Promise<ServerSample[]> {
  const baseline: ServerSample[] = [];
  run.phase = 'leak baseline';
  // every node at once, as after each storm: one after the other cost 1.5–2 s a node
  if (run.leakMode !== 'none') baseline.push(...(await Promise.all(t.nodes.map((n) => leakSampleOf(run, n)))));
  return baseline;
}

/** One node's leak sample once it is idle: POST /debug/gc, or its /metrics gauge alone (a target without debug routes). */
function leakSampleOf(run: Run, n: { id: string; adminUrl: string; metricsToken: string | undefined }): Promise<ServerSample> {
  return run.leakMode === 'gauge' ? gaugeLeakSample({ id: n.id, url: n.adminUrl, metricsToken: n.metricsToken }) : settledLeakSample({ id: n.id, url: n.adminUrl });
}

// ---- storms: connect, load and faults, heal, final sync --------------------------------

async function runStorms(run: Run, t: Topology, plan: Plan): Promise<StormsResult> {
  const { s } = run;
  const links = t.clientLinks(plan.devices.length, { nodes: s.topology.nodes });
  run.notes.push(links.note);
  // a recorded plan's device goes to the node it was recorded on (when the topology has it)
  const urls = plan.devices.map((d, i) => (d.node !== undefined && d.node <= t.nodes.length ? links.wsUrl(i, d.node - 1) : links.wsUrl(i)));
  const out: StormsResult = { facts: [], connect: new LatencyRecorder(), runs: [], presenceAt: 0, quiescentAt: 0, errorsByCode: {}, closesByCode: {} };
  for (let storm = 1; storm <= s.checks.storms; storm++) {
    const label = s.checks.storms > 1 ? `storm ${storm}/${s.checks.storms}: ` : '';
    const f = await connectPhase(run, t, plan, urls, storm, label);
    const gone = crashedOut(run, t);
    if (gone === undefined) {
      await loadAndFaultsPhase(run, t, plan, f, label);
      await healPhase(run, t, f, label);
      out.presenceAt = await finalSyncPhase(run, t, f, label, plan.devices.length);
    } else {
      // no node will answer again (nothing restarts a crashed one): the fleet's `finish` stops
      // the devices still trying to connect, and the verdicts judge what happened
      const note = `${label}load, ${run.s.attack ? 'attack, ' : ''}faults, drain and final sync skipped: ${gone} (see the nodes verdict)`;
      run.o.log(note);
      run.notes.push(note);
      out.presenceAt = Date.now();
    }
    out.quiescentAt = out.presenceAt - 1000;
    await collectFleet(run, f, label, storm === s.checks.storms, out);
    if (run.leakMode !== 'none' && s.checks.storms > 1) {
      run.phase = 'leak samples';
      const alive = t.nodes.filter((n) => !run.restarted.has(n.id) && n.running);
      out.runs.push(await Promise.all(alive.map((n) => leakSampleOf(run, n))));
    }
  }
  return out;
}

/** Starts the fleet processes (and the live progress line) and connects every device. */
async function connectPhase(run: Run, t: Topology, plan: Plan, urls: string[], storm: number, label: string): Promise<Fleet> {
  const { s, o } = run;
  const f = new Fleet({
    devices: storm === 1 ? plan.devices : plan.devices.map((d) => ({ ...d, tag: `s${storm}`, seed: (d.seed + storm * 7919) >>> 0 })),
    urls,
    processes: run.processes,
    // with tokens from a target's --token-cmd, no secret travels to the agents
    jwtSecret: run.deviceTokens ? '' : t.jwtSecret,
    ...(run.deviceTokens ? { tokens: run.deviceTokens } : {}),
    workload: s.workload,
    agents: o.agents,
    onAgentLost: (a) => {
      const line = `${label}agent ${a.agent} lost at t+${((a.at - run.startedAt) / 1000).toFixed(1)}s in phase "${run.phase}" (${a.reason}); its ${a.devices} devices' facts up to then are kept, and the run is incomplete`;
      run.incomplete.push(line);
      o.log(`WARNING: ${line}`);
    },
    localAddresses: o.sourceAddresses ? sourceAddresses(o.sourceAddresses) : [],
    liveMetrics: o.live !== undefined,
    perNode: s.topology.fleetPerNode ? s.topology.nodes : undefined,
  });
  run.fleet = f;
  o.live?.attachFleet(f);
  startProgress(run, t, f, label);
  if (o.agents) run.phase = 'waiting for agents';
  await f.start().catch((err: unknown) => {
    // too few agents, or a local process that could not start: nothing was judged
    throw err instanceof ControlError ? new RunSetupError(err.message) : err;
  });
  run.phase = 'connecting';
  o.log(`${label}connecting ${plan.devices.length} devices`);
  // every node crashed before its devices got in: the run goes on to its verdicts (`nodes`
  // names the exit) instead of stalling out as a harness error with none
  await untilCrashedOut(run, t, label, 'connecting', watchedFleetPhase(run, t, f, `${label}connecting`, plan.devices.length, f.connect()));
  return f;
}

/**
 * A fleet phase that waits on every device (connecting, the final sync): it fails as a
 * setup error, saying what stalled and what to change, when nothing moved for `stallMs`
 * (no device welcomed or synced) or past its deadline
 * (a minute plus 5 ms a device), instead of waiting for ever.
 */
async function watchedFleetPhase(run: Run, t: Topology, f: Fleet, what: string, devices: number, work: Promise<void>): Promise<void> {
  const stallMs = run.o.stallMs ?? 30_000;
  const deadlineMs = 60_000 + devices * 5;
  const start = Date.now();
  // progress is a device welcomed or synced; connects refused and retried are not
  const signature = () => {
    const x = f.totals();
    return `${x.synced}/${x.counts.welcomes ?? 0}`;
  };
  let last = signature();
  let movedAt = start;
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const now = Date.now();
      const sig = signature();
      if (sig !== last) {
        last = sig;
        movedAt = now;
      }
      const stalled = now - movedAt >= stallMs;
      if (!stalled && now - start < deadlineMs) return;
      const x = f.totals();
      const errors = Object.entries(x.counts).filter(([k]) => k.startsWith('error.')).map(([k, n]) => `${k.slice(6)} ${n}`).join(', ');
      const down = t.nodes.filter((n) => !n.running).map((n) => {
        // how it ended says who ended it: a signal from outside, or a fatal error in its last line
        const e = n.process.exits.at(-1);
        const line = e?.lastLines.filter((l) => !l.text.startsWith('[process exited')).at(-1)?.text.slice(0, 300);
        return `${n.id} is not running${e ? ` (exited ${e.signal ? `on ${e.signal}` : `with code ${e.code}`} at ${new Date(e.at).toISOString()}${line ? `; its last line: ${line}` : ''})` : ''}`;
      });
      reject(
        new RunSetupError(
          `${what} ${stalled ? `stalled: nothing moved for ${Math.round(stallMs / 1000)} s` : `passed its deadline of ${Math.round(deadlineMs / 1000)} s`}` +
            ` — ${x.synced} of ${devices} devices synced, ${x.open} connections open${errors ? `, error answers: ${errors}` : ''}${down.length ? `; ${down.join(', ')}` : ''}.` +
            ` Check the nodes' last log lines; whether this machine can hold the plan (open files: each proxied client link costs the proxy 2; --processes, --nodes, --source-addresses); or run fewer --clients.`,
        ),
      );
    }, 1000);
    timer.unref();
  });
  watchdog.catch(() => {});
  try {
    await Promise.race([work, watchdog]);
  } finally {
    clearInterval(timer);
  }
}

/** Progress about once a second while this storm's fleet lives; `loadStartAt` is 0 until load starts. */
function startProgress(run: Run, t: Topology, f: Fleet, label: string): void {
  let phase = run.phase;
  let phaseStart = Date.now();
  run.progressTimer = setInterval(() => {
    const loadStartAt = run.loadStartAt;
    if (run.phase !== phase) {
      phase = run.phase;
      phaseStart = Date.now();
    }
    run.o.onProgress?.({ phase: `${label}${run.phase}`, elapsedMs: loadStartAt ? Date.now() - loadStartAt : 0, phaseElapsedMs: Date.now() - phaseStart, fleet: f.totals(), activeFaults: t.timeline.filter((e) => e.end === undefined && !/restart|kill/.test(e.kind)).map((e) => `${e.kind} ${e.target}`) });
  }, 1000);
  run.progressTimer.unref();
}

/** The open-loop load for the scenario's duration, with its faults on their schedule. */
async function loadAndFaultsPhase(run: Run, t: Topology, plan: Plan, f: Fleet, label: string): Promise<void> {
  const { s, o } = run;
  run.phase = 'load';
  o.log(`${label}load started`);
  run.loadStartAt = Date.now();
  await f.startLoad();
  // a replay's recorded joins and leaves go the same way as the scenario's drawn ones, at their recorded times
  const script = s.workload.recorded?.membership.length ? s.workload.recorded.membership : undefined;
  const churn = s.membership || script
    ? new MembershipChurn({
        groups: plan.groups,
        users: plan.population.users.map((u) => u.user),
        nodeUrls: () => t.nodes.filter((n) => n.running && !n.paused).map((n) => n.directUrl),
        jwtSecret: t.jwtSecret,
        token: run.userToken,
        ratePerSec: s.membership?.changesPerSec ?? 0,
        seed: o.seed ^ 0x6d656d,
        script,
        crashed: () => {
          const exits = o.target ? [] : nodeExits(t, run.shared ? run.startedAt : 0).exits;
          return exits.length ? exits.map((e) => `${e.node} exited by itself`).join(', ') : undefined;
        },
      })
    : null;
  churn?.start();
  const attack = run.attack === null && s.attack ? startAttack(s, t, o.seed, o.log) : null;
  try {
    await faultsDuringLoad(run, t);
    if (attack) {
      run.phase = 'attack answers';
      run.attack = await attack.stop().catch((err: unknown) => {
        throw new RunSetupError(err instanceof Error ? err.message : String(err));
      });
    }
  } finally {
    // a run that failed before the attack was collected stops it too: its loops must not go on hitting nodes being torn down
    if (attack && !run.attack) await attack.stop().catch(() => {});
    if (churn) {
      const facts = await churn.stop().catch((err: unknown) => {
        if (!(err instanceof MembershipChurnError)) throw err;
        // A node that exited by itself (a crash) is the server's failure, not the harness's:
        // the churn stops and the run goes on to its verdicts, where `nodes` names the exit.
        // Otherwise no change could be made with every node up: no verdict on the server.
        const crashed = o.target ? [] : nodeExits(t, run.shared ? run.startedAt : 0).exits;
        if (!crashed.length) throw new RunSetupError(`membership churn: ${err.message}`);
        o.log(`${label}membership churn stopped: ${err.message} (see the nodes verdict)`);
        return churn.facts;
      });
      run.memberFacts.push(...facts);
      o.log(`${label}membership: ${facts.filter((x) => x.op === 'join').length} joins, ${facts.filter((x) => x.op === 'leave').length} leaves${script ? ` (recorded: ${script.length})` : ''}`);
      for (const r of churn.refused) o.log(`${label}membership: a recorded change was refused: ${r}`);
    }
  }
}

/** The scenario's faults on their schedule while the load runs for its duration. */
async function faultsDuringLoad(run: Run, t: Topology): Promise<void> {
  const { s, o } = run;
  // A fault step that fails (a proxy API error, a process that will not start) ends the
  // run as a setup error at once: what follows would judge a run that did not happen.
  let failed: (err: RunSetupError) => void = () => {};
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => {});
  const faultRuns = s.faults.map((step) =>
    runFault(t, step, run.loadStartAt, run.restarted, run.reclaims, o.log, run.faults.signal, (x) => openWindow(run.fleet, run.windows, x, stepWords(x, true)), () => run.fleet).catch((err: unknown) => {
      const e = new RunSetupError(`fault step failed: ${stepWords(step, true)}: ${err instanceof Error ? err.message : String(err)}`);
      // the other steps stop at their next wait: nothing may restart a node after teardown
      run.faults.abort();
      failed(e);
      throw e;
    }),
  );
  for (const r of faultRuns) r.catch(() => {});
  await Promise.race([sleep(s.durationMs), failure]);
  await Promise.race([Promise.all(faultRuns), failure]);
}

/** The node's open-connection gauge (GET /debug/state; the harness runs nodes with DEBUG_ROUTES=1). */
async function openConnections(adminUrl: string): Promise<number> {
  const res = await httpCall(`${adminUrl}/debug/state`, { timeoutMs: 2000 });
  if (res.status !== 200) throw new Error(`GET ${adminUrl}/debug/state answered ${res.status}`);
  return (JSON.parse(res.text) as { connections: number }).connections;
}

/** Polls the gauge every 100 ms from the blackhole's start until it reads 0 or the deadline passes. */
async function watchReclaim(adminUrl: string, r: Omit<ReclaimSample, 'connectionsAtDeadline' | 'reclaimedAt'>): Promise<ReclaimSample> {
  let n = r.connectionsAtStart;
  for (;;) {
    // a poll that fails or is late (a busy node) is a reading that is not 0, not a setup error
    n = await openConnections(adminUrl).catch(() => n);
    const now = Date.now();
    if (n === 0) return { ...r, reclaimedAt: now, connectionsAtDeadline: 0 };
    if (now >= r.deadline) return { ...r, connectionsAtDeadline: n };
    await sleep(Math.min(100, r.deadline - now));
  }
}

/** Every fault healed, the load stopped, outstanding requests answered (or given up on). */
async function healPhase(run: Run, t: Topology, f: Fleet, label: string): Promise<void> {
  await t.heal();
  run.phase = 'draining';
  run.o.log(`${label}load stopped; waiting for answers`);
  await f.stopLoad();
  await untilCrashedOut(run, t, label, 'the drain', f.drain(15_000));
}

/**
 * Why no answer can come any more, or undefined: every node of the run is down and one of
 * them exited by itself (a crash: the `nodes` verdict names it). Nothing restarts such a
 * node, so the phases that wait on devices end at once instead of waiting out their limits
 * (TEST_BUGS=throw_uncaught_later: 15 s of drain and a stalled final sync made a run 25–38 s,
 * and most of those runs ended without a verdict).
 */
function crashedOut(run: Run, t: Topology): string | undefined {
  if (run.o.target) return undefined;
  if (t.nodes.slice(0, run.s.topology.nodes).some((n) => n.running)) return undefined;
  const exits = nodeExits(t, run.shared ? run.startedAt : 0).exits;
  return exits.length ? `${[...new Set(exits.map((e) => e.node))].join(', ')} exited by itself and no node is running` : undefined;
}

/** `work`, or less when the run crashed out meanwhile (said in the log and the report's notes). */
async function untilCrashedOut(run: Run, t: Topology, label: string, what: string, work: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<string>((resolve) => {
    const poll = () => {
      const why = crashedOut(run, t);
      if (why) resolve(why);
      else timer = setTimeout(poll, 200);
    };
    poll();
  });
  try {
    const r = await Promise.race([work.then(() => undefined), gone]);
    if (r === undefined) return;
    const note = `${label}${what} cut short: ${r} (see the nodes verdict)`;
    run.o.log(note);
    run.notes.push(note);
    // the fleet's own wait goes on in the background: keep its end from being unhandled
    work.catch(() => {});
  } finally {
    clearTimeout(timer);
  }
}

/** Every device reconnects and fetches what it lacks; returns when presence is read as settled. */
async function finalSyncPhase(run: Run, t: Topology, f: Fleet, label: string, devices: number): Promise<number> {
  run.phase = 'final sync';
  run.syncStarts.push(Date.now());
  run.o.log(`${label}final sync: every device reconnects and fetches what it lacks`);
  await untilCrashedOut(run, t, label, 'the final sync', watchedFleetPhase(run, t, f, `${label}final sync`, devices, f.resync()));
  // presence settles after the resync's reconnects: one sweep plus propagation (only judged with checks.presence)
  if (run.s.checks.presence) await sleep(1500);
  return Date.now();
}

/** Stops the fleet and takes its facts and connect latencies. */
async function collectFleet(run: Run, f: Fleet, label: string, lastStorm: boolean, out: StormsResult): Promise<void> {
  run.phase = 'finishing';
  const result = await f.finish();
  run.fleet = null;
  run.o.live?.detachFleet(f);
  stopProgress(run);
  for (const x of result.facts) {
    out.facts.push(x);
    if (x.k === 'conn' && x.event === 'close' && x.code !== undefined) out.closesByCode[String(x.code)] = (out.closesByCode[String(x.code)] ?? 0) + 1;
  }
  for (const x of run.memberFacts.splice(0)) out.facts.push(x);
  // a loop, not push(...): 100k devices connect twice, past the engine's argument limit
  out.connect.merge(result.connect.snapshot());
  clockNotes(run, result, label);
  for (const [k, n] of Object.entries(result.counts)) if (k.startsWith('error.')) out.errorsByCode[k.slice(6)] = (out.errorsByCode[k.slice(6)] ?? 0) + n;
  run.o.log(`${label}fleet done: ${result.facts.length} facts; harness RSS ≈ ${(result.rssPerClient / 1024).toFixed(1)} KiB per simulated device`);
  if (lastStorm) run.notes.push(`harness memory: about ${(result.rssPerClient / 1024).toFixed(1)} KiB RSS per simulated device (${result.processes} fleet process(es))`);
  // sends a device gave up on before writing them (no connection came back in time): not facts, but said
  const neverWritten = result.counts.never_written ?? 0;
  if (neverWritten > 0) run.notes.push(`${label}${neverWritten} send(s) never written: their device had no connection before it gave up (the server never saw them)`);
  const silent = result.counts.liveness_timeouts ?? 0;
  if (silent > 0) run.notes.push(`${label}${silent} connection(s) dropped by their device after hearing nothing for its liveness timeout (workload liveness)`);
  const replaces = result.counts.replaces ?? 0;
  if (replaces > 0) {
    const codes = Object.entries(result.counts).filter(([k]) => k.startsWith('replaced_closes.')).map(([k, n]) => `${k.slice(16)} ×${n}`).join(', ');
    run.notes.push(`${label}${replaces} connection(s) left open while their device connected again on the next node (workload replaceRate); the old ones closed: ${codes || 'none'}`);
  }
  const refused = result.counts.refused_4429 ?? 0;
  if (refused > 0) run.notes.push(`${label}${refused} hello(s) refused 4429 (too many devices), each retried with the device's backoff`);
  const badFrames = result.counts.bad_frames ?? 0;
  if (badFrames > 0) {
    run.notes.push(`${label}${badFrames} frame(s) from the server that PROTOCOL.md does not allow (the server's codec refused them); the devices ignored them`);
    run.o.log(`${label}WARNING: ${badFrames} frame(s) from the server broke the protocol`);
  }
}

/**
 * How latencies between devices on different agents were measured: every fact is stamped
 * on its agent's clock, moved onto the orchestrator's by the agent's measured offset
 * (harness/fleet/clock.ts). send → sent is always on one clock (the sender's); send →
 * delivered is on one clock when sender and receiver are on the same agent, else offset
 * corrected within the two agents' error bounds.
 */
function clockNotes(run: Run, result: FleetResult, label: string): void {
  run.agents = result.agents;
  const remote = run.o.agents !== undefined;
  if (!remote) {
    if (result.agents.length > 1) run.notes.push(`${label}clocks: ${result.agents.length} local fleet processes on this machine share its clock: every latency is measured on one clock`);
    return;
  }
  // residual error per agent after its correction: with none applied, the offset itself may be real
  const bound = new Map(result.agents.map((a, i) => [i, a.clock.correctionMs === 0 ? Math.abs(a.clock.offsetMs) + a.clock.errorMs : a.clock.errorMs + 0.5]));
  const largest = [...bound.values()].sort((x, y) => y - x);
  run.clockErrorMs = Math.max(run.clockErrorMs, largest.length > 1 ? largest[0]! + largest[1]! : 0);
  const sendOf = new Map<string, string>();
  for (const f of result.facts) if (f.k === 'send') sendOf.set(`${f.conv}\n${f.client.slice(0, f.client.indexOf('/'))}\n${f.cmid}`, f.client);
  let same = 0;
  let cross = 0;
  let worst = 0;
  for (const f of result.facts) {
    if (f.k !== 'recv') continue;
    const sender = sendOf.get(`${f.conv}\n${f.from}\n${f.cmid}`);
    if (!sender || sender === f.client) continue;
    const a = result.agentOf.get(sender);
    const b = result.agentOf.get(f.client);
    if (a === undefined || b === undefined) continue;
    if (a === b) same++;
    else {
      cross++;
      worst = Math.max(worst, bound.get(a)! + bound.get(b)!);
    }
  }
  const each = result.agents.map((a) => `${a.agent}${a.host ? ` on ${a.host}` : ''}: ${a.devices} devices, offset ${a.clock.offsetMs} ms ± ${a.clock.errorMs} ms (round trip ${a.clock.rttMs} ms), ${a.clock.correctionMs ? `facts moved by ${-a.clock.correctionMs} ms` : 'within its bound: not moved'}`);
  run.notes.push(
    `${label}clocks: ${each.join('; ')}. send → sent is measured on one agent's clock (the sender's). ` +
      `send → delivered: ${same} receipt(s) with sender and receiver on the same agent (one clock), ${cross} across agents (offset-corrected${cross ? `, error within ±${worst.toFixed(1)} ms` : ''}). ` +
      `order's connect-sequence rule takes a send as answered before a connect only when earlier by more than ${run.clockErrorMs.toFixed(1)} ms (the two largest residual bounds).`,
  );
}

function stopProgress(run: Run): void {
  if (run.progressTimer) clearInterval(run.progressTimer);
  run.progressTimer = null;
}

// ---- HTTP, leak samples ----------------------------------------------------------------

/**
 * The scenario's HTTP load, if any: every user of the plan in turn, each posting to and
 * reading one of its own conversations, so the figures measure the routes rather than
 * one user's send bucket.
 */
async function httpPhase(run: Run, t: Topology, plan: Plan): Promise<HttpResult[]> {
  const { s, o } = run;
  if (!s.http) return [];
  run.phase = 'http';
  const convOf = new Map<string, string>();
  for (const c of plan.population.convs) for (const u of c.members) if (!convOf.has(u)) convOf.set(u, c.conv);
  const users = [...convOf.keys()];
  const tokens = await Promise.all(users.map((u) => run.userToken(u)));
  o.log(`HTTP load: ${s.http.durationSec} s per route, ${s.http.connections} connections, ${users.length} users' tokens in turn`);
  return runHttpLoad({ baseUrl: t.nodes[0]!.directUrl, token: tokens, routes: imRoutes({ convs: users.map((u) => convOf.get(u)!) }), connections: s.http.connections, durationSec: s.http.durationSec });
}

/** Samples of the nodes up the whole run, and the Redis keys of gone connections. */
async function leakSamplesAfter(run: Run, t: Topology, plan: Plan, baseline: ServerSample[]): Promise<LeakSamples> {
  const stable = t.nodes.filter((n) => !run.restarted.has(n.id) && n.running);
  const leaks: LeakSamples = { baseline, after: [], goneKeys: undefined, stable: stable.map((n) => n.id) };
  if (run.leakMode === 'none') return leaks;
  run.phase = 'leak samples';
  // no fixed wait first: each node's sample is taken once it is idle (no connection, no store
  // command, no deregistration pending) with its fds steady over three samples (settledLeakSample)
  leaks.after.push(...(await Promise.all(stable.map((n) => leakSampleOf(run, n)))));
  // a target's Redis is not ours to read (the report's "not checked" says so)
  if (!run.o.target) leaks.goneKeys = await goneConnectionKeys(t.redis.url, plan.population.users.map((u) => u.user));
  if (run.restarted.size) run.notes.push(`leaks: ${[...run.restarted].join(', ')} restarted during the run, so only ${leaks.stable.join(', ') || 'no node'} is compared with its baseline`);
  return leaks;
}

// ---- judge, report -----------------------------------------------------------------------

/** Every checker over the recorded facts and samples. */
function judge(run: Run, t: Topology, plan: Plan, storms: StormsResult, leaks: LeakSamples): Verdict[] {
  const { s } = run;
  run.phase = 'checks';
  const input: Parameters<typeof runAllCheckers>[0] = {
    facts: storms.facts,
    population: plan.population,
    faults: runTimeline(run, t),
    // a target's processes are not watched: the nodes check would pass on nothing
    ...(run.o.target ? {} : { nodes: nodeExits(t, run.shared ? run.startedAt : 0) }),
    reclaims: run.reclaims,
    leaks: run.leakMode !== 'none' ? { baseline: leaks.baseline.filter((b) => leaks.stable.includes(b.node)), after: leaks.after, goneConnectionKeys: leaks.goneKeys, runs: storms.runs.length > 1 ? storms.runs : undefined } : undefined,
    options: {
      unseenWithinMs: s.checks.unseenWithinMs,
      ...(run.clockErrorMs > 0 ? { clockErrorMs: run.clockErrorMs } : {}),
      // a volatile Redis comes back empty: what it held before is gone by design
      ...(s.topology.volatileRedis ? storeWipesOf(runTimeline(run, t)) : {}),
      leakPerConnection: s.checks.leakPerConnection,
      slow: { limitBytes: Number(s.topology.serverEnv.SLOW_CONSUMER_BYTES ?? 1_048_576), maxBodyBytes: Number(s.topology.serverEnv.MAX_BODY_BYTES ?? 16_384), proxied: s.topology.clientLinksBehindProxy !== false },
      presence: s.checks.presence
        ? {
            quiescentAt: storms.quiescentAt,
            at: storms.presenceAt,
            // a killed or cut-off node's users stay online until its lease lapses
            overTime: { settleMs: s.checks.presenceSettleMs, afterFaultMs: Number(s.topology.serverEnv.PRESENCE_TTL_MS ?? 30_000) + 3000 },
            // every node of a topology has the same MAX_DEVICES unless nodeEnv gives one its own: then the limit is not judged
            ...(Object.values(s.topology.nodeEnv ?? {}).some((e) => e.MAX_DEVICES !== undefined) ? {} : { maxDevices: Number(s.topology.serverEnv.MAX_DEVICES ?? 10) }),
          }
        : undefined,
    },
    windows: run.windows,
  };
  const verdicts = runAllCheckers(input);
  run.inflight = windowSummaries(input);
  return verdicts
    .filter((v) => s.checks.presence || v.guarantee !== 'presence')
    .concat(run.attack ? attackVerdicts(run.attack) : []);
}

/** Every node, and each exit of one that the scenario's faults (or a failed start) did not ask for. */
function nodeExits(t: Topology, since = 0): { watched: string[]; exits: NodeExit[] } {
  const exits = t.nodes.flatMap((n) => n.process.exits.filter((e) => !e.expected && e.at >= since).map((e) => ({ node: n.id, at: e.at, code: e.code, signal: e.signal, lastLines: e.lastLines })));
  return { watched: t.nodes.map((n) => n.id), exits };
}

async function reportPhase(
  run: Run,
  t: Topology,
  plan: Plan,
  r: { verdicts: Verdict[]; storms: StormsResult; http: HttpResult[]; serverSamples: ServerSamples; leaks: LeakSamples },
): Promise<RunResult> {
  const { s, o } = run;
  run.phase = 'report';
  const latency = new LatencySet();
  const series = new ThroughputSeries();
  recordFacts(r.storms.facts, { latency, series, slowClients: slowClients(plan, s.workload) });
  latency.get('connect').merge(r.storms.connect.snapshot());
  const report = buildReport({
    scenario: { name: s.name, description: s.description },
    seed: o.seed,
    startedAt: run.startedAt,
    endedAt: Date.now(),
    // load: when the (last storm's) load phase began, so a replay of this run's capture knows where its load ended
    config: { scenario: s, load: { startedAt: run.loadStartAt, durationMs: s.durationMs }, fleetProcesses: run.processes, ...(run.o.agents ? { agents: run.agents } : {}), devices: plan.devices.length, storms: s.checks.storms, ...(run.attack ? { attack: { seed: run.attack.seed, attacks: run.attack.record.attacks, residue: run.attack.residue } } : {}) },
    environment: { provider: t.env.kind, nodes: t.nodes.map((n) => ({ id: n.id, url: run.o.target ? n.directWsUrl : n.directUrl })) },
    thresholds: s.thresholds,
    verdicts: r.verdicts,
    faults: runTimeline(run, t),
    latency,
    series,
    server: r.serverSamples,
    http: r.http,
    errorsByCode: r.storms.errorsByCode,
    closesByCode: r.storms.closesByCode,
    ...(run.windows.length ? { inflight: run.inflight } : {}),
    herd: herdReport({ facts: r.storms.facts, faults: runTimeline(run, t), server: r.serverSamples, syncStarts: run.syncStarts }),
    ...(run.leakMode !== 'none' ? { leaks: leakReport({ baseline: r.leaks.baseline, runs: r.storms.runs, after: r.leaks.after, stable: r.leaks.stable, options: s.checks.leakPerConnection }) } : {}),
    notes: run.notes,
    ...(run.incomplete.length ? { incomplete: run.incomplete } : {}),
    ...(run.notChecked.length ? { notChecked: run.notChecked } : {}),
  });
  if (run.attack) {
    const lines = attackNotes(run.attack, report);
    report.notes.push(...lines);
    for (const l of lines.slice(0, 2)) o.log(l);
  }
  const dir = o.writeReport === false ? '' : (await writeReport(report, { root: o.outRoot })).dir;
  return { report, dir, pass: report.verdict.pass, ...(o.keepFacts ? { facts: r.storms.facts } : {}) };
}

/** Stops whatever is still running, whatever happened. */
async function teardown(run: Run): Promise<void> {
  run.faults.abort();
  stopProgress(run);
  run.fleet?.kill();
  if (run.sampler) await run.sampler.stop().catch(() => {});
  if (run.topo && run.shared) await run.topo.heal().catch((err: unknown) => run.o.log(`teardown: heal: ${String(err)}`));
  else if (run.topo) await run.topo.stop().catch((err: unknown) => run.o.log(`teardown: ${String(err)}`));
  rmSync(run.workDir, { recursive: true, force: true });
}

// ---- faults ------------------------------------------------------------------------------

/** Waits `ms`; false when the run's faults were aborted meanwhile (the step then stops). */
function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve(!signal.aborted);
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
  });
}

async function runFault(t: Topology, step: FaultStep, loadStartAt: number, restarted: Set<string>, reclaims: ReclaimSample[], log: (l: string) => void, signal: AbortSignal, beforeActing: (step: FaultStep) => Promise<unknown>, fleet: () => Fleet | null): Promise<void> {
  const pause = (ms: number) => waitUnlessAborted(ms, signal);
  if (!(await pause(loadStartAt + step.at - Date.now()))) return;
  // the in-flight window: what the devices have at risk, recorded before the step acts
  await beforeActing(step);
  switch (step.kind) {
    case 'toxic': {
      log(`fault: ${step.toxic.type} on ${step.link} for ${step.duration} ms`);
      const toxic = await t.addToxic(step.link, { type: step.toxic.type, stream: step.toxic.stream, toxicity: step.toxic.toxicity, attributes: step.toxic.attributes });
      if (!(await pause(step.duration))) return;
      await toxic.remove();
      return;
    }
    case 'blackhole': {
      log(`fault: ${step.link} blackholed for ${step.duration} ms (reclaim bound ${step.reclaimWithinMs} ms)`);
      const node = t.link(step.link).node;
      const url = t.node(node).adminUrl;
      const connectionsAtStart = await openConnections(url);
      const start = Date.now();
      const toxics = [];
      for (const stream of ['upstream', 'downstream'] as const) toxics.push(await t.addToxic(step.link, { type: 'timeout', stream, attributes: { timeout: 0 } }));
      reclaims.push(await watchReclaim(url, { link: step.link, node, start, deadline: start + step.reclaimWithinMs, connectionsAtStart }));
      if (!(await pause(start + step.duration - Date.now()))) return;
      for (const x of toxics) await x.remove();
      return;
    }
    case 'fleet-pause': {
      const f = fleet();
      if (!f) throw new Error('no fleet is running');
      const index = Number(step.node.split('-')[1]) - 1;
      const url = t.node(step.node).adminUrl;
      const connectionsAtStart = step.reclaimWithinMs !== undefined ? await openConnections(url) : 0;
      log(`fault: the fleet process of ${step.node}'s devices frozen (SIGSTOP) for ${step.duration} ms${step.reclaimWithinMs !== undefined ? ` (reclaim bound ${step.reclaimWithinMs} ms)` : ''}`);
      const start = Date.now();
      f.freeze(index, true);
      try {
        if (step.reclaimWithinMs !== undefined) {
          const cause = `the fleet process of its clients was frozen (SIGSTOP: sockets open, nothing read or written)`;
          reclaims.push(await watchReclaim(url, { link: `fleet-process:${step.node}`, cause, node: step.node, start, deadline: start + step.reclaimWithinMs, connectionsAtStart }));
        }
        await pause(start + step.duration - Date.now());
      } finally {
        // resumed whatever happened: a frozen fleet would never answer the teardown
        f.freeze(index, false);
        t.faults.span('fleet:pause', step.node, start, Date.now());
      }
      return;
    }
    case 'cut':
      log(`fault: ${step.link} cut for ${step.duration} ms`);
      await t.disableLink(step.link);
      if (!(await pause(step.duration))) return;
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
        if (!(await pause(step.restartAfter))) return;
        if (step.target === 'redis') await t.startRedis();
        else await t.startNode(step.target);
      }
      return;
    case 'stop':
      log(`fault: stop ${step.target} (SIGTERM) for ${step.restartAfter} ms`);
      await t.stopRedis();
      if (!(await pause(step.restartAfter))) return;
      await t.startRedis();
      return;
    case 'restart':
      log(`fault: restart ${step.target}`);
      if (step.target === 'redis') await t.restartRedis();
      else {
        restarted.add(step.target);
        await t.restartNode(step.target);
      }
      return;
    case 'bus-drop': {
      log(`fault: ${step.target}'s bus (pub/sub) connection dropped`);
      const d = await dropBusConnection(t.redis.url, step.target);
      // on the timeline until the node is subscribed again: what was published meanwhile it can only fill from the log
      t.faults.span('bus:drop', step.target, d.killedAt, d.backAt ?? Date.now(), { killedId: d.killedId, ...(d.backId ? { backId: d.backId } : { resubscribed: false }) });
      return;
    }
    case 'pause':
      log(`fault: pause ${step.target} for ${step.duration} ms`);
      if (step.target === 'redis') await t.pauseRedis();
      else await t.pauseNode(step.target);
      if (!(await pause(step.duration))) return;
      if (step.target === 'redis') await t.resumeRedis();
      else await t.resumeNode(step.target);
      return;
  }
}
