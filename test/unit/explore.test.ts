// imstorm explore's pure parts, fast: the arbitrary (every case a valid scenario), the
// search and shrink loop over a fake runner (so its logic is tested without real runs), the
// timeline, and the scenario file (written, then loaded back by the runner's file loader).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { explore } from '../../harness/explore/explore.ts';
import type { RunOutcome } from '../../harness/explore/runner.ts';
import { scenarioFileText, writeScenarioFile, foundName, runnablePath } from '../../harness/explore/scenario-file.ts';
import { burstStages, caseArb, devicesOf, FAULT_KINDS, toScenario, type ExploreCase } from '../../harness/explore/space.ts';
import { renderTimeline } from '../../harness/explore/timeline.ts';
import { main } from '../../harness/cli.ts';
import { DEFAULT_GUARANTEES, replayCommand } from '../../harness/explore/cli.ts';
import { defineScenario, type Scenario } from '../../harness/scenario/define.ts';
import { loadScenarioFile } from '../../harness/scenario/load-file.ts';
import type { Fact } from '../../harness/model/facts.ts';
import type { Guarantee } from '../../harness/model/guarantees.ts';
import type { Report } from '../../harness/report/schema.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the search space', () => {
  it('every drawn case is a scenario defineScenario accepts, inside the bounds of the brief', () => {
    fc.assert(
      fc.property(caseArb(), (c) => {
        const s = defineScenario(toScenario(c, { name: 'x' }));
        expect(s.topology.nodes).toBeGreaterThanOrEqual(1);
        expect(s.topology.nodes).toBeLessThanOrEqual(3);
        expect(devicesOf(c)).toBeGreaterThanOrEqual(2);
        expect(devicesOf(c)).toBeLessThanOrEqual(50);
        expect(s.durationMs).toBeLessThanOrEqual(4000);
        for (const f of s.faults) {
          expect(f.at).toBeLessThan(s.durationMs);
          const node = 'link' in f ? f.link.split(':')[1] : 'target' in f ? f.target : f.node;
          if (node !== 'redis') expect(Number(node!.split('-')[1])).toBeLessThanOrEqual(s.topology.nodes);
        }
        if (s.workload.stages) expect(s.workload.stages.reduce((a, st) => a + st.durationMs, 0)).toBe(s.durationMs);
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('draws every fault kind, and only the kinds asked for', () => {
    const kinds = new Set(fc.sample(caseArb(), { numRuns: 400, seed: 5 }).flatMap((c) => c.faults.map((f) => f.kind)));
    expect([...kinds].sort()).toEqual([...FAULT_KINDS].sort());
    const only = new Set(fc.sample(caseArb({ faultKinds: ['cut', 'redis-pause'] }), { numRuns: 200, seed: 5 }).flatMap((c) => c.faults.map((f) => f.kind)));
    expect([...only].sort()).toEqual(['cut', 'redis-pause']);
  });

  it('--volatile: the same draws, without groups (a volatile store forgets them), as a scenario on a volatile Redis', () => {
    const kinds = ['redis-kill', 'redis-stop', 'redis-restart', 'cut'] as const;
    const durable = fc.sample(caseArb({ faultKinds: kinds }), { numRuns: 200, seed: 8 });
    const volatile = fc.sample(caseArb({ faultKinds: kinds, volatileRedis: true }), { numRuns: 200, seed: 8 });
    expect(durable.some((c) => c.groups > 0 && c.membershipRate > 0)).toBe(true);
    volatile.forEach((c, i) => {
      expect(c.groups).toBe(0);
      expect(c.membershipRate).toBe(0);
      // a seed stays a seed: every other field is what the durable space drew
      expect({ ...c, groups: durable[i]!.groups, membershipRate: durable[i]!.membershipRate }).toEqual(durable[i]);
      const s = defineScenario(toScenario(c, { name: 'v', volatileRedis: true }));
      expect(s.topology.volatileRedis).toBe(true);
      expect(s.membership).toBeUndefined();
    });
  });

  it('a lone node killed for good comes back (else the final sync has no node)', () => {
    for (const c of fc.sample(caseArb({ faultKinds: ['node-kill'], maxNodes: 1 }), { numRuns: 100, seed: 3 })) for (const f of c.faults) expect(f.kind === 'node-kill' && f.restartAfter).toBeTruthy();
  });

  it('no bus drop while Redis is down (the step could not act)', () => {
    let dropped = 0;
    for (const c of fc.sample(caseArb({ faultKinds: ['bus-drop', 'redis-kill'] }), { numRuns: 300, seed: 4 })) {
      const down = c.faults.flatMap((f) => (f.kind === 'redis-kill' ? [[f.at, f.at + f.restartAfter + 1000]] : []));
      for (const f of c.faults) if (f.kind === 'bus-drop') expect(down.some(([a, b]) => f.at >= a! && f.at <= b!)).toBe(false);
      dropped += c.faults.filter((f) => f.kind === 'bus-drop').length;
    }
    expect(dropped).toBeGreaterThan(50);
  });

  it('one process fault at a time on each process (a kill during the previous restart fails the step)', () => {
    let seen = 0;
    for (const c of fc.sample(caseArb({ faultKinds: ['node-kill', 'node-pause', 'redis-kill', 'redis-pause'] }), { numRuns: 300, seed: 8 })) {
      const spans = c.faults.map((f) => {
        const target = 'node' in f ? `node-${(f.node % c.nodes) + 1}` : 'redis';
        const to = f.kind === 'node-kill' ? (f.restartAfter === undefined ? Infinity : f.at + f.restartAfter + 2000) : f.kind === 'redis-kill' ? f.at + f.restartAfter + 2000 : f.at + ('duration' in f ? f.duration : 0) + 500;
        return { target, from: f.at, to };
      });
      for (let i = 0; i < spans.length; i++) for (let j = i + 1; j < spans.length; j++) {
        const [a, b] = [spans[i]!, spans[j]!];
        expect(a.target === b.target && a.from <= b.to && b.from <= a.to, JSON.stringify(c.faults)).toBe(false);
      }
      seen += c.faults.length;
    }
    expect(seen).toBeGreaterThan(200);
  });

  it('a burst is a step of the send rate that fills the load phase exactly', () => {
    const st = burstStages({ at: 1000, durationMs: 500, factor: 4 }, 3000);
    expect(st.reduce((a, s) => a + s.durationMs, 0)).toBe(3000);
    expect(st.map((s) => s.target)).toEqual([1, 1, 4, 4, 1, 1]);
  });
});

/** A fake runner: a case fails when `breaks` says so (deterministically or not; `lost` unless it names the guarantees), and records what it ran. */
function fakeRunner(breaks: (c: ExploreCase, n: number) => boolean | Guarantee[]) {
  const ran: ExploreCase[] = [];
  const failure = (c: ExploreCase, failed: Guarantee[]): Extract<RunOutcome, { status: 'fail' }> => ({
    status: 'fail',
    ms: 1,
    failed,
    facts: [],
    scenario: defineScenario(toScenario(c, { name: 'fake' })),
    report: { checks: failed.map((g) => ({ guarantee: g, ok: false, violations: [], violationsTotal: 1, summary: 'x', title: 'x', checked: 1 })), faults: [] } as unknown as Report,
  });
  return {
    ran,
    runner: {
      async run(c: ExploreCase): Promise<RunOutcome> {
        ran.push(c);
        const b = breaks(c, ran.length);
        return b === false || (Array.isArray(b) && !b.length) ? { status: 'pass', ms: 1 } : failure(c, b === true ? ['lost'] : b);
      },
      async stop() {},
    },
  };
}

const base = { env: 'local' as const, serverEnv: {}, guarantees: ['lost' as const], budgetMs: 60_000, shrinkBudgetMs: 60_000, repeat: 1, confirm: 4, log: () => {} };

describe('search and shrink (fake runner)', () => {
  it('finds a failing case and shrinks it to the smallest one that still fails, keeping seed and path for replay', async () => {
    // the "bug": any case with a node kill and at least 3 devices
    const breaks = (c: ExploreCase) => devicesOf(c) >= 3 && c.faults.some((f) => f.kind === 'node-kill');
    const { runner } = fakeRunner(breaks);
    const r = await explore({ ...base, seed: 42, runner });
    const found = r.found!;
    expect(found).not.toBeNull();
    expect(breaks(found.original)).toBe(true);
    expect(found.shrunk.faults).toHaveLength(1);
    expect(found.shrunk.faults[0]!.kind).toBe('node-kill');
    expect(devicesOf(found.shrunk)).toBe(3);
    expect(found.shrunk.nodes).toBe(1);
    expect(found.reproduced).toEqual({ fails: 4, runs: 4, errors: 0 });
    expect(found.shrinkSteps).toBeGreaterThan(0);
    // fast-check's own replay: the printed seed and path give the shrunk case again
    const [replayed] = fc.sample(caseArb(), { seed: found.seed, path: found.path, numRuns: 1 });
    expect(replayed).toEqual(found.shrunk);
    // --path starts from that case: nothing smaller fails, so it stays what it is
    const again = await explore({ ...base, seed: found.seed, path: found.path, runner: fakeRunner(breaks).runner });
    expect(again.found!.shrunk).toEqual(found.shrunk);
  });

  /** fails every run of a case with a fault; without faults only every third run */
  const failsOneInThreeWithoutFaults = () => {
    let calls = 0;
    return (c: ExploreCase) => {
      calls++;
      return c.faults.length > 0 || calls % 3 === 0;
    };
  };

  it('shrinking keeps what the find broke: a smaller case that fails another guarantee counts as a pass', async () => {
    // the "bug": a node kill loses messages; and any case of 3 or more devices without one
    // fails `inflight` (another failure, e.g. a timing-bound side effect): shrinking must not
    // drop the kill for that
    const breaks = (c: ExploreCase): Guarantee[] => (c.faults.some((f) => f.kind === 'node-kill') ? ['lost'] : devicesOf(c) >= 3 ? ['inflight'] : []);
    const lines: string[] = [];
    const { runner } = fakeRunner(breaks);
    const r = await explore({ ...base, guarantees: ['lost', 'inflight'], seed: 42, runner, space: { faultKinds: ['node-kill'] }, log: (l) => lines.push(l) });
    const found = r.found!;
    expect(found.failure.failed).toEqual(['lost']);
    expect(found.shrunk.faults.map((f) => f.kind)).toEqual(['node-kill']);
    expect(found.reproduced).toEqual({ fails: 4, runs: 4, errors: 0 });
    expect(lines.join('\n')).toMatch(/FAIL \(inflight\) — not one the find broke \(lost\): counted as a pass/);
    expect(lines.join('\n')).toMatch(/failing when any run breaks lost;/);
  });

  it('a shrink candidate counts as failing when any of its K runs fails', async () => {
    // fails only on every third run of a small case: with repeat 3 the small case is kept
    const { runner } = fakeRunner(failsOneInThreeWithoutFaults());
    const r = await explore({ ...base, repeat: 3, confirm: 6, seed: 7, runner, space: { faultKinds: ['cut'] } });
    expect(r.found!.shrunk.faults).toHaveLength(0);
    expect(r.found!.reproduced.runs).toBe(6);
    expect(r.found!.reproduced.fails).toBe(2);
  });

  it('with --min-fails 2 of 3, a case that fails once in three runs does not count as failing', async () => {
    const { runner } = fakeRunner(failsOneInThreeWithoutFaults());
    const r = await explore({ ...base, repeat: 3, minFails: 2, confirm: 3, seed: 7, runner, space: { faultKinds: ['cut'] } });
    expect(r.found!.shrunk.faults.length).toBeGreaterThan(0);
    expect(r.found!.reproduced.fails).toBe(3);
  });

  it('--min-reproduce: a find that fails only now and then is passed over; the search goes on to one that fails reliably', async () => {
    // a case with a fault fails every run; one without fails only its first run (seed 1 draws
    // a case without faults first, then one with a fault)
    const seen = new Map<string, number>();
    const flaky = (c: ExploreCase) => {
      const n = (seen.get(JSON.stringify(c)) ?? 0) + 1;
      seen.set(JSON.stringify(c), n);
      return c.faults.length > 0 || n === 1;
    };
    const lines: string[] = [];
    const { runner } = fakeRunner(flaky);
    const r = await explore({ ...base, repeat: 3, minFails: 3, confirm: 10, minReproduce: 8, seed: 1, runner, space: { faultKinds: ['cut'] }, log: (l) => lines.push(l) });
    const found = r.found!;
    expect(found.original.faults.length).toBeGreaterThan(0);
    expect(found.shrunk.faults.length).toBeGreaterThan(0);
    expect(found.meetsBar).toBe(true);
    expect(found.reproduced).toEqual({ fails: 10, runs: 10, errors: 0 });
    expect(found.walkedBack).toBe(0);
    // fast-check replays the kept case from the printed seed and path
    const [replayed] = fc.sample(caseArb({ faultKinds: ['cut'] }), { seed: found.seed, path: found.path, numRuns: 1 });
    expect(replayed).toEqual(found.shrunk);
    expect(found.weakFinds.length).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/below --min-reproduce 8 of 10: searching on/);
  });

  it('--min-reproduce: a shrunk case below the bar gives way to the next larger case on the shrink chain that meets it, by its fast-check path', async () => {
    // cases with 3 devices or more fail every run; 2-device cases only every other run, so
    // "any of 1" shrinks down to 2 devices, and phase 3 must walk back up to a 3+ device case
    let calls = 0;
    const breaks = (c: ExploreCase) => {
      calls++;
      return devicesOf(c) >= 3 || (devicesOf(c) === 2 && calls % 2 === 0);
    };
    const lines: string[] = [];
    const { runner } = fakeRunner(breaks);
    const r = await explore({ ...base, repeat: 2, confirm: 10, minReproduce: 8, seed: 42, runner, log: (l) => lines.push(l) });
    const found = r.found!;
    expect(devicesOf(found.shrunk)).toBeGreaterThanOrEqual(3);
    expect(found.walkedBack).toBeGreaterThan(0);
    expect(found.meetsBar).toBe(true);
    expect(found.reproduced.fails).toBeGreaterThanOrEqual(8);
    expect(lines.join("\n")).toMatch(/the smallest case fails in \d of \d+ run\(s\), below --min-reproduce 8\n.*bisecting the shrink chain \(\d+ cases\)/);
    const [replayed] = fc.sample(caseArb(), { seed: found.seed, path: found.path, numRuns: 1 });
    expect(replayed).toEqual(found.shrunk);
  });

  it('the kept case is confirmed as its file replays: on fresh runs (runFresh), where a case may fail less often than on the shared topology', async () => {
    // every case with a fault fails on the shared topology; replayed fresh, only cases of 3
    // devices or more still do: confirming on shared runs would keep a 2-device case whose
    // file then passes
    const breaks = (c: ExploreCase) => c.faults.length > 0;
    const { runner, ran } = fakeRunner(breaks);
    const fresh: ExploreCase[] = [];
    const lines: string[] = [];
    const withFresh = {
      ...runner,
      async runFresh(c: ExploreCase): Promise<RunOutcome> {
        fresh.push(c);
        return devicesOf(c) >= 3 ? runner.run(c) : { status: 'pass', ms: 1 };
      },
    };
    const r = await explore({ ...base, repeat: 1, confirm: 10, minReproduce: 8, seed: 42, runner: withFresh, log: (l) => lines.push(l) });
    const found = r.found!;
    expect(found.shrunk.faults.length).toBeGreaterThan(0);
    expect(devicesOf(found.shrunk)).toBeGreaterThanOrEqual(3);
    expect(found.walkedBack).toBeGreaterThan(0);
    expect(found.reproduced).toEqual({ fails: 10, runs: 10, errors: 0 });
    // phase 3 ran fresh only; the search and the shrink never did
    expect(fresh.length).toBeGreaterThanOrEqual(10);
    const confirmRuns = lines.filter((l) => /confirm.*, run \d+: /.test(l)).length;
    expect(fresh.length).toBe(confirmRuns);
    expect(ran.length - fresh.filter((c) => devicesOf(c) >= 3).length).toBe(r.runs - confirmRuns);
    expect(lines.join('\n')).toMatch(/confirming: each run on a fresh environment/);
  });

  it('a find whose re-runs outlast the search budget is kept (fast-check drops that call as interrupted)', async () => {
    const lines: string[] = [];
    const { runner } = fakeRunner(() => true);
    // 30 ms a run: the first case fails, and its 7 more runs to the bar of 8 end past the 100 ms budget
    const slowed = { ...runner, run: async (c: ExploreCase) => (await new Promise((resolve) => setTimeout(resolve, 30)), runner.run(c)) };
    const r = await explore({ ...base, budgetMs: 100, confirm: 10, minReproduce: 8, seed: 5, runner: slowed, log: (l) => lines.push(l) });
    expect(r.unjudged).toBeUndefined();
    const [first] = fc.sample(caseArb(), { seed: 5, numRuns: 1 });
    expect(r.found!.original).toEqual(first);
    expect(lines.join('\n')).toMatch(/the search budget ended while run 1 was judged \(fast-check counts that call as interrupted\); it failed and met the bar: keeping it/);
  });

  it('a search budget that ends before the first run has a verdict says nothing was judged (fast-check calls it failed, with no counterexample)', async () => {
    const lines: string[] = [];
    const slow = {
      async run(): Promise<RunOutcome> {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return { status: 'pass', ms: 400 };
      },
      async stop() {},
    };
    const r = await explore({ ...base, budgetMs: 100, seed: 5, runner: slow, log: (l) => lines.push(l) });
    expect(r.unjudged).toBe(true);
    expect(r.found).toBeNull();
    expect(lines.join('\n')).toMatch(/the search budget \(0 s\) ended before run 1 had a verdict: no case was judged/);
  });

  it('--min-reproduce: when no find meets the bar, the most reliable one is shrunk (found again by its path) and reported below the bar', async () => {
    // every case fails every other run: none reaches 8 of 10
    let calls = 0;
    const { runner } = fakeRunner(() => ++calls % 2 === 0);
    // each run takes 5 ms, so the search's length is its 6 runs and their re-runs, not the first find's time
    const slowed = { ...runner, run: async (c: ExploreCase) => (await new Promise((resolve) => setTimeout(resolve, 5)), runner.run(c)) };
    const r = await explore({ ...base, runs: 6, repeat: 1, confirm: 10, minReproduce: 8, seed: 5, runner: slowed });
    const found = r.found!;
    expect(r.searchRuns).toBe(6);
    expect(r.searchMs).toBeGreaterThan(found.foundAfterMs);
    expect(found.weakFinds.length).toBeGreaterThan(0);
    expect(found.meetsBar).toBe(false);
    expect(found.reproduced.fails).toBeLessThan(8);
    // phase 2 started from the remembered find's path: the n-th case drawn is path n-1
    const drawn = fc.sample(caseArb(), { seed: 5, numRuns: 6 });
    expect(drawn).toContainEqual(found.original);
  });

  it('never runs two cases at once, also when a budget ends in the middle of a candidate\'s --repeat runs', async () => {
    // slow runs and budgets that end mid-candidate: fast-check moves on while the property call
    // is still running; the next phase must wait for the whole call, not only its current run
    let active = 0;
    let most = 0;
    const runner = {
      async run(c: ExploreCase): Promise<RunOutcome> {
        active++;
        most = Math.max(most, active);
        await new Promise((r) => setTimeout(r, 40));
        active--;
        return c.faults.length > 0 ? fakeRunner(() => true).runner.run(c) : { status: 'pass', ms: 15 };
      },
      async stop() {},
    };
    const r = await explore({ ...base, budgetMs: 2000, shrinkBudgetMs: 230, repeat: 3, minFails: 3, confirm: 4, minReproduce: 3, seed: 7, runner, space: { faultKinds: ["cut"] } });
    expect(r.runs).toBeGreaterThan(3);
    expect(most).toBe(1);
  });

  it('shrinks the fleet right after dropping faults, before making the faults milder (skip_dedupe\'s find, seed 21)', async () => {
    // the third case seed 21 draws is the one a skip_dedupe exploration found (10 devices; a
    // Redis stop and a reset_peer on the client link): a resend after a reset is what breaks,
    // at any fleet size. The record's order spent 20 shrink runs on the remaining fault's
    // start, length and strength (each step re-trying "no fault" first) before it tried the
    // device count; staged, the fleet is at most 4 devices by the 8th run.
    const [, , found] = fc.sample(caseArb(), { seed: 21, numRuns: 3 });
    expect(devicesOf(found!)).toBe(10);
    expect(found!.faults.map((f) => f.kind)).toEqual(['redis-stop', 'toxic']);
    const resent = (c: ExploreCase) => c.faults.some((f) => f.kind === 'toxic' && f.link === 'client' && f.type === 'reset_peer');
    const { runner, ran } = fakeRunner(resent);
    const r = await explore({ ...base, seed: 21, path: '2', repeat: 3, minFails: 2, confirm: 3, runner });
    const shrunk = r.found!.shrunk;
    expect(devicesOf(shrunk)).toBe(2);
    expect(shrunk.faults).toHaveLength(1);
    expect(ran.findIndex((c) => devicesOf(c) <= 4)).toBeLessThan(8); // 6 here (20 with the record, 8 re-running "no fault")
    // every case the shrink ran is run to its verdict once: a passing candidate offered again
    // keeps its verdict (no runs)
    const passing = ran.filter((c) => !resent(c)).map((c) => JSON.stringify(c));
    expect(new Set(passing).size * 2).toBe(passing.length);
    // and the printed path still replays the kept case
    const [replayed] = fc.sample(caseArb(), { seed: r.found!.seed, path: r.found!.path, numRuns: 1 });
    expect(replayed).toEqual(shrunk);
  });

  it('nothing failing: no counterexample, every run counted, stops at --runs', async () => {
    const { runner, ran } = fakeRunner(() => false);
    const r = await explore({ ...base, runs: 25, seed: 1, runner });
    expect(r.found).toBeNull();
    expect(ran).toHaveLength(25);
    expect(r.searchRuns).toBe(25);
    expect(r.violations).toBe(0);
  });

  it('a failure that never fails again is reported as not reproduced, not kept', async () => {
    const { runner } = fakeRunner((_c, n) => n === 1);
    const r = await explore({ ...base, repeat: 2, seed: 3, runner });
    expect(r.found).toBeNull();
    expect(r.notReproduced).not.toBeNull();
  });
});

describe('the timeline', () => {
  it('shows sends, connections and faults in time order, and the violations last', () => {
    const t = 1_000_000;
    const facts: Fact[] = [
      { k: 'conn', client: 'u0/d0', conn: 'c1', event: 'welcome', node: 'node-1', at: t },
      { k: 'send', client: 'u0/d0', conn: 'c1', conv: 'dm:u0:u1', cmid: 'd0.1', intendedAt: t + 100, sentAt: t + 100, attempts: 2, outcome: 'sent', seq: 1 },
      { k: 'recv', client: 'u1/d0', conn: 'c2', conv: 'dm:u0:u1', epoch: 'e', seq: 1, from: 'u0', cmid: 'd0.1', at: t + 150, via: 'live' },
    ];
    const lines = renderTimeline({
      facts,
      faults: [{ id: 'f1', kind: 'link:disable', target: 'client-link:node-1', start: t + 120, end: t + 900 }],
      planned: [{ kind: 'cut', at: 100, duration: 800, link: 'client-link:node-1' }],
      checks: [{ guarantee: 'lost', ok: false, title: '', checked: 2, summary: '1 violation', violationsTotal: 1, violations: [{ message: 'dm:u0:u1 seq 1 never reached u1/d1', trail: [facts[1]], faultWindow: [] }] }],
      guarantees: ['lost'],
    });
    const text = lines.join('\n');
    expect(text).toContain('cut client-link:node-1 at 100 ms for 800 ms');
    const i = (s: string) => lines.findIndex((l) => l.includes(s));
    expect(i('t+0.000s    u0/d0 welcome node-1 c1')).toBeGreaterThan(0);
    expect(i('u0/d0 send dm:u0:u1 cmid d0.1 (2 attempts) → sent seq 1')).toBeGreaterThan(i('welcome'));
    expect(i('FAULT link:disable client-link:node-1 until t+0.900s')).toBeGreaterThan(i('send dm'));
    expect(i('u1/d0 got dm:u0:u1 seq 1')).toBeGreaterThan(i('FAULT'));
    expect(lines.slice(i('violated:'))).toEqual(['violated:', '  lost: 1 violation', '    - dm:u0:u1 seq 1 never reached u1/d1']);
  });

  it('caps the events but keeps every fault and every fact a witness names', () => {
    const facts: Fact[] = Array.from({ length: 50 }, (_, n) => ({ k: 'conn', client: `u${n}/d0`, conn: `c${n}`, event: 'welcome', at: 1000 + n }) as Fact);
    const lines = renderTimeline({
      facts,
      faults: [{ id: 'f1', kind: 'node:kill', target: 'node-2', start: 1049 }],
      planned: [],
      checks: [{ guarantee: 'order', ok: false, title: '', checked: 1, summary: 's', violationsTotal: 1, violations: [{ message: 'm', trail: [facts[40]], faultWindow: [] }] }],
      guarantees: ['lost'],
      maxLines: 5,
    });
    // 5 lines: the fault and the witnessed fact, and the first 3 others
    expect(lines.filter((l) => l.includes(' welcome '))).toHaveLength(4);
    expect(lines.some((l) => l.includes('u40/d0 welcome'))).toBe(true);
    expect(lines.some((l) => l.includes('FAULT node:kill node-2'))).toBe(true);
    expect(lines).toContain('  … 46 more event(s) left out (every fault and every fact a witness names is shown)');
    expect(lines).toContain('  order (not among --guarantees: not counted): s');
  });
});

describe('the scenario file', () => {
  const dir = mkdtempSync(path.join(ROOT, 'test/unit/.tmp-explore-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is written where asked, says how to replay it, and loads back as the same scenario with its seed', async () => {
    const [c] = fc.sample(caseArb(), { seed: 9, numRuns: 1 });
    const scenario = toScenario(c!, { name: foundName('lost', new Date('2026-12-02T00:30:05Z')), serverEnv: { TEST_BUGS: 'skip_dedupe' } });
    expect(scenario.name).toBe('found-lost-20261202-003005');
    const file = writeScenarioFile(path.join(dir, 'found', 'x.ts'), { scenario, violated: ['lost: m */ n'], replay: 'imstorm explore --seed 9 --path 0:1', reproduced: { fails: 9, runs: 10 }, command: 'imstorm explore --seed 9' });
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^\/\/ fast-check replay of this case: imstorm explore --seed 9 --path 0:1/m);
    expect(text).toMatch(/^\/\/ Reproduced in 9 of 10 re-runs/m);
    expect(text).toContain('lost: m *\\/ n');
    expect(text).toContain(`npx imstorm run ./${path.relative(process.cwd(), file)}`);
    // outside the current directory (--out /tmp/found.ts): the absolute path, which `imstorm run` loads too
    expect(runnablePath('/tmp/found.ts')).toBe('/tmp/found.ts');
    const loaded: Scenario = await loadScenarioFile(file);
    expect(loaded).toEqual(defineScenario(scenario));
    expect(loaded.seed).toBe(c!.seed);
    expect(loaded.topology.serverEnv.TEST_BUGS).toBe('skip_dedupe');
  });

  it('the text is plain TypeScript over the public entry', () => {
    const [c] = fc.sample(caseArb(), { seed: 1, numRuns: 1 });
    const text = scenarioFileText({ scenario: toScenario(c!, { name: 'n' }), violated: [], replay: 'imstorm explore --seed 1 --path 0', reproduced: { fails: 1, runs: 1 }, command: 'x' });
    expect(text).toContain("import { defineScenario } from 'imstorm';");
    expect(text).toContain('export default defineScenario({');
  });
});

describe('imstorm explore flags', () => {
  async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['explore', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  it.each([
    [['--budget', 'ten'], /--budget takes seconds, or 500ms \/ 30s \/ 10m/],
    [['--budget', '0s'], /--budget must be at least 1s/],
    [['--repeat', '0'], /--repeat must be a whole number between 1 and 20/],
    [['--repeat', '2', '--min-fails', '3'], /--min-fails must not exceed --repeat/],
    [['--confirm', '5', '--min-reproduce', '8'], /--min-reproduce must not exceed --confirm/],
    [['--guarantees', 'lost,leaks'], /--guarantees: unknown leaks; give a comma-separated list of lost, unexpected, unseen/],
    [['--faults', 'meteor'], /--faults: unknown meteor/],
    [['--path', '3:0'], /--path needs the --seed it was printed with/],
    [['--path', 'x', '--seed', '1'], /--path is fast-check's replay path/],
    [['--env', 'external'], /--env must be one of local, containers, auto/],
    [['--out', 'found.js'], /--out must name a \.ts file/],
    [['--server-env', 'TEST_BUGS'], /--server-env takes KEY=VALUE/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('%j: exit 2 naming the flag and the fix, nothing started', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toContain('Usage: imstorm explore');
  });

  it('the fast-check replay names the flags that shape the search: the same seed over another space is another case', () => {
    const f = { 'server-env': ['TEST_BUGS=epoch_unannounced'], faults: ['redis-restart', 'redis-kill'], volatile: true };
    expect(replayCommand(71, '1:0', f, DEFAULT_GUARANTEES)).toBe('imstorm explore --seed 71 --path 1:0 --server-env TEST_BUGS=epoch_unannounced --faults redis-restart,redis-kill --volatile');
    expect(replayCommand(3, '0', { 'server-env': [], volatile: false, guarantees: ['lost'] }, ['lost'])).toBe('imstorm explore --seed 3 --path 0 --guarantees lost');
  });

  it('--help prints the usage', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--repeat K');
  });
});
