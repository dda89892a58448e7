// `imstorm explore`'s search: fast-check draws cases (harness/explore/space.ts) and runs each
// on the shared topology until one breaks a guarantee or the budget is spent (phase 1, no
// shrinking); then fast-check replays that case by its seed and path and shrinks it (phase
// 2), re-running each candidate up to `repeat` times — real timing makes runs
// nondeterministic, so a candidate counts as failing when `minFails` of its runs fail (a
// candidate judged passing once keeps that verdict if fast-check offers it again); finally the
// smallest failing case is re-run `confirm` times to say how often it reproduces. From the
// find on, a run counts as failing only when it breaks a guarantee the find broke. The order
// shrinking walks in (fewer faults, a smaller fleet, milder faults, the rest) is the
// arbitrary's (space.ts, StagedShrink).
//
// With `minReproduce` (the CLI's --min-reproduce, by default 8 of --confirm 10) the kept case
// must fail in that many of `confirm` runs: a timing-bound bug's first find may fail only now
// and then (cursor_on_push with no fault: a push is lost only when it is in flight at the
// instant a churning device drops its socket), so phase 1 re-runs each failing case and
// searches on past one below the bar (remembering the best), and phase 3 walks back up the
// shrink chain, from the smallest case towards the original, to the first that meets it.
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
  /**
   * the kept case must fail in at least this many of `confirm` runs (0 or unset: no bar). Phase
   * 1 holds each failing case to it before shrinking it, phase 3 walks back up the shrink chain
   * until a case meets it.
   */
  minReproduce?: number;
  space?: SpaceOptions;
  /** progress lines */
  log: (line: string) => void;
  /**
   * a runner of cases (tests pass a fake; default: real runs on a shared topology). With
   * `runFresh`, phase 3 confirms on a fresh environment a run, as the saved file replays.
   */
  runner?: Pick<CaseRunner, 'run' | 'stop'> & Partial<Pick<CaseRunner, 'runFresh'>>;
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
  /** phase 1 failures passed over for failing below --min-reproduce (each: fails of runs) */
  weakFinds: { fails: number; runs: number }[];
  /** shrink steps phase 3 walked back from the smallest failing case to one that meets --min-reproduce (0: the smallest met it) */
  walkedBack: number;
  /** the kept case met --min-reproduce (always true without the bar) */
  meetsBar: boolean;
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
  /** the search budget ended before any case had a verdict */
  unjudged?: true;
}

const key = (c: ExploreCase): string => JSON.stringify(c);

