// Presence races (issue 11): fc.scheduler picks the interleaving of client actions and fault
// steps — connect, close and replace devices of two users on two real nodes, pause n1
// (SIGSTOP) shortly or past PRESENCE_TTL_MS until its lease is swept, subscribe mid-run — and after
// each run presence must converge to the truth and `v` must have risen for every subscriber
// (presence-race-check.ts). A failing interleaving shrinks (fewer steps; the scheduler keeps
// its choices) and prints as fast-check's scheduler report plus the run's timeline. The
// controls show each presence TEST_BUGS variant is found and shrunk with a small budget (two
// by default in npm test; README "Presence races" has all four).
//
// IMSTORM_PRESENCE_RACE_RUNS=N runs N schedules on the correct server (default 16);
// IMSTORM_PRESENCE_RACE_SEED / IMSTORM_PRESENCE_RACE_PATH replay a failure;
// IMSTORM_PRESENCE_RACE_CONTROLS=bug:maxSteps,... picks the broken servers to try, with
// IMSTORM_PRESENCE_RACE_CONTROL_RUNS / IMSTORM_PRESENCE_RACE_CONTROL_SECONDS as each one's
// budget (runs to find it; seconds including the shrink).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { controlsEnv, intEnv, replayEnv } from './env-knobs.ts';
import { checkConverges, checkRisingV, repeats } from './presence-race-check.ts';
import { planArb, runScheduled, stepCount, threadsOf, type Plan } from './presence-race-plan.ts';
import type { NodeHandle } from '../helpers/nodes.ts';
import { RaceRun, RaceViolation, raceWorld, readyWorld, startRaceNode, type RaceWorld } from './presence-race-real.ts';

/**
 * runs a control may spend finding its counterexample: found within 1–11 runs in eight tries
 * here, once not in 25 with an older plan; the search stops at the first failure, so the
 * headroom costs time only when a search would otherwise have missed
 */
const CONTROL_RUNS = intEnv('IMSTORM_PRESENCE_RACE_CONTROL_RUNS', 60);
const RUNS = intEnv('IMSTORM_PRESENCE_RACE_RUNS', 16);
const CONTROL_SECONDS = intEnv('IMSTORM_PRESENCE_RACE_CONTROL_SECONDS', 75);
const { seed: SEED, path: PATH } = replayEnv('IMSTORM_PRESENCE_RACE');

/** bug → the most steps its shrunk counterexample may have */
const CONTROLS = controlsEnv('IMSTORM_PRESENCE_RACE_CONTROLS', 'presence_local_view:3,ignore_lease_lapse:3', 'bug:maxSteps, e.g. close_by_device:2');

/** The last failing run (after shrinking: the counterexample's), as printed. */
interface Failure {
  plan: Plan;
  steps: number;
  scheduler: string;
  message: string;
  violation: boolean;
}
let lastFailure: Failure | undefined;
/** over the runs that converged: how long after the last step, the longest */
const stats = { runs: 0, steps: 0, lapses: 0, convergedMaxMs: 0 };

const fmtTimeline = (r: RaceRun): string => r.timeline.map((e) => `  +${String(e.at).padStart(5)} ms  ${e.text}`).join('\n');

function property(world: () => RaceWorld) {
  return fc.asyncProperty(fc.scheduler(), planArb, async (s, plan) => {
    const w = world();
    await readyWorld(w);
    const r = new RaceRun(w);
    stats.runs++;
    stats.steps += stepCount(plan);
    if (plan.pause === 'lapse') stats.lapses++;
    try {
      r.note(`${await r.subscribe('W0', 0)}; ${await r.subscribe('W1', 1)} (to A and B)`);
      await runScheduled(s, threadsOf(plan), r);
      r.note('every step done; checking convergence');
      stats.convergedMaxMs = Math.max(stats.convergedMaxMs, await checkConverges(r));
      checkRisingV(r);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const message = `${e.message}\ntimeline (A = ${r.users.A}, B = ${r.users.B}):\n${fmtTimeline(r)}`;
      // fast-check's report, without the empty tasks (presence-race-plan.ts)
      const lines = s.toString().replace(/`$/, '').split('\n');
      const scheduler = `${lines.filter((l) => !l.includes('::· ')).join('\n')}\``;
      lastFailure = { plan, steps: stepCount(plan), scheduler, message, violation: e instanceof RaceViolation };
      throw new Error(message);
    } finally {
      await r.teardown();
      if (process.env.IMSTORM_PRESENCE_RACE_VERBOSE) console.log(`run ${stats.runs}: ${stepCount(plan)} steps in ${r.ms()} ms: ${JSON.stringify(plan)}\n${fmtTimeline(r)}`);
    }
  });
}

let redis: RedisHandle;
/** the correct node every world shares (presence-race-real.ts, startRaceNode) */
let n0: NodeHandle;
beforeAll(async () => {
  redis = await startRedis();
  n0 = await startRaceNode(redis);
});
afterAll(async () => {
  await n0?.kill();
  await redis?.cleanup();
});

describe('presence races: the correct server converges and v rises', () => {
  let world: RaceWorld;
  beforeAll(async () => {
    world = raceWorld(redis, n0, await startRaceNode(redis));
  });
  afterAll(async () => {
    await world?.close();
  });

  it(`${RUNS} scheduled interleavings of connect/close/replace, node pauses (short and past the lease) and a late subscriber`, async () => {
    const started = Date.now();
    await fc.assert(property(() => world), { numRuns: RUNS, seed: SEED, path: PATH });
    console.log(`presence-race: ${stats.runs} runs, ${stats.steps} steps, ${stats.lapses} lease lapses, ${repeats.count} repeated frames, converged within ${stats.convergedMaxMs} ms at most, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);
});

for (const [bug, maxSteps] of CONTROLS) {
  describe(`presence races: control TEST_BUGS=${bug} on n1`, () => {
    let world: RaceWorld;
    beforeAll(async () => {
      world = raceWorld(redis, n0, await startRaceNode(redis, bug), bug);
    });
    afterAll(async () => {
      await world?.close();
    });

    it(`finds an interleaving that breaks presence and shrinks it to ≤ ${maxSteps} steps`, async () => {
      const started = Date.now();
      lastFailure = undefined;
      const details = await fc.check(property(() => world), { numRuns: CONTROL_RUNS, seed: SEED, path: PATH, interruptAfterTimeLimit: CONTROL_SECONDS * 1000 });
      const f = lastFailure as Failure | undefined;
      console.log(
        `presence-race control ${bug}: failed=${details.failed} after ${details.numRuns} runs, ${details.numShrinks} shrinks, ${((Date.now() - started) / 1000).toFixed(1)} s; seed ${details.seed} path ${details.counterexamplePath}\n` +
          (f ? `  ${f.steps} steps: ${f.scheduler}\n  ${f.message.replace(/\n/g, '\n  ')}` : ''),
      );
      expect(details.failed, `no counterexample on TEST_BUGS=${bug} in ${details.numRuns} runs`).toBe(true);
      expect(f?.violation, f?.message).toBe(true);
      expect(f!.steps).toBeGreaterThan(0);
      expect(f!.steps).toBeLessThanOrEqual(maxSteps);
    }, CONTROL_SECONDS * 1000 + 60_000);
  });
}
