import type { Writable } from 'node:stream';

/**
 * Holds a socket's writes until the end of the current event-loop turn, so what many
 * callbacks of one turn write to it leaves in one writev syscall instead of one syscall
 * each (issue 10: in the 1:1 bench at 5,000 msg/s a third of the node's busy wall time was
 * inside socket writes — one per Redis `send` script, which wakes redis-server on the same
 * core, and one per client frame). The hold is a
 * `cork()`; every socket held this turn is uncorked in one setImmediate, which runs right
 * after the poll phase that read the requests (and before the loop waits again: a pending
 * immediate makes the poll not block). Nothing is reordered: a corked stream keeps its
 * writes in order, and `end()` flushes them. A socket about to be destroyed must be
 * released first (`releaseNow`), or what it held is dropped with it.
 *
 * A hold never keeps more than HOLD_MAX_BYTES: past that, what it holds is written at once
 * and the hold goes on. Held bytes count in a socket's `writableLength` (and a ws's
 * `bufferedAmount`), which the node reads as "unsent" to find slow consumers: a burst of live
 * messages pushed in one turn once sat here whole and cut a reader that kept up (4413).
 * Kept well under the node's slow-consumer allowance (SLOW_CONSUMER_BYTES + 256 KiB), and
 * a writev of 64 KiB already spreads a syscall's cost over many frames.
 */
export const HOLD_MAX_BYTES = 64 * 1024;
const held = new Set<Writable>();
let scheduled = false;

function releaseAll(): void {
  scheduled = false;
  for (const w of held) w.uncork();
  held.clear();
}

/** Holds `w`'s writes until the end of this turn (once per turn; a socket already held holding HOLD_MAX_BYTES or more writes them first). */
export function holdForTurn(w: Writable | null | undefined): void {
  if (!w) return;
  if (held.has(w)) return spillPast(w);
  w.cork();
  held.add(w);
  if (!scheduled) {
    scheduled = true;
    setImmediate(releaseAll);
  }
}

/** Writes what `w` holds now (before it is destroyed). */
export function releaseNow(w: Writable | null | undefined): void {
  if (!w || !held.delete(w)) return;
  w.uncork();
}

/**
 * Writes what `w` holds now when that is HOLD_MAX_BYTES or more, and goes on holding; what
 * the kernel does not take stays in `writableLength`: a real backlog. Call after a write.
 */
export function spillPast(w: Writable | null | undefined): void {
  if (!w || w.writableLength < HOLD_MAX_BYTES || !held.has(w)) return;
  w.uncork();
  w.cork();
}

/**
 * Holds every write to `w` for its turn: for a socket whose writes come from a library that
 * writes each command as it is issued (ioredis writes every command, and every pipeline,
 * with a syscall of its own). A new dm's first message takes about ten such commands on the
 * node's command link (index writes, then each member connection's state, cursor and
 * backlog reads); one writev a turn instead of one write each (issue 10).
 */
export function holdEveryTurn(w: Writable): void {
  const write = w.write;
  w.write = function (this: Writable, ...args: Parameters<Writable['write']>): boolean {
    holdForTurn(w);
    const ok = write.apply(w, args);
    spillPast(w);
    return ok;
  } as Writable['write'];
}
