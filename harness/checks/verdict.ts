import type { Fact, FaultEvent, Population } from '../model/facts.ts';
import type { Guarantee } from '../model/guarantees.ts';
import type { WindowMeta } from './inflight.ts';
import type { NodeExit } from './node-exits.ts';
import type { GoneKeysSample, LeakInput, NodeLogLine, ReclaimSample, ServerSample } from './samples.ts';

/** A recorded fact, a server sample or a node's log line: what a witness points at (facts carry `k`, the others do not). */
export type Evidence = Fact | ServerSample | GoneKeysSample | NodeLogLine;

/**
 * A Jepsen-style witness: one violation a human can read and replay in their head.
 * `trail` is in time order and includes `first`.
 */
export interface Witness {
  /** one precise sentence naming conv, seq, cmid, user/device, conn as relevant */
  message: string;
  /** the first violating fact (the operation that broke the guarantee) */
  first: Evidence;
  /** when `first` happened (ms since the Unix epoch, harness clock) */
  at: number;
  /** the relevant facts around it, in time order (capped; see trailOmitted) */
  trail: Evidence[];
  /** how many relevant facts were left out of `trail` by the cap */
  trailOmitted: number;
  /** the fault events overlapping [at - faultMarginMs, at + faultMarginMs] */
  faultWindow: FaultEvent[];
}

export interface Verdict {
  guarantee: Guarantee;
  ok: boolean;
  /** how many items were examined (the unit is named in `summary`) */
  checked: number;
  /** the earliest violations, in time order, at most `maxWitnesses` of them */
  violations: Witness[];
  /** how many violations there were in all (> violations.length when capped) */
  violationCount: number;
  summary: string;
}

export interface PresenceOptions {
  /**
   * Quiescence: the time after which connects and disconnects stopped. A user whose
   * connections changed after it (up to `at`) is not held to convergence yet and is skipped.
   * Omitted: no user is skipped.
   */
  quiescentAt?: number;
  /** when the subscribers' views are read (default: the run's last fact) */
  at?: number;
  /** explicit truth (user → online?) instead of the one derived from connection facts */
  truth?: Readonly<Record<string, boolean>> | ReadonlyMap<string, boolean>;
  /**
   * Presence over time, not only at the end: whenever a user's real state held longer than
   * `settleMs`, every subscriber connection open (and subscribed) for that long must have
   * shown it for the rest of that stretch (bar its last 500 ms: the server may see a
   * change before the user's own device records it). A fault moves the start of a stretch to
   * `afterFaultMs` past the fault's end (a killed node's users stay online until its
   * lease lapses). Omitted: only the end state is checked.
   */
  overTime?: { settleMs: number; afterFaultMs: number };
  /**
   * The nodes' MAX_DEVICES: no user has more devices welcomed at once, and a hello refused
   * 4429 had that many other devices open (harness/checks/devices.ts). Omitted: not judged.
   * Replacements (workload replaceRate: the old connection closed 4409) are judged either way.
   */
  maxDevices?: number;
}

