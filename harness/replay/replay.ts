// `imstorm replay`: a capture (or a report directory) back to a scenario, run through the
// scenario runner like any other, judged by every checker, and set beside the original.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { defineScenario, faultStep, scenarioSchema, type FaultStep, type Scenario, type ScenarioInput } from '../scenario/define.ts';
import { runScenario, type RunOptions, type RunResult } from '../scenario/run.ts';
import { parseReport, type Report } from '../report/schema.ts';
import { readCapture, type CaptureData } from './read.ts';
import type { FaultEvent } from '../model/facts.ts';
import { faultsOfRun, planReplay, type ReplayPlan, type ReplayWindow } from './plan.ts';
import { divergences, sideBySide, summarize, type CaptureSummary, type Divergence } from './compare.ts';
import { compactJson, recordedFileOf, writeRecorded } from '../fleet/recorded-file.ts';
import { maxOf } from '../util/extent.ts';

export interface ReplayOptions extends ReplayWindow {
  /** a hand-written incident timeline (scenario fault steps), on top of the implied faults */
  extraFaults: FaultStep[];
  /** leave out the faults the capture implies */
  impliedFaults: boolean;
  /** more server environment for the replay's nodes (e.g. TEST_BUGS on a test build) */
  serverEnv: Record<string, string>;
  /** a scenario name (the --save-as file's) */
  name?: string;
}

export class ReplayError extends Error {}

/** A hand-written fault timeline: a JSON array of scenario fault steps, checked step by step. */
export function readFaultTimeline(file: string): FaultStep[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ReplayError(`--faults ${file}: ${err instanceof SyntaxError ? `not JSON (${err.message})` : `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`}; give a JSON array of fault steps, e.g. [{"kind":"cut","at":2000,"duration":1000,"link":"client-link:node-1"}]`);
  }
  const r = z.array(faultStep).safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ReplayError(`--faults ${file}: step ${i.path.join('.')}: ${i.message} (the scenario fault format: README "Scenarios", fault steps)`);
  }
  return r.data;
}

/**
 * What a report says of the run its capture came from and the capture cannot: the nodes'
 * settings (a capture does not hold SEND_RATE or PRESENCE_TTL_MS, yet they shape the
 * answers), the faults on its timeline, and when its load phase ended (after it come the
 * final sync and the HTTP measurements, which are no device's doing).
 */
export interface OriginalRun {
  serverEnv: Record<string, string | number>;
  nodeEnv: Record<string, Record<string, string | number>>;
  faults: FaultEvent[];
  /** wall ms the original load phase ended, when the report says (config.load) */
  loadEnd?: number;
}

const CAPTURE_KEYS = ['CAPTURE_DIR', 'CAPTURE_SAMPLE', 'CAPTURE_MAX_BYTES', 'CAPTURE_BODIES'];
const withoutCapture = <V>(env: Record<string, V>) => Object.fromEntries(Object.entries(env).filter(([k]) => !CAPTURE_KEYS.includes(k)));

/** The OriginalRun of a report written by `imstorm run` (its config.scenario and config.load). */
export function originalRun(r: Report): OriginalRun {
  const stored = scenarioSchema.safeParse((r.config as { scenario?: unknown }).scenario);
  const load = z.object({ startedAt: z.number(), durationMs: z.number() }).safeParse((r.config as { load?: unknown }).load);
  const topo = stored.success ? stored.data.topology : null;
  return {
    serverEnv: topo ? withoutCapture(topo.serverEnv) : {},
    nodeEnv: topo ? Object.fromEntries(Object.entries(topo.nodeEnv).map(([n, env]) => [n, withoutCapture(env)])) : {},
    faults: r.faults,
    ...(load.success && load.data.startedAt > 0 ? { loadEnd: load.data.startedAt + load.data.durationMs } : {}),
  };
}

