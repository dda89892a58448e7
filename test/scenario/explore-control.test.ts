// The control for `imstorm explore`: against a deliberately broken server (TEST_BUGS=
// drop_replay: a replay read loses its first message, announced as trimmed), a small
// exploration must find a violation, shrink it to at most 3 faults and 4 devices, print its
// timeline and write a scenario file; that file must fail on the broken server and pass on
// the correct one. Real nodes, Redis, proxies, fleet. Seed 3 draws a first case that hits the
// bug (fast-check generation is deterministic per seed; the runs are not).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli.ts';
import { loadScenarioFile } from '../../harness/scenario/load-file.ts';
import { runScenario } from '../../harness/scenario/run.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// inside the repository, so the file's `import … from 'imstorm'` resolves to the package
const dir = mkdtempSync(path.join(ROOT, 'test/scenario/.tmp-explore-'));
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-explore-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

describe('imstorm explore against TEST_BUGS=drop_replay', () => {
  it('finds and shrinks a violation, writes a scenario that fails on the broken server and passes on the correct one', { timeout: 150_000 }, async () => {
    const file = path.join(dir, 'found-drop-replay.ts');
    const lines: string[] = [];
    const code = await main(
      ['explore', '--env', 'local', '--seed', '3', '--budget', '30s', '--shrink-budget', '25s', '--repeat', '1', '--confirm', '2', '--server-env', 'TEST_BUGS=drop_replay', '--out', file],
      { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`) },
    );
    const text = lines.join('\n');
    expect(code, text).toBe(1);
    // progress while it runs, then the counterexample: sizes before and after, how often it reproduces
    expect(text).toMatch(/\[explore \d+:\d\d\] run 1 \(/);
    expect(text).toMatch(/\[explore \d+:\d\d\] (replay of the failing case|shrink candidate \d+ \(step \d+\)), run 1\/1: /);
    expect(text).toMatch(/^COUNTEREXAMPLE \(.*lost.*\):$/m);
    const after = /^ {2}after: {2}(\d+) devices, (\d+) fault\(s\)/m.exec(text);
    expect(after, text).not.toBeNull();
    expect(Number(after![1])).toBeLessThanOrEqual(4);
    expect(Number(after![2])).toBeLessThanOrEqual(3);
    expect(text).toMatch(/^ {2}reproduces in \d of 2 re-runs/m);
    // the timeline: the schedule, events, and what was violated, naming the message
    expect(text).toMatch(/^fault schedule \(from the load's start\):$/m);
    expect(text).toMatch(/^ {2}t\+\d+\.\d{3}s +\S+\/d\d (send|got|welcome) /m);
    expect(text).toMatch(/^ {4}- (dm|g):\S+ seq \d+ .* never reached member /m);
    expect(text).toMatch(/^fast-check replay: imstorm explore --seed 3 --path \d+(:\d+)* --server-env TEST_BUGS=drop_replay$/m);
    expect(readFileSync(file, 'utf8')).toMatch(/^\/\/ fast-check replay of this case: imstorm explore --seed 3 --path /m);

    // the saved scenario replays on a fresh environment: it fails on the broken server…
    const s = await loadScenarioFile(file);
    expect(s.topology.serverEnv.TEST_BUGS).toBe('drop_replay');
    const broken = await runScenario(s, { env: 'local', seed: s.seed!, outRoot: out, log: () => {} });
    expect(broken.report.checks.find((c) => c.guarantee === 'lost')!.ok).toBe(false);
    // …and passes on the correct one
    const { TEST_BUGS: _bug, ...env } = s.topology.serverEnv;
    const fixed = await runScenario({ ...s, topology: { ...s.topology, serverEnv: env } }, { env: 'local', seed: s.seed!, outRoot: out, log: () => {} });
    expect(fixed.report.verdict.failures).toEqual([]);
  });
});
