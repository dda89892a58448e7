// The model-based protocol property and its search: one place for test/model/protocol.model.test.ts
// (small budgets in npm test) and `imstorm explore --model` (big ones from the CLI). A run is a
// fresh namespace on the shared world, a command sequence checked against the model after every
// command, and a last settled check; a thrown model violation fails it and fast-check shrinks
// the sequence.
import fc from 'fast-check';
import { finalCheck, protocolCommands } from './commands.ts';
import type { Model } from './model.ts';
import { setupRun, teardownRun, type Real, type World } from './world.ts';

export interface RunInfo {
  /** the commands that ran, as printed (a command whose check refused it is not among them) */
  commands: string[];
  /** their names: connect(, send(, … */
  names: string[];
  ok: boolean;
  ms: number;
}

export interface ModelPropertyOptions {
  world: () => World;
  /** kill/restart a node, cut/heal its Redis link among the commands (false: client commands only) */
  faults: boolean;
  maxCommands: number;
  /** fast-check's replayPath of a counterexample (printed inside it): which generated commands ran */
  replayPath?: string;
  /** after every run, passed or failed */
  onRun?: (info: RunInfo) => void;
  /** print every sequence run */
  verbose?: boolean;
  /** each run's promise as it starts (a caller that interrupts fast-check waits for the last one) */
  track?: (run: Promise<unknown>) => void;
}

const COMMAND = /\b(connect|replace|disconnect|send|ack|history|join|leave|kill|restart|cut|heal)\(/g;
/** The commands that ran in a sequence (fast-check prints only those, then its replayPath). */
export const ranCommands = (cmds: unknown): string[] => String(cmds).split('/*replayPath')[0]!.match(COMMAND) ?? [];

/** fast-check's printout of a sequence, split: each command that ran, and the replayPath. */
export function splitSequence(cmds: unknown): { commands: string[]; replayPath: string | undefined } {
  const text = String(cmds);
  const replayPath = /\/\*replayPath="([^"]*)"\*\//.exec(text)?.[1];
  const list = text.split('/*replayPath')[0]!.trim().replace(/^\[/, '').replace(/\]$/, '');
  // commands print as name(args): split on the commas between them, not inside the parentheses
  const commands: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      if (cur.trim()) commands.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) commands.push(cur.trim());
  return { commands, replayPath };
}

/** The property: one run per generated sequence, on a fresh namespace of the shared world. */
export function modelProperty(o: ModelPropertyOptions) {
  const body = async (cmds: Iterable<fc.AsyncCommand<Model, Real, false>>): Promise<void> => {
    const started = Date.now();
    let ok = false;
    const setup = await setupRun(o.world());
    try {
      await fc.asyncModelRun(() => setup, cmds);
      await finalCheck(setup.model, setup.real);
      ok = true;
    } finally {
      if (o.verbose) console.log(String(cmds));
      o.onRun?.({ commands: splitSequence(cmds).commands, names: ranCommands(cmds), ok, ms: Date.now() - started });
      await teardownRun(setup.real);
    }
  };
  return fc.asyncProperty(protocolCommands({ faults: o.faults, maxCommands: o.maxCommands, replayPath: o.replayPath }), (cmds) => {
    const run = body(cmds);
    o.track?.(run.catch(() => {}));
    return run;
  });
}

export interface ModelSearchOptions {
  world: World;
  faults: boolean;
  maxCommands: number;
  seed: number;
  /** search at most this long (phase 1) */
  budgetMs: number;
  /** at most this many sequences in phase 1 */
  runs?: number;
  /** shrink at most this long (phase 2) */
  shrinkBudgetMs: number;
  /** start from this counterexample (seed, path and replayPath of an earlier search): no phase 1 */
  path?: string;
  replayPath?: string;
  log: (line: string) => void;
  /** a progress line at least this often (default 10 s) */
  progressEveryMs?: number;
}

export interface ModelCounterexample {
  /** the sequence as it ran: one command a line */
  commands: string[];
  /** fast-check's replay: seed, path (of the shrunk sequence) and the commands' replayPath */
  seed: number;
  path: string;
  replayPath: string | undefined;
  /** the violation's message (its first lines) */
  violation: string;
  /** commands of the sequence phase 1 found (or the replayed one, before shrinking further) */
  originalCommands: number;
  foundAfterMs: number;
  shrinkMs: number;
  /** shrink candidates tried, and how many failed (each a step down) */
  shrinkCandidates: number;
  shrinkSteps: number;
  shrinkInterrupted: boolean;
}

export interface ModelSearchResult {
  seed: number;
  /** phase 1 sequences, their time and pace */
  searchRuns: number;
  searchMs: number;
  runsPerMinute: number;
  /** sequences run in all (search and shrink) */
  runs: number;
  found: ModelCounterexample | null;
  /** phase 1 failed, but the sequence passed when fast-check replayed it (timing) */
  notReproduced: { commands: string[]; violation: string; path: string } | null;
}

const firstLines = (err: unknown, n = 4): string => (err instanceof Error ? err.message : String(err)).split('\n').slice(0, n).join('\n');

/**
 * Phase 1 runs sequences until one fails, the budget is spent or `runs` ran (no shrinking);
 * phase 2 replays it by seed and path and lets fast-check shrink it within its own budget.
 * Two phases so that a late find still gets its whole shrink budget, and so that progress can
 * say which phase it is in.
 */
