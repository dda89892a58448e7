// The recorded plan as a data file beside its scenario (fast, no server): what --save-as
// writes loads back as the same scenario through `imstorm run`'s file loader, and a plan
// file that is missing, not JSON, or wrong in a field fails the load naming the file and
// the field.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { defineScenario } from '../../harness/scenario/define.ts';
import { loadScenarioFile } from '../../harness/scenario/load-file.ts';
import { loadRecorded } from '../../harness/fleet/recorded-file.ts';
import type { Recorded } from '../../harness/fleet/recorded.ts';
import { saveReplayScenario, scenarioFileText } from '../../harness/replay/replay.ts';
import { scenarios } from '../../scenarios/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// inside the repository, so a saved file's `import … from 'imstorm'` resolves
const dir = mkdtempSync(path.join(ROOT, 'test/scenario/.tmp-run-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const recorded: Recorded = {
  source: 'cap',
  groups: [{ id: 'g1', owner: 'a', members: ['a', 'b'] }],
  membership: [{ at: 40, group: 'g1', user: 'c', op: 'join', by: 'a' }],
  dms: ['dm:a:b'],
  devices: [
    { user: 'a', device: 'd0', node: 1, presenceSubs: [], steps: [{ op: 'send', at: 10, conv: 'g:g1', cmid: 'a.1', bytes: 64 }, { op: 'drop', at: 50, code: 1000 }, { op: 'connect', at: 80 }] },
    { user: 'b', device: 'd0', node: 2, presenceSubs: ['a'], steps: [{ op: 'ack', at: 30, conv: 'g:g1', seq: 1 }] },
  ],
};
const replayed = defineScenario({
  name: 'tiny-replay',
  description: 'a replay',
  proves: ['(test)'],
  topology: { nodes: 2, serverEnv: { TEST_BUGS: 'skip_gap_fill', CAPTURE_DIR: '/tmp/x', PRESENCE_TTL_MS: 3000 } },
  workload: { users: 2, devicesPerUser: 1, dmsPerUser: 0, groups: 0, sendRate: 0, ack: 'never', recorded },
  durationMs: 2_000,
  faults: [{ kind: 'bus-drop', at: 40, target: 'node-2' }],
  checks: { leaks: false },
});

describe('saveReplayScenario', () => {
  it('writes a short scenario file and its plan beside it; the file loads as the replayed scenario (without the capture and the test bugs)', async () => {
    const files = saveReplayScenario(path.join(dir, 'tiny-replay.ts'), replayed, 'reports/captures/x');
    expect(files.planFile).toBe(path.join(dir, 'tiny-replay.plan.json'));
    const text = readFileSync(files.scenarioFile, 'utf8');
    expect(text).toMatch(/^import \{ defineScenario, loadRecorded \} from 'imstorm';$/m);
    expect(text).toContain('"recorded": loadRecorded(new URL("./tiny-replay.plan.json", import.meta.url))');
    expect(text).not.toContain('"op"');
    expect(text).not.toMatch(/CAPTURE_DIR|TEST_BUGS/);
    // every step on a line of its own
    expect(readFileSync(files.planFile, 'utf8')).toMatch(/^ {6}\{"op":"drop","at":50,"code":1000\},$/m);
    const loaded = await loadScenarioFile(files.scenarioFile);
    expect(loaded).toEqual({ ...replayed, topology: { ...replayed.topology, serverEnv: { PRESENCE_TTL_MS: 3000 } } });
  });

  it('refuses a scenario without a recorded plan', () => {
    const { recorded: _r, ...workload } = replayed.workload;
    expect(() => scenarioFileText({ ...replayed, workload }, 'x', 'x.plan.json')).toThrow(/tiny-replay has no recorded plan/);
  });
});

describe('loadRecorded', () => {
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('names the file and the field of a malformed step, and says how to fix it', () => {
    const bad = structuredClone(recorded) as { devices: { steps: Record<string, unknown>[] }[] };
    bad.devices[0]!.steps[1] = { op: 'drop', at: -5, code: 1000 };
    bad.devices[1]!.steps[0] = { op: 'wave', at: 30 };
    const f = write('bad-step.plan.json', JSON.stringify(bad));
    const msg = (() => {
      try {
        loadRecorded(f);
      } catch (err) {
        return (err as Error).message;
      }
      return 'loaded';
    })();
    expect(msg).toContain(path.relative(process.cwd(), f));
    expect(msg).toMatch(/devices\[0\]\.steps\[1\]\.at: Too small/);
    expect(msg).toMatch(/devices\[1\]\.steps\[0\]\.op: /);
    expect(msg).toMatch(/imstorm replay … --save-as/);
  });

  it('names a missing field, a file that is not JSON, and a missing file', () => {
    const { devices: _d, ...noDevices } = recorded;
    expect(() => loadRecorded(write('no-devices.plan.json', JSON.stringify(noDevices)))).toThrow(/no-devices\.plan\.json: devices: Invalid input: expected array/);
    expect(() => loadRecorded(write('cut.plan.json', '{"source": "cap", "groups": ['))).toThrow(/cut\.plan\.json: not JSON/);
    expect(() => loadRecorded(path.join(dir, 'gone.plan.json'))).toThrow(/gone\.plan\.json: cannot read it \(ENOENT\)/);
  });

  it('fails the scenario file that loads a malformed plan, naming the plan file', async () => {
    const files = saveReplayScenario(path.join(dir, 'broken-replay.ts'), replayed, 'cap');
    writeFileSync(files.planFile, readFileSync(files.planFile, 'utf8').replace('"node":2', '"node":0'));
    await expect(loadScenarioFile(files.scenarioFile)).rejects.toThrow(/cannot load .*broken-replay\.ts: recorded plan .*broken-replay\.plan\.json: devices\[1\]\.node: Too small/);
  });

  it('loads the registered incident bus-drop-gap-fill from its plan file: 16 devices, their steps', () => {
    const r = scenarios.get('bus-drop-gap-fill')!.workload.recorded!;
    expect(r.devices).toHaveLength(16);
    expect(r.devices.reduce((n, d) => n + d.steps.length, 0)).toBeGreaterThan(300);
  });
});
