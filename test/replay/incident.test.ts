// Issue 12's done-when: an incident recorded on a server with a deliberate bug
// (TEST_BUGS=skip_gap_fill: after a node's bus connection drops, its hole fills come back
// empty and the holes are announced as trimmed) while the fault hits, then replayed from
// the capture alone: the violation appears against the buggy build and not against the
// correct one, and the scenario saved from the replay (a scenario file and its recorded
// plan as data beside it) is that same scenario (it loads equal); the regression scenario
// registered in ci, saved the same way, fails on the buggy build (its control). Real
// nodes, Redis, proxies and fleet processes throughout.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { defineScenario, type Scenario } from '../../harness/scenario/define.ts';
import { loadScenarioFile } from '../../harness/scenario/load-file.ts';
import { runScenario } from '../../harness/scenario/run.ts';
import { replay, saveReplayScenario, type ReplayOptions } from '../../harness/replay/replay.ts';
import { scenarios, suites } from '../../scenarios/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-incident-'));
const captureDir = path.join(out, 'capture-incident');
// inside the repository, so the saved file's `import … from 'imstorm'` resolves
const saveDir = mkdtempSync(path.join(ROOT, 'test/scenario/.tmp-run-file-'));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  rmSync(saveDir, { recursive: true, force: true });
});

const BUG = { TEST_BUGS: 'skip_gap_fill' };
const run = { env: 'local' as const, outRoot: out, log: () => {} };
const lostOf = (s: { report: { checks: { guarantee: string; ok: boolean; violationsTotal: number; violations: { message: string }[] }[] } }) => s.report.checks.find((c) => c.guarantee === 'lost')!;

it('records an incident on a buggy build while node-2 loses its bus; its replay fails `lost` on that build and passes on the correct one; the saved scenario is the replay; the registered one fails on the buggy build', async () => {
  // 1. the incident, captured by every node
  const incident: Scenario = defineScenario({
    name: 'incident-bus-drop',
    description: 'captured incident',
    proves: ['(the incident)'],
    topology: { nodes: 2, serverEnv: { ...BUG, CAPTURE_DIR: captureDir, STORE_TIMEOUT_MS: 1000 } },
    workload: { users: 16, devicesPerUser: 1, dmsPerUser: 1, groups: 3, groupSize: 6, sendRate: 60, bodyBytes: 64, ack: 'batched' },
    durationMs: 4_000,
    faults: [{ kind: 'bus-drop', at: 1_500, target: 'node-2' }],
    checks: { presence: false, leaks: false },
  });
  const original = await runScenario(incident, { ...run, seed: 7 });
  expect(lostOf(original).ok).toBe(false);

  // 2. the replay, from the capture alone (its first 5 s: the connect phase and the load), on the buggy build
  const opts: ReplayOptions = { speed: 1, toMs: 5_000, extraFaults: [], impliedFaults: true, serverEnv: BUG, name: 'incident-replay' };
  const buggy = await replay(captureDir, opts, run);
  // the capture implied the fault: node-2's bus link alone went down about 1.5 s into the load
  expect(buggy.scenario.faults).toEqual([expect.objectContaining({ kind: 'bus-drop', target: 'node-2' })]);
  expect(buggy.faultNotes[0]).toMatch(/^bus-drop node-2 at \d+ ms: node-2's bus link alone went down/);
  const lostBuggy = lostOf(buggy.result);
  expect(lostBuggy.ok, 'lost on the buggy build').toBe(false);
  expect(lostBuggy.violations[0]!.message).toMatch(/^(dm|g):\S+ seq \d+ \(epoch \S+, cmid \S+ from \S+, answered sent at t\+[\d.]+s\) never reached member \S+ on device \S+/);
  // the replay sent what was recorded: the same sends, the same cmids
  expect(buggy.replay!.sends).toBe(buggy.original!.sends);
  expect(buggy.divergences!.list.filter((d) => d.kind === 'send-not-replayed')).toEqual([]);

  // 3. the same replay against the correct build
  const fixed = await replay(captureDir, { ...opts, serverEnv: {} }, run);
  expect(fixed.result.report.verdict.failures).toEqual([]);
  expect(fixed.result.pass).toBe(true);
  expect(lostOf(fixed.result).violationsTotal).toBe(0);

  // 4. the replay saved as a scenario file and its plan file beside it: it loads as the replayed scenario
  const file = path.join(saveDir, 'incident-replay.ts');
  const files = saveReplayScenario(file, fixed.scenario, captureDir);
  expect(files.planFile).toBe(path.join(saveDir, 'incident-replay.plan.json'));
  expect(readFileSync(file, 'utf8')).toMatch(/^import \{ defineScenario, loadRecorded \} from 'imstorm';$/m);
  expect(readFileSync(file, 'utf8')).not.toMatch(/"op":/);
  const saved = await loadScenarioFile(file);
  const { CAPTURE_DIR: _c, ...fixedEnv } = fixed.scenario.topology.serverEnv;
  expect(saved).toEqual({ ...fixed.scenario, topology: { ...fixed.scenario.topology, serverEnv: fixedEnv } });

  // 5. the control of the regression scenario the ci suite runs (scenarios/incidents/bus-drop-gap-fill.ts, saved the
  // same way from the README's capture): on the buggy build it fails `lost`; on the correct one ci runs it
  const registered = scenarios.get('bus-drop-gap-fill')!;
  expect(suites.get('ci')!.scenarios).toContain('bus-drop-gap-fill');
  const control = await runScenario({ ...registered, topology: { ...registered.topology, serverEnv: { ...registered.topology.serverEnv, ...BUG } } }, { ...run, seed: 1 });
  expect(lostOf(control).ok, 'lost on the buggy build, from the registered regression scenario').toBe(false);
}, 150_000);
