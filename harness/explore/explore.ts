// `imstorm explore`'s search: fast-check draws cases (harness/explore/space.ts) and runs each
// on the shared topology until one breaks a guarantee or the budget is spent (phase 1, no
// shrinking); then fast-check replays that case by its seed and path and shrinks it (phase
// 2), re-running each candidate up to `repeat` times — real timing makes runs
// nondeterministic, so a candidate counts as failing when any of its runs fails; finally the
// smallest failing case is re-run `confirm` times to say how often it reproduces.
import fc from 'fast-check';
import type { Guarantee } from '../model/guarantees.ts';
import type { EnvChoice } from '../env/environment.ts';
import { CaseRunner, type RunOutcome } from './runner.ts';
import { caseArb, describeCase, devicesOf, type ExploreCase, type SpaceOptions } from './space.ts';

export interface ExploreOptions {
  env: EnvChoice;
  serverEnv: Record<string, string | number>;
  guarantees: readonly Guarantee[];
  /** time for phase 1 (finding) */
  budgetMs: number;
  /** at most this many cases in phase 1 */
  runs?: number;
  /** time for phase 2 (shrinking) */
  shrinkBudgetMs: number;
  seed: number;
  /** fast-check's replay path: skip the search and start from this case (seed and path of an earlier exploration) */
  path?: string;
  /** runs of each shrink candidate (failing when `minFails` of them fail) */
  repeat: number;
  /**
   * how many of a candidate's `repeat` runs must fail for it to count as failing (default 1:
   * any). Higher keeps shrinking from walking to cases that fail only now and then (a
   * slower rate, less churn) when the bug is timing-bound.
   */
  minFails?: number;
  /** runs of the final counterexample, to say how often it reproduces */
  confirm: number;
  space?: SpaceOptions;
  /** progress lines */
  log: (line: string) => void;
  /** a runner of cases (tests pass a fake; default: real runs on a shared topology) */
  runner?: Pick<CaseRunner, 'run' | 'stop'>;
}

export interface Counterexample {
  /** the case phase 1 found (or the one --path named) */
  original: ExploreCase;
  /** the smallest case that still failed */
  shrunk: ExploreCase;
  /** replay with fast-check: the same seed and this path give `shrunk` */
  seed: number;
  path: string;
  /** the failing run of `shrunk` kept for the timeline and the file */
  failure: Extract<RunOutcome, { status: 'fail' }>;
  /** ms from the start to the failing run of phase 1 */
  foundAfterMs: number;
  shrinkMs: number;
  /** shrink candidates tried, and how many of them failed (each a step down) */
  shrinkCandidates: number;
  shrinkSteps: number;
  /** shrinking ran out of its budget before fast-check had tried every smaller case */
  shrinkInterrupted: boolean;
  /** the final case re-run `confirm` times */
  reproduced: { fails: number; runs: number; errors: number };
}

export interface ExploreResult {
  seed: number;
  /** runs in all (phase 1, shrinking, confirming) */
  runs: number;
  /** phase 1 runs and their pace */
  searchRuns: number;
  searchMs: number;
  runsPerMinute: number;
  /** runs the harness could not finish (no verdict) */
  errors: number;
  /** failing runs seen in all */
  violations: number;
  /** the counterexample, when phase 1 found one (or --path named one) that reproduced */
  found: Counterexample | null;
  /** phase 1 found a failure that did not fail again in `repeat` runs when replayed */
  notReproduced: ExploreCase | null;
}

const key = (c: ExploreCase): string => JSON.stringify(c);

