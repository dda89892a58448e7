import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Bytes V8 holds for the young generation now: it grows (16 → 32 MiB here) with the
 * allocation rate whatever is kept, so a process's RSS moves by that much between runs of
 * the same code. The bench's JSON still gives RSS per connection less its growth; read after
 * collectGarbage(true), RSS no longer holds those pages (less the growth, the fleet read
 * −0.3 KiB a device), so that figure is moot there.
 */
export function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Runs V8's full GC twice, so RSS read right after counts what is held, not garbage a
 * collection has not reached yet (without it, RSS per connection in the bench moved by
 * ±2 KiB between runs of the same code). Works without --expose-gc, as the server's
 * POST /debug/gc does. With `reduce`, RSS read next also leaves out what V8 keeps pooled.
 */
export function collectGarbage(reduce = false): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (opts?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
  gc();
  gc();
  // V8's memory-reducing collection, as the server's POST /debug/gc?reduce=1: it also hands
  // back the pages V8 keeps pooled after a burst of garbage, so RSS counts what is held
  if (reduce) gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