export async function explore(o: ExploreOptions): Promise<ExploreResult> {
  const runner = o.runner ?? new CaseRunner({ env: o.env, serverEnv: o.serverEnv, guarantees: o.guarantees, nodes: o.space?.maxNodes ?? 3, volatileRedis: o.space?.volatileRedis ?? false, log: o.log });
  const start = Date.now();
  const arb = caseArb(o.space);
  const stats = { runs: 0, errors: 0, violations: 0 };
  const failures = new Map<string, Extract<RunOutcome, { status: 'fail' }>>();
  // fast-check's time limits resolve check() while a property call may still be running: the
  // next phase waits for that run, so two runs never share the topology
  // — the whole property call, which may go on to more runs of its case (re-runs, --repeat):
  // `phaseOpen` stops those, and `inFlight` is the call itself
  let inFlight: Promise<unknown> = Promise.resolve();
  let phaseOpen = true;
  const tracked = <T>(body: (c: ExploreCase) => Promise<T>) => (c: ExploreCase): Promise<T> => {
    const p = body(c);
    inFlight = p.catch(() => {});
    return p;
  };
  const closePhase = async () => {
    phaseOpen = false;
    await inFlight;
    phaseOpen = true;
  };
  // The guarantees the find broke, once there is one: a later run reproduces it only by
  // breaking one of them. Without this, shrinking could slip to a case that fails something
  // else now and then (a different bug, or a timing-bound side effect of the same one) and
  // keep it, and its file would not fail the find's guarantee (null: no find yet, any counts)
  let target: ReadonlySet<Guarantee> | null = null;
  const hits = (r: RunOutcome): boolean => r.status === 'fail' && (!target || r.failed.some((g) => target!.has(g)));
  const once = async (c: ExploreCase, label: string, fresh = false): Promise<RunOutcome> => {
    const p = fresh && runner.runFresh ? runner.runFresh(c) : runner.run(c);
    const r = await p;
    stats.runs++;
    if (r.status === 'error') stats.errors++;
    if (r.status === 'fail') stats.violations++;
    // the failing run kept for a case (its timeline and file) is one that broke the target
    if (hits(r)) failures.set(key(c), r as Extract<RunOutcome, { status: 'fail' }>);
    const other = r.status === 'fail' && !hits(r) ? ` — not one the find broke (${[...target!].join(', ')}): counted as a pass` : '';
    o.log(`${label}: ${r.status === 'fail' ? `FAIL (${r.failed.join(', ')})${other}` : r.status === 'error' ? `error (${r.message.slice(0, 200)})` : 'pass'} in ${(r.ms / 1000).toFixed(1)} s — ${devicesOf(c)} devices, ${c.faults.length} fault(s)`);
    return r;
  };
  try {
    // ---- phase 1: search ----
    let searchRuns = 0;
    let foundAfterMs = 0;
    // the search's own length: a weak find kept at the budget's end was found earlier (foundAfterMs)
    let searchTookMs = 0;
    let path = o.path;
    let seed = o.seed;
    let original: ExploreCase | null = null;
    // how often does `c` fail, given `fails` of `runs` already? Runs until the bar is met or out of reach.
    const bar = Math.min(o.minReproduce ?? 0, o.confirm);
    // (`full`: past the bar too, so the kept case's figure is out of all `confirm` runs)
    // `pastBudget`: a find's re-runs go on when the search budget ends meanwhile (at most
    // `confirm` runs), so the find is judged against the bar, not cut short below it
    const measure = async (c: ExploreCase, label: string, fails: number, runs: number, full = false, errors = 0, fresh = false, pastBudget = false): Promise<{ fails: number; runs: number; errors: number; meets: boolean }> => {
      // a run without a verdict says nothing either way: up to `confirm` of them more
      for (let i = runs + errors + 1; runs < o.confirm && errors < o.confirm && (phaseOpen || pastBudget); i++) {
        if ((fails >= bar && !full) || fails + (o.confirm - runs) < bar) break;
        const out = await once(c, `${label}, run ${i}`, fresh);
        if (out.status === 'error') errors++;
        else runs++;
        if (hits(out)) fails++;
      }
      return { fails, runs, errors, meets: fails >= bar };
    };
    const weakFinds: { fails: number; runs: number }[] = [];
    // the case the property failed on (fast-check's path of the n-th case drawn is n-1): when the
    // budget ended during that property call, fast-check reports the check interrupted, failed
    // with no counterexample, and the find is known only here
    let find: { c: ExploreCase; path: string; at: number } | null = null;
    let weakest: { c: ExploreCase; path: string; fails: number; runs: number; at: number } | null = null;
    if (path === undefined) {
      o.log(`exploring: seed ${o.seed}, budget ${Math.round(o.budgetMs / 1000)} s${o.runs ? `, at most ${o.runs} runs` : ''}, guarantees ${o.guarantees.join(', ')}${bar ? `; a find must fail in ${bar} of ${o.confirm} runs` : ''}`);
      const r = await fc.check(
        fc.asyncProperty(arb, tracked(async (c) => {
          searchRuns++;
          const mins = (Date.now() - start) / 60_000;
          target = null;
          const out = await once(c, `run ${searchRuns} (${stats.runs ? (stats.runs / Math.max(mins, 1e-9)).toFixed(1) : '–'} runs/min, ${stats.violations} violation(s))`);
          if (out.status !== 'fail') return true;
          // its re-runs must break what it broke
          target = new Set(out.failed);
          if (!bar) {
            find = { c, path: String(searchRuns - 1), at: Date.now() - start };
            return false;
          }
          const m = await measure(c, `  re-run of run ${searchRuns}`, 1, 1, false, 0, false, true);
          if (m.meets) {
            o.log(`  → fails in ${m.fails} of ${m.runs} run(s): meets --min-reproduce ${bar}`);
            find = { c, path: String(searchRuns - 1), at: Date.now() - start };
            return false;
          }
          // below the bar: remembered (fast-check's path of the n-th case drawn is n-1), searched on
          weakFinds.push({ fails: m.fails, runs: m.runs });
          target = null;
          const rate = m.fails / Math.max(1, m.runs);
          if (!weakest || rate > weakest.fails / Math.max(1, weakest.runs)) weakest = { c, path: String(searchRuns - 1), fails: m.fails, runs: m.runs, at: Date.now() - start };
          o.log(`  → fails in only ${m.fails} of ${m.runs} run(s), below --min-reproduce ${bar} of ${o.confirm}: searching on for a case that fails more reliably`);
          return true;
        })),
        { seed: o.seed, numRuns: o.runs ?? 1_000_000, interruptAfterTimeLimit: o.budgetMs, markInterruptAsFailure: false, endOnFailure: true },
      );
      await closePhase();
      const searchMs = Date.now() - start;
      searchTookMs = searchMs;
      const base = { seed: o.seed, searchRuns, searchMs, runsPerMinute: searchRuns / Math.max(searchMs / 60_000, 1e-9) };
      const weak = weakest as { c: ExploreCase; path: string; fails: number; runs: number; at: number } | null;
      // fast-check calls a check interrupted before its first property call completed
      // "failed", with no counterexample (a run longer than --budget); with no find of ours
      // either, nothing was judged, which is neither a find nor a pass
      const kept = find as { c: ExploreCase; path: string; at: number } | null;
      if (r.failed && !r.counterexample && !kept && !weak) {
        o.log(`the search budget (${Math.round(o.budgetMs / 1000)} s) ended before run ${searchRuns} had a verdict: no case was judged`);
        return { ...base, ...stats, found: null, notReproduced: null, unjudged: true };
      }
      if (r.failed && r.counterexample) {
        foundAfterMs = searchMs;
        path = r.counterexamplePath ?? undefined;
        seed = r.seed;
        original = r.counterexample[0];
        if (path === undefined) throw new Error('fast-check reported a failure without a path');
      } else if (kept) {
        // found, but the budget ended during its re-runs (fast-check dropped it as interrupted)
        foundAfterMs = kept.at;
        path = kept.path;
        original = kept.c;
        o.log(`the search budget ended while run ${Number(kept.path) + 1} was judged (fast-check counts that call as interrupted); it failed${bar ? ' and met the bar' : ''}: keeping it`);
      } else if (weak) {
        // nothing met the bar: shrink the most reliable of the finds anyway (the result says it is below the bar)
        foundAfterMs = weak.at;
        path = weak.path;
        original = weak.c;
        o.log(`no find met --min-reproduce ${bar} of ${o.confirm}; shrinking the most reliable one (${weak.fails} of ${weak.runs})`);
      } else return { ...base, ...stats, found: null, notReproduced: null };
      // (a weak find's re-runs kept a run that broke its own first run's guarantees)
      target = new Set(failures.get(key(original!))!.failed);
      o.log(`violation after ${searchRuns} run(s), ${(searchMs / 1000).toFixed(1)} s: ${describeCase(original!)}`);
      o.log(`replay this case: --seed ${seed} --path ${path}`);
    }
    const searchMs = searchTookMs;

    // ---- phase 2: shrink (fast-check replays seed+path, then walks to smaller cases) ----
    const shrinkStart = Date.now();
    let candidates = 0;
    let steps = 0;
    let first: ExploreCase | null = original;
    let best: ExploreCase | null = null;
    // every case shrinking kept, first to last, with its fast-check path: fast-check's path is
    // the start's, then for each step down the index of the kept candidate among its level's
    const chain: { c: ExploreCase; path: string; fails: number; runs: number }[] = [];
    let levelIndex = -1;
    // candidates already judged passing: fast-check may offer one again (after a step
    // elsewhere, e.g. "no fault" again): it keeps its verdict rather than costing more runs
    const passed = new Set<string>();
    let judgedBefore = 0;
    o.log(`shrinking: each candidate run up to ${o.repeat} time(s), failing when ${(o.minFails ?? 1) <= 1 ? 'any run breaks' : `${Math.min(o.minFails!, o.repeat)} runs break`} ${target ? [...target].join(' or ') : 'a guarantee'}; budget ${Math.round(o.shrinkBudgetMs / 1000)} s`);
    const r2 = await fc.check(
      fc.asyncProperty(arb, tracked(async (c) => {
        const label = candidates === 0 ? 'replay of the failing case' : `shrink candidate ${candidates} (step ${steps})`;
        if (candidates === 0) first ??= c;
        candidates++;
        const at = levelIndex++;
        if (passed.has(key(c))) {
          judgedBefore++;
          o.log(`${label}: passed before, not run again — ${devicesOf(c)} devices, ${c.faults.length} fault(s)`);
          return true;
        }
        const need = Math.min(o.minFails ?? 1, o.repeat);
        let fails = 0;
        for (let i = 1; i <= o.repeat; i++) {
          // out of the shrink budget: fast-check has moved on, so must this call
          if (!phaseOpen) return true;
          const out = await once(c, `${label}, run ${i}/${o.repeat}`);
          // --path: the replay of the named case says what it breaks
          if (!target && out.status === 'fail') target = new Set(out.failed);
          if (hits(out)) fails++;
          if (fails >= need) {
            if (candidates > 1) steps++;
            best = c;
            chain.push({ c, path: at < 0 ? path! : `${chain.at(-1)!.path}:${at}`, fails, runs: i });
            levelIndex = 0;
            o.log(`  → still fails (${fails} of ${i} run(s)): ${devicesOf(c)} devices, ${c.faults.length} fault(s), ${c.nodes} node(s), ${c.durationMs} ms`);
            return false;
          }
          // the rest of the runs could not make it fail: no need to run them
          if (fails + (o.repeat - i) < need) break;
        }
        passed.add(key(c));
        return true;
      })),
      { seed, path, numRuns: 1, interruptAfterTimeLimit: o.shrinkBudgetMs, markInterruptAsFailure: false },
    );
    await closePhase();
    const shrinkMs = Date.now() - shrinkStart;
    const base = { seed, searchRuns, searchMs, runsPerMinute: searchRuns ? searchRuns / Math.max(searchMs / 60_000, 1e-9) : 0 };
    if (!r2.failed || !best) {
      o.log(`the case did not fail again in ${o.repeat} run(s): no counterexample kept`);
      return { ...base, ...stats, found: null, notReproduced: first };
    }
    const smallest: ExploreCase = r2.counterexample ? r2.counterexample[0] : best;
    const smallestPath = r2.counterexamplePath ?? chain.at(-1)?.path ?? path!;
    if (chain.length && chain.at(-1)!.path !== smallestPath) o.log(`(the shrink chain's own path ${chain.at(-1)!.path} differs from fast-check's ${smallestPath}: walking back uses fast-check's for the smallest only)`);
    o.log(`shrunk in ${(shrinkMs / 1000).toFixed(1)} s (${candidates - 1} candidate(s)${judgedBefore ? `, ${judgedBefore} of them passed before and not run again` : ''}, ${steps} step(s) down${r2.interrupted ? ', stopped by the shrink budget' : ''}): ${describeCase(smallest)}`);

    // ---- phase 3: how often does it reproduce? (and, below the bar, walk back up the chain) ----
    let shrunk = smallest;
    let shrunkPath = smallestPath;
    let reproduced = { fails: 0, runs: 0, errors: 0 };
    let walkedBack = 0;
    let meetsBar = true;
    // the kept case is judged as its file replays: a fresh environment a run (when the runner can)
    const fresh = Boolean(runner.runFresh);
    if (fresh && o.confirm) o.log(`confirming: each run on a fresh environment with only the case's nodes, as \`imstorm run\` replays the saved file`);
    if (!bar) {
      for (let i = 1; i <= o.confirm; i++) {
        const out = await once(shrunk, `confirm ${i}/${o.confirm}`, fresh);
        if (out.status === 'error') reproduced.errors++;
        else reproduced.runs++;
        if (hits(out)) reproduced.fails++;
      }
    } else {
      // the chain from the smallest (0) back to the first case shrinking kept: the reproduce rate
      // falls as shrinking goes on (fewer devices, slower rates, fewer faults), so the smallest
      // case that meets the bar is found by bisecting it, from the original's end (which met
      // the bar in phase 1) down; no case meeting it: the most reliable one measured is kept
      const walk = [...chain].reverse();
      if (!walk.length || walk[0]!.c !== smallest) walk.unshift({ c: smallest, path: smallestPath, fails: 0, runs: 0 });
      walk[0]!.path = smallestPath;
      type M = { fails: number; runs: number; errors: number; meets: boolean };
      const measured = new Map<number, M>();
      const judge = async (back: number): Promise<boolean> => {
        const m = await measure(walk[back]!.c, back ? `${back} step(s) back: confirm` : 'confirm', 0, 0, false, 0, fresh);
        measured.set(back, m);
        o.log(`  ${back ? `${back} shrink step(s) back` : 'the smallest case'} fails in ${m.fails} of ${m.runs} run(s)${m.meets ? `: meets --min-reproduce ${bar}` : `, below --min-reproduce ${bar}`}`);
        return m.meets;
      };
      let hi = 0;
      if (!(await judge(0)) && walk.length > 1) {
        o.log(`  bisecting the shrink chain (${walk.length} cases) back towards the first for the smallest that meets --min-reproduce ${bar} of ${o.confirm}`);
        let lo = 0;
        hi = walk.length - 1;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (await judge(mid)) hi = mid;
          else lo = mid;
        }
        if (!measured.has(hi)) await judge(hi);
      }
      const rate = (m: M) => m.fails / Math.max(1, m.runs);
      const back = measured.get(hi)!.meets ? hi : [...measured].sort((x, y) => rate(y[1]) - rate(x[1]) || x[0] - y[0])[0]![0];
      // the kept case's figure is out of all `confirm` runs
      const m0 = measured.get(back)!;
      const full = await measure(walk[back]!.c, 'confirm (the rest)', m0.fails, m0.runs, true, m0.errors, fresh);
      const kept = { c: walk[back]!.c, path: walk[back]!.path, m: full, back };
      shrunk = kept!.c;
      shrunkPath = kept!.path;
      walkedBack = kept!.back;
      meetsBar = kept!.m.meets;
      reproduced = { fails: kept!.m.fails, runs: kept!.m.runs, errors: kept!.m.errors };
      if (!meetsBar) o.log(`no case on the shrink chain met --min-reproduce ${bar} of ${o.confirm}: keeping the most reliable (${reproduced.fails} of ${reproduced.runs})`);
    }
    const failure = failures.get(key(shrunk));
    if (!failure) throw new Error('no failing run kept for the shrunk case');
    return {
      ...base,
      ...stats,
      notReproduced: null,
      found: { original: first ?? shrunk, shrunk, seed, path: shrunkPath, failure, foundAfterMs, shrinkMs, shrinkCandidates: candidates - 1, shrinkSteps: steps, shrinkInterrupted: r2.interrupted, reproduced, weakFinds, walkedBack, meetsBar },
    };
  } finally {
    await runner.stop();
  }
}
