import type { Semaphore } from '../util/semaphore.ts';
import type { ConvState, ConversationLog } from './log.ts';
import type { PresenceState, PresenceStore } from './presence-store.ts';

/** conversations whose state one read covers */
const STATE_BATCH = 250;

/**
 * users whose presence one read covers. One read of PRESENCE_SUBS_MAX (1000) users is a
 * pipeline of 1000 commands whose replies the node handles, and whose frames it writes, in
 * one turn of its loop: under hostile-ci's floods on a loaded two-core machine such turns
 * held the loop 100–220 ms (a CPU profile of each long turn, 2026-12-07). A hundred keep a
 * turn to a few ms, and other users' work runs between the reads.
 */
export const PRESENCE_BATCH = 100;

/**
 * `read` over `items` in batches of `size`, one after the other, each holding a place in
 * `limiter`: one request neither sends Redis one huge call nor times out as one, and many
 * at once queue in the node.
 */
export async function readInBatches<T, R>(items: readonly T[], size: number, limiter: Semaphore, read: (batch: T[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await limiter.run(() => read(items.slice(i, i + size)))));
  return out;
}

/** The states of a user's conversations (thousands, for a busy user), in batches. */
export function statesInBatches(log: Pick<ConversationLog, 'states'>, limiter: Semaphore, user: string, convs: readonly string[]): Promise<ConvState[]> {
  return readInBatches(convs, STATE_BATCH, limiter, (batch) => log.states(user, batch));
}

/** The presence of up to PRESENCE_SUBS_MAX users, in batches (GET /v1/presence). */
export function presenceInBatches(store: Pick<PresenceStore, 'presence'>, limiter: Semaphore, users: readonly string[]): Promise<PresenceState[]> {
  return readInBatches(users, PRESENCE_BATCH, limiter, (batch) => store.presence(batch));
}
