import type { Fact, RecvFact, SendFact } from '../model/facts.ts';
import { clientFacts, cmidLogs, factTime, fmtT, indexFacts, type CmidLog, type FactIndex } from './fact-index.ts';
import { DEFAULTS, Findings, plural, type CheckInput, type Verdict } from './verdict.ts';
import { connFacts, witness } from './witness.ts';

/**
 * duplicate — guarantee 2 and its consequence on the wire:
 * - one (conversation, sender, cmid) with two different seqs within one epoch, as shown by
 *   answers to sends (`sent`/`dup` with a seq) and by receipts (from, cmid, seq) on any device;
 *   a send whose epoch is only guessed by time (fact-index EpochSource 'time') is left out.
 * - one seq pushed twice on the same connection (raw receipts per connection, per conv and
 *   epoch; receipts via `history` are answers to the client's own requests and are left out).
 *
 * checked = (conv, epoch, sender, cmid) identities + pushed receipts examined.
 */
export function check(input: CheckInput): Verdict {
  const ix = indexFacts(input);
  const findings = new Findings();
  let identities = 0;
  let receipts = 0;

  for (const log of cmidLogs(ix).values()) {
    if (log.seen.length === 1) {
      identities++;
      continue;
    }
    const byEpoch = new Map<string, CmidLog['seen']>();
    for (const s of log.seen) {
      const l = byEpoch.get(s.epoch);
      if (l) l.push(s);
      else byEpoch.set(s.epoch, [s]);
    }
    for (const [epoch, seen] of byEpoch) {
      identities++;
      if (seen.length < 2) continue;
      const sorted = seen.slice().sort((a, b) => factTime(a.fact) - factTime(b.fact));
      const second = sorted[1]!.fact;
      findings.add(factTime(second), () => twoSeqsWitness(ix, log, epoch, sorted));
    }
  }

  for (const [conn, facts] of ix.byConn) {
    // per conv, per epoch: the seqs pushed so far, as intervals (a stream is mostly one)
    const pushed = new Map<string, Map<string, SeqSet>>();
    for (const f of facts) {
      if (f.k !== 'recv' || f.via === 'history') continue;
      receipts++;
      let byEpoch = pushed.get(f.conv);
      if (!byEpoch) pushed.set(f.conv, (byEpoch = new Map()));
      let seqs = byEpoch.get(f.epoch);
      if (!seqs) byEpoch.set(f.epoch, (seqs = new SeqSet()));
      if (seqs.add(f.seq)) continue;
      findings.add(f.at, () => {
        const earlier = facts.find((g): g is RecvFact => g.k === 'recv' && g.via !== 'history' && g.conv === f.conv && g.epoch === f.epoch && g.seq === f.seq)!;
        const message =
          `connection ${conn} of ${f.client} received ${f.conv} seq ${f.seq} (epoch ${f.epoch}, cmid ${f.cmid} from ${f.from}) twice: ` +
          `at ${fmtT(ix, earlier.at)} (${earlier.via}) and at ${fmtT(ix, f.at)} (${f.via})`;
        const near = (g: Fact) => g.k !== 'recv' || Math.abs(g.seq - f.seq) <= 3;
        return witness(ix, message, f, connFacts(ix, conn, f.conv, near));
      });
    }
  }

  const summary = `${plural(identities, '(conv, epoch, sender, cmid) identity', '(conv, epoch, sender, cmid) identities')} and ${plural(receipts, 'pushed receipt')} checked`;
  return findings.verdict('duplicate', identities + receipts, summary, input.options?.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

function describe(ix: FactIndex, f: SendFact | RecvFact): string {
  return f.k === 'send'
    ? `answered ${f.outcome} to ${f.client} at ${fmtT(ix, f.answeredAt ?? f.sentAt)}`
    : `received by ${f.client} on ${f.conn} at ${fmtT(ix, f.at)}`;
}

function twoSeqsWitness(ix: FactIndex, log: CmidLog, epoch: string, sorted: CmidLog['seen']) {
  const seqs = sorted.map((s) => `${s.seq} (${describe(ix, s.fact)})`);
  const message = `${log.conv} epoch ${epoch || '?'}: cmid ${log.cmid} from ${log.from} has ${sorted.length} seqs: ${seqs.join(', ')}`;
  const candidates: (SendFact | RecvFact)[] = sorted.map((s) => s.fact);
  // every send of that cmid by the sender's devices, and each seq's first receipt
  for (const client of ix.clientsByUser.get(log.from) ?? []) {
    for (const f of clientFacts(ix, client)) if (f.k === 'send' && f.conv === log.conv && f.cmid === log.cmid) candidates.push(f);
  }
  const e = ix.convs.get(log.conv)?.epochs.get(epoch);
  for (const s of sorted) {
    for (let m = e?.msgs.get(s.seq); m; m = m.other) if (m.firstRecv) candidates.push(m.firstRecv);
  }
  return witness(ix, message, sorted[1]!.fact, candidates);
}

/** A set of seqs kept as sorted disjoint intervals [lo0, hi0, lo1, hi1, …]: O(1) for a stream that rises by one. */
export class SeqSet {
  private readonly r: number[] = [];

  /** Adds `seq`; false when it was already there. */
  add(seq: number): boolean {
    const r = this.r;
    const n = r.length;
    if (n === 0) {
      r.push(seq, seq);
      return true;
    }
    const lastHi = r[n - 1]!;
    if (seq === lastHi + 1) {
      r[n - 1] = seq;
      return true;
    }
    if (seq > lastHi) {
      r.push(seq, seq);
      return true;
    }
    // the interval index i with lo_i <= seq, the last such
    let lo = 0;
    let hi = n / 2 - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (r[2 * mid]! <= seq) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (i >= 0 && seq <= r[2 * i + 1]!) return false;
    const joinsLeft = i >= 0 && r[2 * i + 1]! === seq - 1;
    const joinsRight = i + 1 < n / 2 && r[2 * (i + 1)]! === seq + 1;
    if (joinsLeft && joinsRight) r.splice(2 * i + 1, 2);
    else if (joinsLeft) r[2 * i + 1] = seq;
    else if (joinsRight) r[2 * (i + 1)] = seq;
    else r.splice(2 * (i + 1), 0, seq, seq);
    return true;
  }
}
