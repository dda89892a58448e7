// The environment knobs the model-based test files share (protocol.model.test.ts,
// presence-race.model.test.ts): run counts and budgets, fast-check's seed and path to replay
// a failure, and the broken servers to try as controls. A bad value stops the file with the
// variable named and what it takes, before any server starts.

/** A whole number ≥ 1 from `name` (a `…_SEED` may be any 32-bit integer), or `dflt` when unset. */
export function intEnv(name: string, dflt: number): number;
export function intEnv(name: string, dflt: undefined): number | undefined;
export function intEnv(name: string, dflt: number | undefined): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  const seed = name.endsWith('_SEED');
  if (!Number.isInteger(n) || n < (seed ? -(2 ** 31) : 1)) throw new Error(`${name}="${v}" must be an integer${seed ? '' : ' ≥ 1'}; unset it for the default`);
  return n;
}

/** `<prefix>_SEED` and `<prefix>_PATH`: a failure fast-check printed, replayed (a path needs its seed). */
export function replayEnv(prefix: string): { seed: number | undefined; path: string | undefined } {
  const seed = intEnv(`${prefix}_SEED`, undefined);
  const path = process.env[`${prefix}_PATH`] || undefined;
  if (path !== undefined && seed === undefined) throw new Error(`${prefix}_PATH needs ${prefix}_SEED (fast-check replays a path from its seed)`);
  return { seed, path };
}

/** `name`=bug:max,…: the TEST_BUGS variants a file's controls try, each with the most steps its shrunk counterexample may have. */
export function controlsEnv(name: string, dflt: string, example: string): Array<[bug: string, max: number]> {
  return (process.env[name] ?? dflt)
    .split(',')
    .filter(Boolean)
    .map((x) => {
      const [bug, max] = x.split(':');
      const n = Number(max);
      if (!bug || !Number.isInteger(n) || n < 1) throw new Error(`${name}: "${x}" must be ${example}`);
      return [bug, n];
    });
}
