// The smallest and largest of a list of any length.
//
// `Math.min(...xs)` passes every item as an argument, and past about 125,000 of them
// (Node 22's default stack) it throws RangeError: a run's per-second series reaches that
// in a long soak (six counters over six hours), and a check's per-device list at 125k
// devices. A loop has no such limit; lodash's min/max would be a dependency for four lines.

/** The smallest of `xs`, or Infinity when there is none (as `Math.min()`). NaN is skipped. */
export function minOf(xs: Iterable<number>): number {
  let out = Infinity;
  for (const x of xs) if (x < out) out = x;
  return out;
}

/** The largest of `xs`, or -Infinity when there is none (as `Math.max()`). NaN is skipped. */
export function maxOf(xs: Iterable<number>): number {
  let out = -Infinity;
  for (const x of xs) if (x > out) out = x;
  return out;
}
