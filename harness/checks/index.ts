/**
 * The guarantee checkers: pure functions over a run's recorded facts (harness/model/facts.ts)
 * and server samples. Each module has one job, `check(input) → Verdict`; runAllCheckers
 * runs them over one shared index of the facts.
 */
import { check as checkDuplicate } from './duplicate.ts';
import { indexFacts } from './fact-index.ts';
import { check as checkInflight } from './inflight.ts';
import { check as checkLeaks } from './leaks.ts';
import { check as checkLost } from './lost.ts';
import { check as checkNodeExits } from './node-exits.ts';
import { check as checkOrder } from './order.ts';
import { check as checkPresence } from './presence.ts';
import { check as checkReclaim } from './reclaim.ts';
import { check as checkSlow } from './slow.ts';
import { check as checkUnexpected } from './unexpected.ts';
import { check as checkUnseen } from './unseen.ts';
import type { CheckInput, Verdict } from './verdict.ts';

export { checkDuplicate, checkInflight, checkLeaks, checkLost, checkNodeExits, checkOrder, checkPresence, checkReclaim, checkSlow, checkUnexpected, checkUnseen };
export type { NodeExit } from './node-exits.ts';
export type { WindowMeta, WindowSummary } from './inflight.ts';
export { windowSummaries } from './inflight.ts';
/** The leak checker over samples alone (no facts needed). */
export { checkLeaks as checkLeakSamples } from './leaks.ts';
export type { CheckInput, CheckOptions, Evidence, PresenceOptions, Verdict, Witness } from './verdict.ts';
export type { Guarantee } from '../model/guarantees.ts';
export type { GoneKeysSample, LeakInput, ServerSample } from './samples.ts';
export { heapTolerance } from './leaks.ts';
export { isUnknownOutcome } from './lost.ts';

/**
 * Every checker over one input, in the order lost, unexpected, unseen, duplicate, order, presence,
 * leaks, reclaim, slow, inflight, nodes. `leaks` is left out when the input has no server samples,
 * `reclaim` when it has no blackholes, `slow` when no read stall was measured (drain facts), `inflight` when no fault step opened a window,
 * `nodes` when it names no nodes (rather than passing with nothing checked).
 */
export function runAllCheckers(input: CheckInput): Verdict[] {
  indexFacts(input);
  const out = [checkLost(input), checkUnexpected(input), checkUnseen(input), checkDuplicate(input), checkOrder(input), checkPresence(input)];
  if (input.leaks) out.push(checkLeaks(input));
  if (input.reclaims?.length) out.push(checkReclaim(input));
  if (input.facts.some((f) => f.k === 'drain')) out.push(checkSlow(input));
  if (input.windows?.length || input.facts.some((f) => f.k === 'window')) out.push(checkInflight(input));
  if (input.nodes) out.push(checkNodeExits(input.nodes.watched, input.nodes.exits, input.faults, input.options?.maxWitnesses));
  return out;
}