/** The scenario a capture replays as: its recorded plan, the implied and hand-written faults, every checker. */
export function replayScenario(cap: CaptureData, o: ReplayOptions, run?: OriginalRun): { scenario: Scenario; plan: ReplayPlan } {
  // a report's capture: by default up to the end of its load phase
  const firstHello = cap.records.find((r) => r.k === 'hello')?.w;
  const loadTo = run?.loadEnd !== undefined && firstHello !== undefined ? run.loadEnd - firstHello : undefined;
  const toMs = o.toMs ?? (loadTo !== undefined && loadTo > (o.fromMs ?? 0) ? loadTo : undefined);
  const plan = planReplay(cap, { ...o, toMs });
  if (run && o.impliedFaults) {
    const more = faultsOfRun(run.faults, plan.t0, plan.t1, o.speed);
    plan.faults = [...plan.faults, ...more.faults].sort((a, b) => a.at - b.at);
    plan.faultNotes = [...plan.faultNotes, ...more.notes];
  }
  const devicesOf = new Map<string, number>();
  for (const d of plan.recorded.devices) devicesOf.set(d.user, (devicesOf.get(d.user) ?? 0) + 1);
  const users = new Set(devicesOf.keys());
  const perUser = maxOf(devicesOf.values());
  const faults = [...(o.impliedFaults ? plan.faults : []), ...o.extraFaults].sort((a, b) => a.at - b.at);
  const lastFault = maxOf([0, ...faults.map((f) => f.at + ('duration' in f ? f.duration : 'restartAfter' in f ? (f.restartAfter ?? 0) : 0))]);
  const name = o.name ?? `replay-${path.basename(path.resolve(cap.dir)).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'capture'}`;
  const input: ScenarioInput = {
    name,
    description: `replay of the capture in ${cap.dir}${o.speed !== 1 ? ` at ×${o.speed}` : ''}: ${plan.recorded.devices.length} devices, ${plan.recorded.groups.length} groups, ${plan.recorded.dms.length} dms${plan.recorded.membership.length ? `, ${plan.recorded.membership.length} membership changes` : ''}`,
    proves: ['the recorded devices, sends (socket and HTTP), acks, read marks, history requests, presence subscriptions, reconnects, membership changes and faults, replayed against this build, keep every delivery guarantee'],
    topology: {
      nodes: plan.nodes,
      // the original nodes' settings, under what --server-env says
      serverEnv: { ...run?.serverEnv, ...o.serverEnv },
      ...(run && Object.keys(run.nodeEnv).length ? { nodeEnv: run.nodeEnv } : {}),
    },
    workload: {
      users: Math.max(2, users.size),
      devicesPerUser: Math.min(10, perUser),
      dmsPerUser: 0,
      groups: 0,
      sendRate: 0,
      ack: 'never',
      recorded: plan.recorded,
    },
    durationMs: Math.max(plan.durationMs, lastFault + 1000),
    faults,
    // leaks need thousands of connections to say anything (README "Idle memory"); the rest all run
    checks: { leaks: false },
  };
  return { scenario: defineScenario(input), plan };
}

/** Stands in the scenario's JSON for the expression that loads its plan file. */
const RECORDED_HOLE = '\u0000recorded\u0000';

/**
 * A scenario file that `imstorm run ./file.ts` runs: the replay frozen, its topology, load
 * and faults inline and its recorded plan (thousands of steps) loaded from `planFile`, a
 * data file beside it (see saveReplayScenario).
 */
export function scenarioFileText(s: Scenario, from: string, planFile: string): string {
  if (!s.workload.recorded) throw new ReplayError(`scenario ${s.name} has no recorded plan: only a replay is saved with --save-as`);
  // the replay's own capture and a test build's bugs are the replay command's, not the scenario's
  const { CAPTURE_DIR: _c, TEST_BUGS: _t, ...serverEnv } = s.topology.serverEnv;
  const frozen = { ...s, topology: { ...s.topology, serverEnv }, workload: { ...s.workload, recorded: RECORDED_HOLE } };
  const load = `loadRecorded(new URL(${JSON.stringify(`./${planFile}`)}, import.meta.url))`;
  return [
    `// Frozen by \`imstorm replay ${from}\` on ${new Date().toISOString().slice(0, 10)}: the recorded devices and`,
    `// their steps (workload.recorded) are data in ${planFile} beside this file, checked when it`,
    '// is loaded; the faults are below. Run it with `npx imstorm run ./<this file>`.',
    "import { defineScenario, loadRecorded } from 'imstorm';",
    '',
    `export default defineScenario(${compactJson(frozen, '').replace(JSON.stringify(RECORDED_HOLE), load)});`,
    '',
  ].join('\n');
}

/** `--save-as dir/name.ts`: writes the scenario file and its plan file (dir/name.plan.json); returns both paths. */
export function saveReplayScenario(file: string, s: Scenario, from: string): { scenarioFile: string; planFile: string } {
  const scenarioFile = path.resolve(file);
  const planFile = recordedFileOf(scenarioFile);
  mkdirSync(path.dirname(scenarioFile), { recursive: true });
  writeRecorded(planFile, s.workload.recorded!);
  writeFileSync(scenarioFile, scenarioFileText(s, from, path.basename(planFile)));
  return { scenarioFile, planFile };
}

