import type { Fact } from '../model/facts.ts';
import { clientFacts, factTime, type FactIndex } from './fact-index.ts';
import { faultsOverlapping } from './faults.ts';
import { DEFAULTS, type Evidence, type Witness } from './verdict.ts';

/** Time of a fact or a sample. */
export function evidenceTime(e: Evidence): number {
  return 'k' in e ? factTime(e) : e.at;
}

/**
 * A witness: `first` and the candidate facts around it, sorted by time (stable: equal
 * times keep recording order), cut to the trail cap around `first` (three quarters before
 * it, the rest after), with the faults overlapping ±faultMarginMs around it.
 */
export function witness(ix: FactIndex, message: string, first: Evidence, candidates: Iterable<Evidence>): Witness {
  const cap = ix.input.options?.trailCap ?? DEFAULTS.trailCap;
  const margin = ix.input.options?.faultMarginMs ?? DEFAULTS.faultMarginMs;
  const seen = new Set<Evidence>();
  const all: Evidence[] = [];
  for (const e of candidates) if (!seen.has(e)) seen.add(e), all.push(e);
  if (!seen.has(first)) all.push(first);
  all.sort((a, b) => evidenceTime(a) - evidenceTime(b));
  const at = evidenceTime(first);
  let trail = all;
  if (all.length > cap) {
    const i = all.indexOf(first);
    const before = Math.min(i, Math.max(0, cap - Math.max(1, Math.floor(cap / 4))));
    const start = Math.max(0, Math.min(i - before, all.length - cap));
    trail = all.slice(start, start + cap);
  }
  // facts as recorded, not as the index placed them (placeUnannounced)
  const asRecorded = <T extends Evidence>(e: T): T => (ix.recorded.get(e as Fact) as T | undefined) ?? e;
  return { message, first: asRecorded(first), at, trail: trail.map(asRecorded), trailOmitted: all.length - trail.length, faultWindow: faultsOverlapping(ix.faults, at - margin, at + margin) };
}

/**
 * A device's story around a conversation: its connection lifecycle and everything it
 * recorded for `conv` (sends, receipts, conv and gap frames). `conv` undefined: lifecycle only.
 */
export function* deviceFacts(ix: FactIndex, client: string, conv?: string, filter?: (f: Fact) => boolean): Generator<Fact> {
  for (const f of clientFacts(ix, client)) {
    if (f.k === 'conn' || (conv !== undefined && 'conv' in f && f.conv === conv)) {
      if (!filter || filter(f)) yield f;
    }
  }
}

/** One connection's lifecycle and frames of `conv`. */
export function* connFacts(ix: FactIndex, conn: string, conv?: string, filter?: (f: Fact) => boolean): Generator<Fact> {
  for (const f of ix.byConn.get(conn) ?? []) {
    if (f.k === 'conn' || (conv !== undefined && 'conv' in f && f.conv === conv)) {
      if (!filter || filter(f)) yield f;
    }
  }
}
