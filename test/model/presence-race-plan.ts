// What a presence race run does, and the order it does it in. fast-check generates a plan —
// per device up to four moves, a pause of n1, a late subscriber — and fc.scheduler picks the
// interleaving of those threads: each step is a scheduled task released when the scheduler
// picks it, and awaited before the next release — unless it needs a node that is paused (a
// connect or close there waits for the resume): then the next step is released at once, so
// the other threads go on while that node is frozen. A resume is awaited whole (everything
// released after it happens after it).
//
// Every plan schedules the same 17 tasks (4 per device, pause and resume after 2, the late
// subscriber); a move that does nothing (a missing one, or closing a closed device) is an
// empty task.
// fc.scheduler does not shrink: on a shrunk plan it makes the same random picks among the
// tasks ready. With a fixed set of tasks, dropping a move keeps every other thread's
// place in the interleaving, so the failure a shrink keeps is the one it started from
// (removing tasks instead reshuffled the order and lost it).
import fc from 'fast-check';
import { sleep } from '../helpers/procs.ts';
import { LAPSE_PAUSE_MS, RaceViolation, SHORT_PAUSE_MS, type RaceRun } from './presence-race-real.ts';

/** A device's move: `n0`/`n1` connect there (replace when open), `x` close, `-` nothing (padding). */
export type Move = '-' | 'n0' | 'n1' | 'x';

export interface Plan {
  /**
   * a pause of n1 (SIGSTOP … SIGCONT): `lapse` lasts past PRESENCE_TTL_MS and a sweep, `short`
   * does not. Always n1: both nodes run the same code except in the controls, whose variant
   * runs on n1.
   */
  pause: '-' | 'lapse' | 'short';
  /** a third subscriber that subscribes mid-run on that node */
  lateSub: '-' | 'n0' | 'n1';
  /** moves of A/d0, A/d1, B/d0 (at most MOVES_PER_DEVICE each) */
  devices: [Move[], Move[], Move[]];
}

const DEVICE_KEYS = ['A/d0', 'A/d1', 'B/d0'] as const;
export const MOVES_PER_DEVICE = 4;

/**
 * A move (a shrink drops moves, or turns one into `n1`): `n1` twice as likely as the others
 * — the controls' variant runs on n1 (and n1 is the node paused), so connections there find
 * it sooner; with both nodes correct this bias loses nothing (they are alike).
 */
const moveArb = fc.constantFrom<Move>('n1', 'n0', 'x', 'n1');

// fields in shrink order: fast-check shrinks a record's fields first to last, so the pause
// (the costliest part of a run) and the late subscriber go first when they are not needed
export const planArb: fc.Arbitrary<Plan> = fc.record({
  pause: fc.constantFrom<Plan['pause']>('-', 'lapse', 'lapse', 'lapse', 'short'),
  lateSub: fc.constantFrom<Plan['lateSub']>('-', 'n0', 'n1'),
  // up to four moves, padded with empty tasks: a shrink drops moves, several at once (one
  // at a time can leave a device open that masks the failure, its user still online)
  devices: fc.tuple(...DEVICE_KEYS.map(() => fc.array(moveArb, { maxLength: MOVES_PER_DEVICE }))) as fc.Arbitrary<[Move[], Move[], Move[]]>,
});

export interface Step {
  label: string;
  run: (r: RaceRun) => Promise<string> | string;
  /** the nodes it needs answering (when one is paused it waits for the resume) */
  nodes: number[];
  /** awaited whole before the next release (a resume) */
  exclusive?: boolean;
  /** an empty task (keeps the plan's 17 tasks; see above) */
  empty?: boolean;
}

const empty = (label: string): Step => ({ label: `· ${label}`, run: () => 'nothing', nodes: [], empty: true });

/**
 * A device's moves as steps. Only its own thread changes a device's connection, so whether
 * a move connects, replaces or closes is known when the plan is made; a move with nothing
 * to do (`-`, closing a closed device) is an empty task.
 */
function deviceSteps(key: string, moves: Move[]): Step[] {
  const out: Step[] = [];
  let at: number | undefined;
  for (let i = 0; i < MOVES_PER_DEVICE; i++) {
    const m = moves[i] ?? '-';
    if (m === '-' || (m === 'x' && at === undefined)) {
      out.push(empty(key));
    } else if (m === 'x') {
      const node = at!;
      out.push({ label: `close ${key}`, run: (r) => r.close(key), nodes: [node] });
      at = undefined;
    } else {
      const node = m === 'n0' ? 0 : 1;
      out.push({
        label: at === undefined ? `connect ${key} → n${node}` : `replace ${key} → n${node}${node === at ? ' (same node)' : ''}`,
        run: (r) => r.connect(key, node),
        nodes: at === undefined ? [node] : [node, at],
      });
      at = node;
    }
  }
  return out;
}