export interface ReplayOutcome {
  result: RunResult;
  scenario: Scenario;
  /** capture replays: the original and the replay side by side, and the divergences */
  original?: CaptureSummary;
  replay?: CaptureSummary;
  divergences?: { total: number; list: Divergence[] };
  table: string[];
  faultNotes: string[];
  /** what of the capture could not be replayed */
  notes: string[];
}

const violationsOf = (r: Report) => Object.fromEntries(r.checks.filter((c) => !c.ok).map((c) => [c.guarantee, c.violationsTotal]));

/**
 * The wall-clock windows the side-by-side table compares: both over the steps (and 1 s for
 * their answers) — not the original's own end of run (a harness run's HTTP phase and leak
 * samples), nor the replay's final sync after its load — and the replay's as long as the
 * original's, scaled by the speed. (Where the original's load ended within that second, the
 * replay's window used to run on to the full second: the same sends over 3 % more time read
 * sends/s and deliveries/s −3 % in every smoke replay.)
 */
export function comparisonWindows(plan: Pick<ReplayPlan, 't0' | 't1' | 'lastStepMs'>, speed: number, loadStart: number): { original: [number, number]; replay: [number, number] } {
  const end = Math.min(plan.t1, plan.t0 + (plan.lastStepMs + 1000) * speed);
  return { original: [plan.t0, end], replay: [loadStart, loadStart + (end - plan.t0) / speed] };
}