export async function searchModel(o: ModelSearchOptions): Promise<ModelSearchResult> {
  const start = Date.now();
  const stats = { runs: 0, searchRuns: 0, candidates: 0, steps: 0, shrinking: false, lastCmds: 0, replayedCmds: 0 };
  // fast-check's time limit resolves check() while a run may still be under way: the next
  // phase waits for it, so two runs never share the world
  let inFlight: Promise<unknown> = Promise.resolve();
  const mins = () => Math.max((Date.now() - start) / 60_000, 1e-9);
  const progress = () =>
    stats.shrinking
      ? `shrinking: candidate ${stats.candidates}, ${stats.steps} step(s) down, ${stats.lastCmds} command(s) now; ${stats.runs} run(s) in all, ${(stats.runs / mins()).toFixed(1)} runs/min`
      : `searching: ${stats.searchRuns} run(s), ${(stats.searchRuns / mins()).toFixed(1)} runs/min, no violation yet`;
  const timer = setInterval(() => o.log(progress()), o.progressEveryMs ?? 10_000);
  timer.unref();
  const onRun = (i: RunInfo) => {
    stats.runs++;
    if (!stats.shrinking) stats.searchRuns++;
    if (stats.shrinking && stats.candidates === 0) stats.replayedCmds = i.commands.length;
    if (stats.shrinking && !i.ok) {
      if (stats.candidates > 0) stats.steps++;
      stats.lastCmds = i.commands.length;
      o.log(stats.candidates === 0 ? `  the replay fails again with ${i.commands.length} command(s)` : `  shrink step ${stats.steps}: still fails with ${i.commands.length} command(s) (${i.commands.join(', ')}) — candidate ${stats.candidates}`);
    }
    if (stats.shrinking) stats.candidates++;
  };
  const property = (replayPath: string | undefined) =>
    modelProperty({ world: () => o.world, faults: o.faults, maxCommands: o.maxCommands, ...(replayPath !== undefined ? { replayPath } : {}), onRun, track: (p) => (inFlight = p) });
  try {
    let path = o.path;
    let original: { commands: string[]; violation: string } = { commands: [], violation: '' };
    let originalCommands = 0;
    let foundAfterMs = 0;
    if (path === undefined) {
      o.log(`searching: seed ${o.seed}, budget ${Math.round(o.budgetMs / 1000)} s${o.runs ? `, at most ${o.runs} run(s)` : ''}, up to ${o.maxCommands} commands a sequence${o.faults ? ' (node kills and Redis link cuts among them)' : ' (client commands only)'}`);
      const r = await fc.check(property(undefined), { seed: o.seed, numRuns: o.runs ?? 1_000_000, interruptAfterTimeLimit: o.budgetMs, markInterruptAsFailure: false, endOnFailure: true });
      await inFlight;
      const searchMs = Date.now() - start;
      const base = { seed: o.seed, searchRuns: stats.searchRuns, searchMs, runsPerMinute: stats.searchRuns / Math.max(searchMs / 60_000, 1e-9) };
      if (!r.failed) return { ...base, runs: stats.runs, found: null, notReproduced: null };
      if (!r.counterexamplePath) throw new Error(`fast-check reported a failure without a path: ${firstLines(r.errorInstance)}`);
      path = r.counterexamplePath;
      foundAfterMs = searchMs;
      const seq = splitSequence(r.counterexample?.[0]);
      originalCommands = seq.commands.length;
      original = { commands: seq.commands, violation: firstLines(r.errorInstance) };
      o.log(`violation after ${stats.searchRuns} run(s), ${(searchMs / 1000).toFixed(1)} s, ${seq.commands.length} command(s): ${firstLines(r.errorInstance, 1)}`);
      o.log(`replay this sequence: --seed ${o.seed} --path ${path}`);
    }
    const searchMs = foundAfterMs;
    const base = { seed: o.seed, searchRuns: stats.searchRuns, searchMs, runsPerMinute: stats.searchRuns ? stats.searchRuns / Math.max(searchMs / 60_000, 1e-9) : 0 };

    stats.shrinking = true;
    const shrinkStart = Date.now();
    o.log(`shrinking: replaying --seed ${o.seed} --path ${path}${o.replayPath ? ` (replayPath ${o.replayPath})` : ''}, then smaller sequences; budget ${Math.round(o.shrinkBudgetMs / 1000)} s`);
    const r2 = await fc.check(property(o.replayPath), { seed: o.seed, path, numRuns: 1, interruptAfterTimeLimit: o.shrinkBudgetMs, markInterruptAsFailure: false });
    await inFlight;
    const shrinkMs = Date.now() - shrinkStart;
    if (!r2.failed || !r2.counterexample) {
      o.log('the sequence passed when replayed: no counterexample kept (a timing-bound failure; try again with the same --seed)');
      return { ...base, runs: stats.runs, found: null, notReproduced: { ...original, path } };
    }
    const seq = splitSequence(r2.counterexample[0]);
    return {
      ...base,
      runs: stats.runs,
      notReproduced: null,
      found: {
        commands: seq.commands,
        seed: o.seed,
        path: r2.counterexamplePath ?? path,
        replayPath: seq.replayPath ?? o.replayPath,
        violation: firstLines(r2.errorInstance),
        originalCommands: originalCommands || stats.replayedCmds,
        foundAfterMs,
        shrinkMs,
        shrinkCandidates: Math.max(0, stats.candidates - 1),
        shrinkSteps: stats.steps,
        shrinkInterrupted: r2.interrupted,
      },
    };
  } finally {
    clearInterval(timer);
  }
}