export interface CheckOptions {
  /** unseen: how long after storage (or after faults healed) a connected device may wait; default 5000 */
  unseenWithinMs?: number;
  /** witnesses list faults overlapping ±this around the violation; default 5000 */
  faultMarginMs?: number;
  /** most witnesses built per verdict (the count is kept); default 100 */
  maxWitnesses?: number;
  /** most facts in a witness trail; default 40 */
  trailCap?: number;
  /** the end of the run (default: the last fact's time); open connections and unended faults last until it */
  runEnd?: number;
  presence?: PresenceOptions;
  /**
   * When a store without persistence came back empty (a volatile Redis killed, stopped or
   * restarted): a conversation's epochs all first seen before the last of these were lost
   * with it by design, even when no newer epoch of it was seen (nobody wrote to it since),
   * so `lost` and `inflight` owe none of their messages, and `unseen` only the deliveries due
   * before the wipe began (a wipe cannot excuse a message already late by then).
   */
  storeWipes?: readonly number[];
  /**
   * When each wiped store (storeWipes, in the same order) took commands again: a send
   * answered before then was stored in the store that was wiped, never in an epoch first seen
   * after it. A SIGTERMed Redis goes on answering until its next cron tick (about 100 ms after
   * a `stop` began: a send answered 72 ms into one was judged lost in the epoch after it,
   * explore --volatile, 2026-12-02). A send the new store answered before the harness saw it
   * back, and first seen after, is counted as gone with the wipe: a narrow window, excused.
   */
  storeBackAt?: readonly number[];
  /**
   * How far two fleet agents' clocks may still disagree after correction (ms; the two largest
   * residual bounds added). Omitted or 0: every fact is on one machine's clock. `order`'s
   * connect-sequence rule takes a sender's answer as before a connection began only when it is
   * earlier by more than this.
   */
  clockErrorMs?: number;
  /** leaks: heap growth per connection opened (default: at most 512 B, judged from 2,000 connections a node) */
  leakPerConnection?: LeakPerConnectionOptions;
  /** slow: the nodes' SLOW_CONSUMER_BYTES and MAX_BODY_BYTES (default 1 MiB, 16 KiB) */
  slow?: import('./slow.ts').SlowOptions;
}

export interface LeakPerConnectionOptions {
  /** most heap growth after GC (bytes) per connection the node admitted during the run */
  maxBytes: number;
  /** fewer connections than this on a node: the figure is reported, not judged (noise over too few connections) */
  minConnections: number;
}

export interface CheckInput {
  /**
   * The run's facts. Facts of one connection must be in the order the fleet recorded them
   * (each fleet process appends its own); facts of different connections may interleave in
   * any order (e.g. several fleet files concatenated).
   */
  facts: readonly Fact[];
  population: Population;
  faults?: readonly FaultEvent[];
  /** server samples for the leak checker (omitted: runAllCheckers skips `leaks`) */
  leaks?: LeakInput;
  /** blackholed client links and how fast their nodes reclaimed the connections (omitted or empty: runAllCheckers skips `reclaim`) */
  reclaims?: readonly ReclaimSample[];
  /** the nodes watched and their exits nobody asked for (omitted: runAllCheckers skips `nodes`) */
  nodes?: { watched: readonly string[]; exits: readonly NodeExit[] };
  /** the in-flight windows the run opened (one per fault step); with them or with window facts, runAllCheckers runs `inflight` */
  windows?: readonly WindowMeta[];
  options?: CheckOptions;
}

export const DEFAULTS = {
  leakPerConnection: { maxBytes: 512, minConnections: 2000 } as LeakPerConnectionOptions,
  unseenWithinMs: 5000,
  faultMarginMs: 5000,
  maxWitnesses: 100,
  trailCap: 40,
} as const;

/**
 * Collects violations cheaply (a time and a closure) and builds full witnesses only for
 * the earliest `cap` of them: a broken run may have 100k violations, and trails cost.
 */
export class Findings {
  private readonly items: { at: number; n: number; build: () => Witness }[] = [];

  add(at: number, build: () => Witness): void {
    this.items.push({ at, n: this.items.length, build });
  }

  get count(): number {
    return this.items.length;
  }

  verdict(guarantee: Guarantee, checked: number, summary: string, cap: number): Verdict {
    const items = this.items.slice().sort((a, b) => a.at - b.at || a.n - b.n);
    const violations = items.slice(0, cap).map((i) => i.build());
    const n = items.length;
    const head = n === 0 ? 'ok' : `${n} violation${n === 1 ? '' : 's'}${n > cap ? ` (first ${cap} shown)` : ''}`;
    return { guarantee, ok: n === 0, checked, violations, violationCount: n, summary: `${head}: ${summary}` };
  }
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
