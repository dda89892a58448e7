// The checkers' verdicts (harness/checks), as the report stores them.
import { z } from 'zod';
import { faultEvent } from '../model/facts.ts';

/** The guarantees of PROTOCOL.md as the checkers name them (ISSUE 4, "Checkers"). */
export const GUARANTEES = ['lost', 'unseen', 'duplicate', 'order', 'presence', 'leaks'] as const;
export type Guarantee = (typeof GUARANTEES)[number];

export const GUARANTEE_TITLES: Record<Guarantee, string> = {
  lost: 'No acked message is lost',
  unseen: 'Connected devices receive live once faults heal',
  duplicate: 'Idempotent sends, no repeats on a connection',
  order: 'Per-connection order: no holes, no repeats',
  presence: 'Presence converges',
  leaks: 'No leaks (connections, fds, heap, handles, keys)',
};

/** A witness: the first violating operation, the facts that show it, the faults around it. */
export const violation = z.object({
  /** one line naming exactly what broke, e.g. "dm:a:b seq 7 (cmid c-3) never reached b/d1" */
  message: z.string(),
  /** the facts (or log lines) that show the violation, oldest first */
  trail: z.array(z.unknown()),
  /** the fault events overlapping the violation's time span */
  faultWindow: z.array(faultEvent),
});
export type Violation = z.infer<typeof violation>;

/** A checker's answer (the shape harness/checks produces). */
export const verdict = z.object({
  guarantee: z.enum(GUARANTEES),
  /** true when no violation was found */
  ok: z.boolean(),
  /** how many items were checked (messages, connections, subscribers, …) */
  checked: z.number().int().nonnegative(),
  violations: z.array(violation),
  /** one line for people, e.g. "1204 messages × members checked, 0 lost" */
  summary: z.string(),
});
export type Verdict = z.infer<typeof verdict>;