/** empty tasks before the pause: it comes after a few device moves, so connections are there to lapse */
const PAUSE_LEAD = 2;

function pauseSteps(pause: Plan['pause']): Step[] {
  const lead = Array.from({ length: PAUSE_LEAD }, () => empty('before the pause'));
  if (pause === '-') return [...lead, empty('pause'), empty('resume')];
  const node = 1;
  let pausedAt = 0;
  const forMs = pause === 'lapse' ? LAPSE_PAUSE_MS : SHORT_PAUSE_MS;
  return [
    ...lead,
    {
      label: `pause n${node}`,
      run: (r) => {
        pausedAt = Date.now();
        return r.pause(node);
      },
      nodes: [],
    },
    { label: `resume n${node} ${pause === 'lapse' ? `(lease lapsed: ≥ ${forMs} ms paused)` : `(short: ≥ ${forMs} ms paused)`}`, run: (r) => r.resume(node, pausedAt, forMs, pause === 'lapse'), nodes: [], exclusive: true },
  ];
}

export function threadsOf(plan: Plan): Step[][] {
  const threads = plan.devices.map((moves, i) => deviceSteps(DEVICE_KEYS[i]!, moves));
  threads.push(pauseSteps(plan.pause));
  const sub = plan.lateSub;
  threads.push([sub === '-' ? empty('subscribe') : { label: `subscribe L on ${sub}`, run: (r) => r.subscribe('L', sub === 'n0' ? 0 : 1), nodes: [sub === 'n0' ? 0 : 1] }]);
  return threads;
}

/** Steps a plan has in all (the size of a counterexample). */
export const stepCount = (plan: Plan): number => threadsOf(plan).reduce((n, t) => n + t.filter((x) => !x.empty).length, 0);


/**
 * Runs the threads in the order the scheduler picks. Every step's outcome (or error) goes
 * to the run's timeline; the first step that throws fails the run once every thread ended.
 */
export async function runScheduled(s: fc.Scheduler, threads: Step[][], r: RaceRun): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const errors: Error[] = [];
  let finished = 0;
  /** the step the last release started (set by the gate's continuation) */
  const cur: { released?: { step: Step; done: Promise<void> } } = {};
  let n = 0;

  const next = (thread: Step[], i: number): void => {
    if (i >= thread.length) {
      finished++;
      return;
    }
    const step = thread[i]!;
    void s.schedule(Promise.resolve(), step.label).then(() => {
      const k = step.empty ? 0 : ++n;
      const started = Date.now();
      const done = (async () => {
        try {
          const outcome = await step.run(r);
          if (!step.empty) r.note(`[${k}] ${step.label}: ${outcome}`, started);
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          r.note(`[${k}] ${step.label}: FAILED ${e.message.split('\n')[0]}`, started);
          const msg = `step [${k}] ${step.label}: ${e.message}`;
          errors.push(e instanceof RaceViolation ? new RaceViolation(msg) : new Error(msg));
        }
      })().finally(() => {
        inFlight.delete(done);
        next(thread, i + 1);
      });
      inFlight.add(done);
      cur.released = { step, done };
    });
  };
  for (const t of threads) next(t, 0);

  while (finished < threads.length) {
    if (s.count() > 0) {
      cur.released = undefined;
      await s.waitOne();
      // the gate's continuation (which starts the step) runs on a later microtask
      // (read through a function: the continuation sets it, which the compiler cannot see)
      const started = (): { step: Step; done: Promise<void> } | undefined => cur.released;
      for (let spins = 0; !started(); spins++) {
        if (spins > 1000) throw new Error('a released step never started (scheduler gate not continued)');
        await new Promise<void>((res) => setImmediate(res));
      }
      const { step, done } = started()!;
      if (step.exclusive || !step.nodes.some((n) => r.world.nodes[n]!.paused)) await done;
    } else {
      // nothing released yet: a blocked step will end (or schedule its thread's next one)
      await Promise.race([...inFlight, sleep(20)]);
    }
  }
  if (errors.length) throw errors[0];
}
