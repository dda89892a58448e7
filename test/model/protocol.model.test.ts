// Model-based protocol tests (issue 11): fast-check generates sequences of client and fault
// commands (harness/protocol-model/commands.ts) against two real server nodes on a real Redis,
// checks each observation against the model of PROTOCOL.md (harness/protocol-model/model.ts),
// and shrinks a failing sequence to a minimal one. The controls show that the property fails
// on deliberately broken servers (TEST_BUGS) and shrinks to a few commands. The property is
// harness/protocol-model/run.ts's, which `imstorm explore --model` runs with big budgets.
//
// IMSTORM_MODEL_RUNS=N runs N sequences (default 25); IMSTORM_MODEL_SEED, IMSTORM_MODEL_PATH
// and IMSTORM_MODEL_REPLAY (the replayPath fast-check prints inside the counterexample)
// replay a failure; IMSTORM_MODEL_CONTROLS=bug:max,... picks the broken servers to try, with
// IMSTORM_MODEL_CONTROL_RUNS / IMSTORM_MODEL_CONTROL_SECONDS as each one's budget (80, 60).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutExample, exercised } from '../../harness/protocol-model/commands.ts';
import { modelProperty, ranCommands } from '../../harness/protocol-model/run.ts';
import { startWorld, type World } from '../../harness/protocol-model/world.ts';
import { controlsEnv, intEnv, replayEnv } from './env-knobs.ts';

const RUNS = intEnv('IMSTORM_MODEL_RUNS', 25);
/** runs (and seconds) a control may spend finding its counterexample, shrinking included */
const CONTROL_RUNS = intEnv('IMSTORM_MODEL_CONTROL_RUNS', 80);
const CONTROL_SECONDS = intEnv('IMSTORM_MODEL_CONTROL_SECONDS', 60);
const { seed: SEED, path: PATH } = replayEnv('IMSTORM_MODEL');
const REPLAY = process.env.IMSTORM_MODEL_REPLAY || undefined;

/** commands that ran, by kind, over every run of a property (a check that refused a command skips it) */
const ran = new Map<string, number>();

/** One run: a fresh namespace on the shared world, the commands, a last settled check. */
const property = (world: () => World, faults: boolean, maxCommands: number) =>
  modelProperty({ world, faults, maxCommands, replayPath: REPLAY, verbose: !!process.env.IMSTORM_MODEL_VERBOSE, onRun: (r) => r.names.forEach((c) => ran.set(c, (ran.get(c) ?? 0) + 1)) });

describe('model-based protocol tests: the correct server matches the model', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it(`${RUNS} command sequences (connect/replace/disconnect, send/resend, ack, history, join/leave, kill/restart, cut/heal)`, async () => {
    const started = Date.now();
    await fc.assert(property(() => world, true, 40), { numRuns: RUNS, seed: SEED, path: PATH, examples: [[cutExample()]] });
    console.log(`model: ${RUNS} runs in ${((Date.now() - started) / 1000).toFixed(1)} s; commands run: ${[...ran].map(([k, v]) => `${k.slice(0, -1)} ${v}`).join(', ')}; ${JSON.stringify(exercised)}`);
  }, 600_000);
});

/** bug → the most commands its shrunk counterexample may have */
const CONTROLS = controlsEnv('IMSTORM_MODEL_CONTROLS', 'skip_dedupe:4,drop_replay:4', 'bug:maxCommands, e.g. skip_dedupe:4');

for (const [bug, maxShrunk] of CONTROLS) {
  describe(`model-based protocol tests: control TEST_BUGS=${bug}`, () => {
    let world: World;
    beforeAll(async () => {
      world = await startWorld({ bugs: bug });
    });
    afterAll(async () => {
      await world?.close();
    });

    it(`finds a counterexample and shrinks it to ≤ ${maxShrunk} commands`, async () => {
      const started = Date.now();
      ran.clear();
      const details = await fc.check(property(() => world, false, 16), { numRuns: CONTROL_RUNS, seed: SEED, path: PATH, interruptAfterTimeLimit: CONTROL_SECONDS * 1000 });
      const shrunk = details.counterexample ? ranCommands(details.counterexample[0]) : [];
      const err = details.errorInstance instanceof Error ? details.errorInstance.message.split('\n')[0] : String(details.errorInstance);
      console.log(`model control ${bug}: failed=${details.failed} after ${details.numRuns} runs, ${details.numShrinks} shrinks, ${((Date.now() - started) / 1000).toFixed(1)} s; seed ${details.seed} path ${details.counterexamplePath}\n  ${shrunk.length} commands: ${String(details.counterexample?.[0] ?? '')}\n  ${err}`);
      expect(details.failed, `no counterexample on TEST_BUGS=${bug} in ${details.numRuns} runs`).toBe(true);
      expect(err).toMatch(/model violation/);
      expect(shrunk.length).toBeGreaterThan(0);
      expect(shrunk.length).toBeLessThanOrEqual(maxShrunk);
    }, CONTROL_SECONDS * 1000 + 60_000);
  });
}
