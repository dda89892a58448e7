// Each agent's clock against the orchestrator's, from a ping exchange: the orchestrator
// sends at t0, the agent answers with its clock `a`, the answer arrives at t1. The agent's
// clock read `a` somewhere in [t0, t1], so offset = a − (t0 + t1)/2 is right to within
// (t1 − t0)/2, plus 1 ms for the resolution of Date.now() (the clock facts are stamped with)
// at both ends; of several probes, the one with the shortest round trip bounds it best.
import type { Fact } from '../model/facts.ts';

export interface ClockSample {
  t0: number;
  agentNow: number;
  t1: number;
}

export interface ClockEstimate {
  /** agent clock − orchestrator clock, ms */
  offsetMs: number;
  /** |true offset − offsetMs| ≤ errorMs */
  errorMs: number;
  /** the shortest round trip, ms */
  rttMs: number;
  /**
   * whole ms subtracted from the agent's fact times: 0 when the offset is within its own
   * error bound (the agent's clock is then indistinguishable from ours: same machine, or NTP
   * doing its job), else the offset rounded
   */
  correctionMs: number;
  samples: number;
}

export function estimateClock(samples: readonly ClockSample[]): ClockEstimate {
  if (!samples.length) throw new Error('no clock samples');
  const best = samples.reduce((a, b) => (b.t1 - b.t0 < a.t1 - a.t0 ? b : a));
  const rttMs = best.t1 - best.t0;
  const offsetMs = best.agentNow - (best.t0 + best.t1) / 2;
  const errorMs = rttMs / 2 + 1;
  return { offsetMs: round2(offsetMs), errorMs: round2(errorMs), rttMs: round2(rttMs), correctionMs: Math.abs(offsetMs) <= errorMs ? 0 : Math.round(offsetMs), samples: samples.length };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** The fact with every time moved by −`ms` (agent clock → orchestrator clock); the same object when ms is 0. */
export function shiftFact(f: Fact, ms: number): Fact {
  if (ms === 0) return f;
  const s = (t: number) => t - ms;
  switch (f.k) {
    case 'send':
      return { ...f, intendedAt: s(f.intendedAt), sentAt: s(f.sentAt), ...(f.answeredAt !== undefined ? { answeredAt: s(f.answeredAt) } : {}) };
    case 'member':
      return { ...f, at: s(f.at), ...(f.until !== undefined ? { until: s(f.until) } : {}) };
    case 'window':
      return { ...f, at: s(f.at), sends: f.sends.map((x) => ({ ...x, sentAt: s(x.sentAt) })) };
    case 'ack_ahead':
      return { ...f, at: s(f.at), until: s(f.until) };
    case 'stall':
      return { ...f, at: s(f.at), end: s(f.end) };
    default:
      return { ...f, at: s(f.at) };
  }
}
