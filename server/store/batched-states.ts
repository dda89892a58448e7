import type { Semaphore } from '../util/semaphore.ts';
import type { ConvState, ConversationLog } from './log.ts';

/** conversations whose state one read covers */
const STATE_BATCH = 250;

/**
 * The states of a user's conversations (thousands, for a busy user) in bounded reads one
 * after the other, each holding a place in `limiter`: one request neither sends Redis one
 * huge script call nor times out as one, and many at once queue in the node.
 */
export async function statesInBatches(log: Pick<ConversationLog, 'states'>, limiter: Semaphore, user: string, convs: readonly string[]): Promise<ConvState[]> {
  const out: ConvState[] = [];
  for (let i = 0; i < convs.length; i += STATE_BATCH) out.push(...(await limiter.run(() => log.states(user, convs.slice(i, i + STATE_BATCH)))));
  return out;
}