export async function explore(o: ExploreOptions): Promise<ExploreResult> {
  const runner = o.runner ?? new CaseRunner({ env: o.env, serverEnv: o.serverEnv, guarantees: o.guarantees, nodes: o.space?.maxNodes ?? 3, log: o.log });
  const start = Date.now();
  const arb = caseArb(o.space);
  const stats = { runs: 0, errors: 0, violations: 0 };
  const failures = new Map<string, Extract<RunOutcome, { status: 'fail' }>>();
  // fast-check's time limits resolve check() while a property call may still be running: the
  // next phase waits for that run, so two runs never share the topology
  let inFlight: Promise<unknown> = Promise.resolve();
  const once = async (c: ExploreCase, label: string): Promise<RunOutcome> => {
    const p = runner.run(c);
    inFlight = p.catch(() => {});
    const r = await p;
    stats.runs++;
    if (r.status === 'error') stats.errors++;
    if (r.status === 'fail') {
      stats.violations++;
      failures.set(key(c), r);
    }
    o.log(`${label}: ${r.status === 'fail' ? `FAIL (${r.failed.join(', ')})` : r.status === 'error' ? `error (${r.message.slice(0, 200)})` : 'pass'} in ${(r.ms / 1000).toFixed(1)} s — ${devicesOf(c)} devices, ${c.faults.length} fault(s)`);
    return r;
  };
  try {
    // ---- phase 1: search ----
    let searchRuns = 0;
    let foundAfterMs = 0;
    let path = o.path;
    let seed = o.seed;
    let original: ExploreCase | null = null;
    if (path === undefined) {
      o.log(`exploring: seed ${o.seed}, budget ${Math.round(o.budgetMs / 1000)} s${o.runs ? `, at most ${o.runs} runs` : ''}, guarantees ${o.guarantees.join(', ')}`);
      const r = await fc.check(
        fc.asyncProperty(arb, async (c) => {
          searchRuns++;
          const mins = (Date.now() - start) / 60_000;
          const out = await once(c, `run ${searchRuns} (${stats.runs ? (stats.runs / Math.max(mins, 1e-9)).toFixed(1) : '–'} runs/min, ${stats.violations} violation(s))`);
          return out.status !== 'fail';
        }),
        { seed: o.seed, numRuns: o.runs ?? 1_000_000, interruptAfterTimeLimit: o.budgetMs, markInterruptAsFailure: false, endOnFailure: true },
      );
      await inFlight;
      const searchMs = Date.now() - start;
      const base = { seed: o.seed, searchRuns, searchMs, runsPerMinute: searchRuns / Math.max(searchMs / 60_000, 1e-9) };
      if (!r.failed) return { ...base, ...stats, found: null, notReproduced: null };
      foundAfterMs = searchMs;
      path = r.counterexamplePath ?? undefined;
      seed = r.seed;
      original = r.counterexample![0];
      if (path === undefined) throw new Error('fast-check reported a failure without a path');
      o.log(`violation after ${searchRuns} run(s), ${(searchMs / 1000).toFixed(1)} s: ${describeCase(original)}`);
      o.log(`replay this case: --seed ${seed} --path ${path}`);
    }
    const searchMs = foundAfterMs || 0;

    // ---- phase 2: shrink (fast-check replays seed+path, then walks to smaller cases) ----
    const shrinkStart = Date.now();
    let candidates = 0;
    let steps = 0;
    let first: ExploreCase | null = original;
    let best: ExploreCase | null = null;
    o.log(`shrinking: each candidate run up to ${o.repeat} time(s), failing when ${(o.minFails ?? 1) <= 1 ? 'any run fails' : `${Math.min(o.minFails!, o.repeat)} runs fail`}; budget ${Math.round(o.shrinkBudgetMs / 1000)} s`);
    const r2 = await fc.check(
      fc.asyncProperty(arb, async (c) => {
        const label = candidates === 0 ? 'replay of the failing case' : `shrink candidate ${candidates} (step ${steps})`;
        if (candidates === 0) first ??= c;
        candidates++;
        const need = Math.min(o.minFails ?? 1, o.repeat);
        let fails = 0;
        for (let i = 1; i <= o.repeat; i++) {
          const out = await once(c, `${label}, run ${i}/${o.repeat}`);
          if (out.status === 'fail') fails++;
          if (fails >= need) {
            if (candidates > 1) steps++;
            best = c;
            o.log(`  → still fails (${fails} of ${i} run(s)): ${devicesOf(c)} devices, ${c.faults.length} fault(s), ${c.nodes} node(s), ${c.durationMs} ms`);
            return false;
          }
          // the rest of the runs could not make it fail: no need to run them
          if (fails + (o.repeat - i) < need) return true;
        }
        return true;
      }),
      { seed, path, numRuns: 1, interruptAfterTimeLimit: o.shrinkBudgetMs, markInterruptAsFailure: false },
    );
    await inFlight;
    const shrinkMs = Date.now() - shrinkStart;
    const base = { seed, searchRuns, searchMs, runsPerMinute: searchRuns ? searchRuns / Math.max(searchMs / 60_000, 1e-9) : 0 };
    if (!r2.failed || !best) {
      o.log(`the case did not fail again in ${o.repeat} run(s): no counterexample kept`);
      return { ...base, ...stats, found: null, notReproduced: first };
    }
    const shrunk: ExploreCase = r2.counterexample ? r2.counterexample[0] : best;
    const shrunkPath = r2.counterexamplePath ?? path!;
    o.log(`shrunk in ${(shrinkMs / 1000).toFixed(1)} s (${candidates - 1} candidate(s), ${steps} step(s) down${r2.interrupted ? ', stopped by the shrink budget' : ''}): ${describeCase(shrunk)}`);

    // ---- phase 3: how often does it reproduce? ----
    const reproduced = { fails: 0, runs: 0, errors: 0 };
    for (let i = 1; i <= o.confirm; i++) {
      const out = await once(shrunk, `confirm ${i}/${o.confirm}`);
      if (out.status === 'error') reproduced.errors++;
      else reproduced.runs++;
      if (out.status === 'fail') reproduced.fails++;
    }
    const failure = failures.get(key(shrunk));
    if (!failure) throw new Error('no failing run kept for the shrunk case');
    return {
      ...base,
      ...stats,
      notReproduced: null,
      found: { original: first ?? shrunk, shrunk, seed, path: shrunkPath, failure, foundAfterMs, shrinkMs, shrinkCandidates: candidates - 1, shrinkSteps: steps, shrinkInterrupted: r2.interrupted, reproduced },
    };
  } finally {
    await runner.stop();
  }
}
