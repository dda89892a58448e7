/**
 * Resolves in this event-loop iteration's check phase, after every setImmediate already
 * queued has run (they run in order): e.g. turn-cork's release of the sockets written this turn.
 */
export const nextTurn = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/**
 * The process's active libuv resources once this turn's queued immediates have run. Read
 * synchronously, a sample counts the `Immediate` of whatever wrote to a socket earlier in the
 * same turn (turn-cork's release) as an active handle: the leak check of a CI run once failed on
 * `1 active Immediate handles after every client left, baseline 0` for that alone. A
 * resource that stays (a timer, a socket, an immediate that re-arms itself every turn) is
 * still counted.
 */
export async function settledResources(): Promise<string[]> {
  // three turns, not one: an immediate queued after ours in the same check phase (a write
  // made while this request was handled) runs only in the next one; presence-race's leak
  // check in a CI run at 58b54f4 counted such an Immediate after the one-turn wait
  for (let i = 0; i < 3; i++) await nextTurn();
  return process.getActiveResourcesInfo();
}