/** Replays a capture directory, or a report directory (from its capture when it holds one, else from its stored scenario and seed). */
export async function replay(source: string, o: ReplayOptions, run: Omit<RunOptions, 'seed'> & { seed?: number }): Promise<ReplayOutcome> {
  const reportFile = path.join(source, 'report.json');
  const original = existsSync(reportFile) ? parseReport(JSON.parse(readFileSync(reportFile, 'utf8'))) : null;
  const hasCapture = existsSync(path.join(source, 'capture')) || !original;
  if (original && !hasCapture) return rerunReport(original, o, run);
  const cap = readCapture(source);
  // named as the user gave it (a relative path stays relative in the saved scenario)
  cap.dir = path.relative(process.cwd(), cap.dir) || cap.dir;
  const { scenario, plan } = replayScenario(cap, o, original ? originalRun(original) : undefined);
  const own = mkdtempSync(path.join(os.tmpdir(), 'imstorm-replay-capture-'));
  let loadStart = 0;
  try {
    const s = { ...scenario, topology: { ...scenario.topology, serverEnv: { ...scenario.topology.serverEnv, CAPTURE_DIR: own } } };
    const result = await runScenario(s, {
      ...run,
      seed: run.seed ?? original?.seed as number ?? 1,
      log: (line) => {
        if (/load started$/.test(line)) loadStart = Date.now();
        run.log(line);
      },
    });
    // the replay's own capture goes with its report: a replay can be replayed
    cpSync(own, path.join(result.dir, 'capture'), { recursive: true });
    const mine = readCapture(path.join(result.dir, 'capture'));
    const win = comparisonWindows(plan, o.speed, loadStart);
    const before = summarize(cap, ...win.original);
    const after = summarize(mine, ...win.replay);
    const div = divergences(cap, win.original, mine, win.replay);
    const table = [...sideBySide(before, after, { original: original ? violationsOf(original) : null, replay: violationsOf(result.report) }), ...(original ? clientLatencyRows(original, result.report) : [])];
    writeReplayFiles(result.dir, { source, plan, table, before, after, div });
    return { result, scenario, original: before, replay: after, divergences: div, table, faultNotes: plan.faultNotes, notes: plan.notes };
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
}

/** A report's side by side: the fleets' own latencies (from each send's intended time), as both reports measured them. */
function clientLatencyRows(original: Report, replayed: Report): string[] {
  const lat = (r: Report, m: string, p: 'p50' | 'p99') => r.latency.metrics.find((x) => x.name === m)?.percentiles[p] ?? null;
  const rows: string[] = [];
  for (const [m, what] of [['sendToSent', 'send→sent'], ['sendToDelivered', 'send→delivered']] as const)
    for (const p of ['p50', 'p99'] as const) {
      const a = lat(original, m, p);
      const b = lat(replayed, m, p);
      if (a === null && b === null) continue;
      const pctDiff = a && b !== null ? ` (${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(0)} %)` : '';
      rows.push(`| ${what} ${p} (ms, fleet; the report's whole run) | ${a === null ? '–' : +a.toFixed(1)} | ${b === null ? '–' : +b.toFixed(1)}${pctDiff} |`);
    }
  return rows;
}

function writeReplayFiles(dir: string, x: { source: string; plan: ReplayPlan; table: string[]; before: CaptureSummary; after: CaptureSummary; div: { total: number; list: Divergence[] } }): void {
  writeFileSync(path.join(dir, 'replay.json'), JSON.stringify({ kind: 'imstorm.replay', version: 1, source: x.source, window: { t0: x.plan.t0, t1: x.plan.t1 }, impliedFaults: x.plan.faults, faultNotes: x.plan.faultNotes, original: x.before, replay: x.after, divergences: x.div }, null, 2));
  writeFileSync(
    path.join(dir, 'replay.md'),
    [`# Replay of ${x.source}`, '', ...x.table, '', `## Implied faults`, '', ...(x.plan.faultNotes.length ? x.plan.faultNotes.map((n) => `- ${n}`) : ['none']), '', ...(x.plan.notes.length ? ['## Not replayed', '', ...x.plan.notes.map((n) => `- ${n}`), ''] : []), `## Divergences (${x.div.total})`, '', ...(x.div.list.length ? x.div.list.map((d) => `- ${d.what}`) : ['none']), ''].join('\n'),
  );
}

/** A harness run again from its report: the stored (resolved) scenario, seed and fault timeline. */
async function rerunReport(original: Report, o: ReplayOptions, run: Omit<RunOptions, 'seed'> & { seed?: number }): Promise<ReplayOutcome> {
  const stored = scenarioSchema.safeParse((original.config as { scenario?: unknown }).scenario);
  if (!stored.success) throw new ReplayError(`report ${original.id} does not hold its scenario (config.scenario: ${stored.error.issues[0]?.message}); only reports written by imstorm run can be re-run`);
  const base = stored.data;
  // a run that captured does not capture again into the same directory: its files would mix with the original's
  const { CAPTURE_DIR: _c, CAPTURE_SAMPLE: _s, CAPTURE_MAX_BYTES: _m, CAPTURE_BODIES: _b, ...env } = base.topology.serverEnv;
  const scenario = defineScenario({ ...base, faults: [...base.faults, ...o.extraFaults], topology: { ...base.topology, nodes: run.nodes ?? base.topology.nodes, serverEnv: { ...env, ...o.serverEnv } } });
  const seed = typeof original.seed === 'number' ? original.seed : Number(original.seed);
  const result = await runScenario(scenario, { ...run, seed: run.seed ?? seed });
  const lat = (r: Report, m: string, p: 'p50' | 'p99') => r.latency.metrics.find((x) => x.name === m)?.percentiles[p] ?? null;
  const rows: [string, number | null, number | null][] = [
    ['send→sent p50 (ms)', lat(original, 'sendToSent', 'p50'), lat(result.report, 'sendToSent', 'p50')],
    ['send→sent p99 (ms)', lat(original, 'sendToSent', 'p99'), lat(result.report, 'sendToSent', 'p99')],
    ['send→delivered p50 (ms)', lat(original, 'sendToDelivered', 'p50'), lat(result.report, 'sendToDelivered', 'p50')],
    ['send→delivered p99 (ms)', lat(original, 'sendToDelivered', 'p99'), lat(result.report, 'sendToDelivered', 'p99')],
    ...[...new Set([...Object.keys(original.closesByCode ?? {}), ...Object.keys(result.report.closesByCode ?? {})])].map((k): [string, number | null, number | null] => [`closes ${k}`, original.closesByCode?.[k] ?? 0, result.report.closesByCode?.[k] ?? 0]),
  ];
  const v = (r: Report) => violationsOf(r);
  const guarantees = [...new Set([...Object.keys(v(original)), ...Object.keys(v(result.report))])];
  const table = ['| | original | replay |', '|---|---|---|', `| verdict | ${original.verdict.pass ? 'PASS' : 'FAIL'} | ${result.report.verdict.pass ? 'PASS' : 'FAIL'} |`, ...rows.map(([k, a, b]) => `| ${k} | ${a ?? '–'} | ${b ?? '–'} |`), ...guarantees.map((g) => `| violations: ${g} | ${v(original)[g] ?? 0} | ${v(result.report)[g] ?? 0} |`)];
  mkdirSync(result.dir, { recursive: true });
  writeFileSync(path.join(result.dir, 'replay.md'), [`# Re-run of ${original.id} (seed ${seed})`, '', ...table, ''].join('\n'));
  return { result, scenario, table, faultNotes: [], notes: [] };
}
