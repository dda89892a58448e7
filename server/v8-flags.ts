import v8 from 'node:v8';

/**
 * V8 settings the server makes for itself, imported first by its entries (server/main.ts,
 * server/test-main.ts) so they hold before any of its code runs, however the node is started
 * (`node server/main.ts`, `npm run server`, the Docker image, the harness): NODE_OPTIONS
 * refuses these flags, and a flag every launcher must remember is one a launcher forgets.
 *
 * `--no-allocation-site-pretenuring`. V8 watches each allocation site and, once most of its
 * objects outlived a young-generation collection, allocates that site's objects straight in
 * the old generation. A node that was behind for a moment (a burst of new conversations, a
 * connect storm, a slow Redis: every in-flight send, its promise and its command outlive a
 * collection then) goes on filling old space with objects that die within milliseconds, and
 * each old-space collection marks the whole live heap on the core the node shares with its
 * Redis. In the 1:1 bench at 5,000 msg/s (docs/performance-journal.md, 2026-12-05) the node
 * without the flag missed the p99 line of 50 ms in 9 runs of 9 (52–126 ms, median 58); with
 * it set here, 4 of 6 met it (41–63 ms, median 48) at the same CPU per message. Group fan-out
 * did not move; the connect storm's CPU per connect read a median 362 µs against 353 over
 * eleven runs each (within the spread; two slow runs of eleven with it, one without).
 *
 * An operator who wants V8's default back starts the node with `--allocation-site-pretenuring`.
 */
/** Whether the node was started with V8's pretenuring asked for (V8 reads `_` in a flag's name as `-`). */
export function keepsPretenuring(execArgv: readonly string[]): boolean {
  return execArgv.some((a) => a.replaceAll('_', '-') === '--allocation-site-pretenuring');
}

if (!keepsPretenuring(process.execArgv)) v8.setFlagsFromString('--no-allocation-site-pretenuring');

/**
 * `--heap-growing-percent=100`: after each full collection V8 lets old space grow to twice
 * what was live before the next one, where its own heuristics allowed as little as a sixth more
 * on a busy node (a `--trace-gc` probe: 59.5 MB live after one, the next at 69.4 MB 2.5 s later). The node's sends leave a steady trickle of objects that outlive two
 * scavenges and then die (about 600 bytes a message at 4,000 msg/s: README "Full collections
 * under load" under "The 1:1 step alone"), so with the small
 * margin a full collection came every two to three seconds under load, each one marking the
 * whole heap on the core the node shares with its Redis. In the 1:1 bench at 5,000 msg/s
 * (`dm-bench.ts --connections 10000 --rates 2500,5000`, 2026-12-06, four runs each
 * alternated) V8's default had 4 major collections in every 10 s step and missed the 50 ms
 * line in 4 of 4 (108–150 ms); with this, 0 majors and 4 of 4 passed (17–20 ms). The cost is
 * old space up to twice its live size between collections (a memory-reducing collection, as
 * the idle bench takes, still shrinks it: idle heap and RSS a connection did not move in the
 * full bench, 2026-12-07).
 *
 * An operator's own `--heap-growing-percent=N` at start wins.
 */
export function keepsHeapGrowing(execArgv: readonly string[]): boolean {
  return execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a));
}

if (!keepsHeapGrowing(process.execArgv)) v8.setFlagsFromString('--heap-growing-percent=100');
