import type { AckFact, ConvFact, Fact, RecvFact, SendFact, WindowFact } from '../model/facts.ts';
import { aheadNote, cmidKey, cmidLogs, fmtT, forfeitedByAckAhead, indexFacts, userOf, type FactIndex, type Message } from './fact-index.ts';
import { isUnknownOutcome } from './lost.ts';
import { everMembers, memberAt } from './membership.ts';
import { DEFAULTS, Findings, plural, type CheckInput, type Verdict } from './verdict.ts';
import { deviceFacts, witness } from './witness.ts';
import { minOf } from '../util/extent.ts';

/**
 * inflight — what was at risk when each fault step began was recovered.
 *
 * Every fault step opens an in-flight window: each device connected to the node it hits
 * records (WindowFact) the sends it had written and not had answered, and the messages it
 * held above the last ack it wrote (then AckFacts for the acks it writes in those
 * conversations until one covers them). After the run:
 *
 * - a send in flight is recovered when it was stored exactly once (one seq in its epoch,
 *   seen in an answer or a receipt) and every device of every member got that seq. It fails
 *   when stored twice, when a member device never got it, or when it was never stored nor
 *   answered although its device was synced again after the window (it could have resent).
 *   A send refused for good (a non-retryable code, rate_limited) is counted, not judged.
 * - a push held unacked is recovered when the device wrote an ack covering it, or when the
 *   server, not having that ack, sent it again. At the device's next `conv` frame for that
 *   conversation on a later connection, with cursor C (or, when its next connection to
 *   reach `synced` got no frame for it at all, there: the cursor was at the head, so C ≥
 *   every seq it held): seqs ≤ C need an ack the device wrote since the window, before that
 *   connection, or an ack above what it held (client mode `ahead`) written before the window
 *   and handled when that message may already have been stored (a clamp to the head covers
 *   it then); else the server moved the cursor past what the device acknowledged: a device
 *   that had not kept it would lose it. Seqs > C must arrive again on that connection or
 *   later (live, backlog or history). No later connection synced and no later frame:
 *   covered by an ack written after the window, else unresolved (counted, not a failure). A membership change of the device's user in that conversation
 *   between the window and that frame, or a new epoch, puts them out of judgement (counted).
 *
 * checked = sends in flight + unacked pushes judged.
 */

/** A window as the orchestrator opened it (counts over the whole fleet). */
export interface WindowMeta {
  id: string;
  /** the fault step, in words */
  fault: string;
  at: number;
  /** the node the step hits (undefined: every node) */
  node?: string;
  /** devices connected to that node when the window opened */
  connected: number;
  /** false when some fleet process did not answer in time (its devices are missing) */
  complete: boolean;
}

/** One window's figures, for the report. */
export interface WindowSummary {
  id: string;
  fault: string;
  at: number;
  node?: string;
  /** devices connected to the node (null: not known) */
  devicesConnected: number | null;
  /** devices with a send in flight or a push unacked */
  devicesAtRisk: number;
  sends: { inFlight: number; storedOnce: number; refused: number; abandoned: number; superseded: number; failed: number };
  pushes: { unacked: number; acked: number; redelivered: number; unresolved: number; superseded: number; failed: number };
}

interface Judged {
  summaries: WindowSummary[];
  findings: Findings;
  checked: number;
}

const cache = new WeakMap<CheckInput, Judged>();

export function check(input: CheckInput): Verdict {
  const j = judge(input);
  const sends = j.summaries.reduce((n, w) => n + w.sends.inFlight, 0);
  const pushes = j.summaries.reduce((n, w) => n + w.pushes.unacked, 0);
  const stored = j.summaries.reduce((n, w) => n + w.sends.storedOnce, 0);
  const redelivered = j.summaries.reduce((n, w) => n + w.pushes.redelivered, 0);
  const acked = j.summaries.reduce((n, w) => n + w.pushes.acked, 0);
  // evidence that dedupe absorbed retries of sends that had committed before their answer was lost or late
  const ix = indexFacts(input);
  const retriedDup = ix.sends.filter((x) => x.outcome === 'dup' && x.attempts > 1).length;
  const failedSends = j.summaries.reduce((n, w) => n + w.sends.failed, 0);
  const failedPushes = j.summaries.reduce((n, w) => n + w.pushes.failed, 0);
  const summary =
    `${plural(j.summaries.length, 'window')}: ${plural(sends, 'send')} in flight (${stored} stored once and delivered to every member${failedSends ? `, ${failedSends} not recovered` : ''}), ` +
    `${plural(pushes, 'push', 'pushes')} unacked (${acked} acked later, ${redelivered} sent again${failedPushes ? `, ${failedPushes} not recovered` : ''}); ` +
    `over the run ${plural(retriedDup, 'retried send')} answered dup (an earlier attempt had been stored)`;
  return j.findings.verdict('inflight', j.checked, summary, input.options?.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

/** Per window: what was at risk and what became of it (the report's in-flight section). */
export function windowSummaries(input: CheckInput): WindowSummary[] {
  return judge(input).summaries;
}

function judge(input: CheckInput): Judged {
  const hit = cache.get(input);
  if (hit) return hit;
  const ix = indexFacts(input);
  const x = new Lookups(ix);
  const findings = new Findings();
  let checked = 0;
  const byId = new Map<string, WindowSummary>();
  for (const m of input.windows ?? []) byId.set(m.id, emptySummary(m.id, m.fault, m.at, m.node, m.connected));
  const atRisk = new Map<string, Set<string>>();
  for (const w of x.windows) {
    let s = byId.get(w.window);
    if (!s) byId.set(w.window, (s = emptySummary(w.window, w.fault, w.at, w.node, null)));
    let devices = atRisk.get(w.window);
    if (!devices) atRisk.set(w.window, (devices = new Set()));
    devices.add(w.client);
    for (const send of w.sends) {
      checked++;
      s.sends.inFlight++;
      judgeSend(ix, x, w, send, s, findings);
    }
    for (const u of w.unacked) {
      checked += u.to - u.from + 1;
      s.pushes.unacked += u.to - u.from + 1;
      judgePushes(ix, x, w, u, s, findings, input.options?.storeWipes ?? []);
    }
  }
  const summaries = [...byId.values()].sort((a, b) => a.at - b.at);
  for (const s of summaries) s.devicesAtRisk = atRisk.get(s.id)?.size ?? 0;
  const j = { summaries, findings, checked };
  cache.set(input, j);
  return j;
}

function emptySummary(id: string, fault: string, at: number, node: string | undefined, connected: number | null): WindowSummary {
  return {
    id,
    fault,
    at,
    ...(node !== undefined ? { node } : {}),
    devicesConnected: connected,
    devicesAtRisk: 0,
    sends: { inFlight: 0, storedOnce: 0, refused: 0, abandoned: 0, superseded: 0, failed: 0 },
    pushes: { unacked: 0, acked: 0, redelivered: 0, unresolved: 0, superseded: 0, failed: 0 },
  };
}

/** The lookups this checker needs beyond the shared index, built in one pass. */
class Lookups {
  readonly windows: WindowFact[] = [];
  /** client + conv + cmid → the send's fact (one per send: its final outcome) */
  readonly sends = new Map<string, SendFact>();
  /** client + conv → its conv frames / receipts / acks, in recorded order */
  readonly convFrames = new Map<string, ConvFact[]>();
  readonly recvs = new Map<string, RecvFact[]>();
  readonly acks = new Map<string, AckFact[]>();

  constructor(ix: FactIndex) {
    const add = <T>(m: Map<string, T[]>, k: string, f: T) => {
      const l = m.get(k);
      if (l) l.push(f);
      else m.set(k, [f]);
    };
    for (const f of ix.input.facts) {
      switch (f.k) {
        case 'window':
          this.windows.push(f);
          break;
        case 'send':
          this.sends.set(key(f.client, f.conv, f.cmid), f);
          break;
        case 'conv':
          add(this.convFrames, key(f.client, f.conv), f);
          break;
        case 'recv':
          add(this.recvs, key(f.client, f.conv), f);
          break;
        case 'ack':
          add(this.acks, key(f.client, f.conv), f);
          break;
        default:
          break;
      }
    }
    this.windows.sort((a, b) => a.at - b.at);
  }
}

const key = (...parts: string[]): string => parts.join('\u0000');

function judgeSend(ix: FactIndex, x: Lookups, w: WindowFact, send: WindowFact['sends'][number], s: WindowSummary, findings: Findings): void {
  const from = userOf(w.client);
  const fact = x.sends.get(key(w.client, send.conv, send.cmid));
  const log = cmidLogs(ix).get(cmidKey(send.conv, from, send.cmid));
  const c = ix.convs.get(send.conv);
  const intro = `${send.conv} cmid ${send.cmid} from ${w.client}, written at ${fmtT(ix, send.sentAt)} and unanswered when ${w.window} (${w.fault}) began at ${fmtT(ix, w.at)},`;
  if (!log || log.seen.length === 0) {
    if (fact && !isUnknownOutcome(fact)) {
      s.sends.refused++;
      return;
    }
    const later = syncedAfter(ix, w.client, w.at);
    if (!later) {
      s.sends.abandoned++;
      return;
    }
    s.sends.failed++;
    findings.add(w.at, () =>
      witness(ix, `${intro} was never stored nor answered (final outcome ${fact ? `${fact.outcome}${fact.code ? ` ${fact.code}` : ''} after ${plural(fact.attempts, 'attempt')}` : 'unrecorded'}), although ${w.client} was synced again on ${later.conn} at ${fmtT(ix, later.synced!.at)}`, w, [
        ...(fact ? [fact] : []),
        ...deviceFacts(ix, w.client, send.conv, (f) => f.k !== 'recv'),
      ]),
    );
    return;
  }
  const current = c?.current ?? '';
  const seen = log.seen.filter((e) => e.epoch === current);
  if (seen.length === 0) {
    s.sends.superseded++;
    return;
  }
  if (seen.length > 1) {
    s.sends.failed++;
    const seqs = seen.map((e) => e.seq).sort((a, b) => a - b);
    findings.add(w.at, () => witness(ix, `${intro} was stored ${seqs.length} times: seqs ${seqs.join(', ')} (epoch ${current})`, w, [...(fact ? [fact] : []), ...seen.map((e) => e.fact)]));
    return;
  }
  const m = messageAt(ix, send.conv, current, seen[0]!.seq, from, send.cmid);
  const missing: string[] = [];
  if (m && c) {
    for (const user of everMembers(c.members)) {
      if (memberAt(c.members, user, m.seq, m.storedLow, m.storedHigh) !== true) continue;
      for (const client of ix.clientsByUser.get(user) ?? []) if (!m.receivedBy.has(client)) missing.push(client);
    }
  }
  if (missing.length === 0) {
    s.sends.storedOnce++;
    return;
  }
  s.sends.failed++;
  findings.add(w.at, () =>
    witness(ix, `${intro} was stored at seq ${m!.seq} but never reached ${plural(missing.length, 'member device')}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, w, [
      ...(fact ? [fact] : []),
      ...deviceFacts(ix, missing[0]!, send.conv, (f) => f.k !== 'recv' || Math.abs(f.seq - m!.seq) <= 3),
    ]),
  );
}

function judgePushes(ix: FactIndex, x: Lookups, w: WindowFact, u: WindowFact['unacked'][number], s: WindowSummary, findings: Findings, wipes: readonly number[]): void {
  const k = key(w.client, u.conv);
  const frame = resumeOf(ix, x, w, u, wipes);
  const acks = x.acks.get(k) ?? [];
  // the highest ack written after the window (before the frame, when there is one): on the
  // frame's own connection an ack can only follow it, even when written in the same millisecond
  let acked = 0;
  for (const a of acks) if (a.at >= w.at && (!frame || (a.at <= frame.at && a.conn !== frame.conn))) acked = Math.max(acked, a.seq);
  const intro = `${w.client} held ${u.conv} seqs ${u.from}..${u.to} (epoch ${u.epoch}) unacked on ${w.conn} when ${w.window} (${w.fault}) began at ${fmtT(ix, w.at)};`;
  const n = u.to - u.from + 1;
  if (!frame) {
    const covered = Math.max(0, Math.min(u.to, acked) - u.from + 1);
    s.pushes.acked += covered;
    s.pushes.unresolved += n - covered;
    return;
  }
  // a join sets the cursor to the head at that join, and a leave ends what is owed: not judged across either
  const changed = ix.convs.get(u.conv)?.members.changes.get(userOf(w.client))?.some((c) => (c.until ?? c.at) >= w.at && c.at <= frame.at);
  if (frame.epoch !== u.epoch || changed) {
    s.pushes.superseded += n;
    return;
  }
  // seqs at or below the cursor: the device must have acked them, since the window, or before
  // it with an ack above what it held (client mode `ahead`, which the window's "unacked" does
  // not know of) handled when the message may already have been stored: a server clamping
  // that ack to its head then moved the cursor past it rightly
  const top = Math.min(u.to, frame.cursor);
  let first = 0;
  let failed = 0;
  for (let seq = u.from; seq <= top; seq++) {
    if (seq <= acked || claimedAhead(ix, w.client, u.conv, u.epoch, seq)) {
      s.pushes.acked++;
      continue;
    }
    failed++;
    if (!first) first = seq;
  }
  if (failed) {
    s.pushes.failed += failed;
    const m = ix.convs.get(u.conv)?.epochs.get(u.epoch)?.msgs.get(first);
    findings.add(frame.at, () =>
      witness(
        ix,
        `${intro} its next connection ${frame.conn} resumed at ${fmtT(ix, frame.at)} ${frame.implied ? `with no conv frame for it (nothing to replay: its cursor was at the head, at or past ${u.to})` : `from cursor ${frame.cursor}`}, but since the window the device had acked ${acked ? `only up to ${acked}` : 'nothing there'}: seqs ${first}..${top} were taken as delivered without an ack (a device that had not kept them would never get them)${m ? aheadNote(ix, w.client, m, `seq ${first}`) : ''}`,
        frame.fact,
        [w, ...deviceFacts(ix, w.client, u.conv, (f) => f.k !== 'recv' || (f.seq >= u.from - 2 && f.seq <= u.to + 2))],
      ),
    );
  }
  // seqs above the cursor: they must come again
  const recvs = x.recvs.get(k) ?? [];
  for (let seq = Math.max(u.from, frame.cursor + 1); seq <= u.to; seq++) {
    const again = recvs.find((r) => r.seq === seq && r.epoch === u.epoch && r.at >= frame.at);
    if (again) {
      s.pushes.redelivered++;
      continue;
    }
    s.pushes.failed++;
    const missed = seq;
    findings.add(frame.at, () =>
      witness(ix, `${intro} its next connection ${frame.conn} resumed at ${fmtT(ix, frame.at)} from cursor ${frame.cursor} (so the server had no ack for it), but seq ${missed} never came again`, frame.fact, [
        w,
        ...deviceFacts(ix, w.client, u.conv, (f) => f.k !== 'recv' || Math.abs(f.seq - missed) <= 3),
      ]),
    );
  }
}

/**
 * Where the device's next connection after the window resumed `u.conv`: its first `conv`
 * frame on a later connection, or, when the first later connection that got to `synced` had
 * none at all (and none came on an earlier one), that connection at its `synced`:
 * PROTOCOL.md (Connect 3) sends a frame for every conversation with something to replay or
 * a cursor of another epoch, so with none the cursor stood at the head, at or past every seq
 * the device held (`implied`). Without this, a server that moved the cursor past the head
 * (an ack ahead taken as it is) went unjudged. Not across a store wipe (a Redis without
 * persistence back empty, `storeWipes`, any time from the push of the seqs it held to that
 * `synced`): the epoch the device held went with it, and a conversation the store no longer
 * has gets no frame either; implied in no epoch, so not judged (found by `imstorm explore
 * --volatile --seed 3402`: devices that never ack, a dm's pushes before the wipe). A wipe
 * after that connection began and before its `synced` is excused too, though its sync may
 * have read the store before it: judging it would fail a correct server whose read came
 * after.
 */
function resumeOf(
  ix: FactIndex,
  x: Lookups,
  w: WindowFact,
  u: WindowFact['unacked'][number],
  wipes: readonly number[],
): (Pick<ConvFact, 'conn' | 'at' | 'epoch' | 'cursor'> & { implied: boolean; fact: Fact }) | undefined {
  const frame = (x.convFrames.get(key(w.client, u.conv)) ?? []).find((f) => f.at >= w.at && f.conn !== w.conn);
  const next = (ix.welcomedByClient.get(w.client) ?? []).find((l) => l.conn !== w.conn && l.synced && l.synced.at >= w.at);
  // a frame of that connection after its `synced` is still its resume point: this server
  // sometimes sends an existing conversation's frame and backlog only after `synced` (CI
  // rehearsal of cc49837, message-loss: cursor 96, head 104, 2 ms after `synced`, seq 97 then
  // replayed), which the rule above alone judged as resumed at the head
  if (next?.synced && (!frame || (frame.conn !== next.conn && frame.at > next.synced.at))) {
    const at = next.synced.at;
    // from when the device held that epoch's seqs (not from the window: a wipe between their
    // push and the window took the epoch all the same; review, 2026-12-04)
    const held = (x.recvs.get(key(w.client, u.conv)) ?? []).filter((r) => r.conn === w.conn && r.epoch === u.epoch && r.seq >= u.from && r.seq <= u.to);
    const since = held.length ? minOf(held.map((r) => r.at)) : w.at;
    const wiped = wipes.some((t) => t >= since && t <= at);
    return { conn: next.conn, at, epoch: wiped ? '' : u.epoch, cursor: u.to, implied: true, fact: next.synced };
  }
  return frame && { ...frame, implied: false, fact: frame };
}

/** Whether an ack of `client` above what it held may have covered (conv, epoch, seq): see forfeitedByAckAhead. */
function claimedAhead(ix: FactIndex, client: string, conv: string, epoch: string, seq: number): boolean {
  for (let m = ix.convs.get(conv)?.epochs.get(epoch)?.msgs.get(seq); m; m = m.other) if (forfeitedByAckAhead(ix, client, m)) return true;
  return false;
}

/** The message (conv, epoch, seq) from this sender with this cmid. */
function messageAt(ix: FactIndex, conv: string, epoch: string, seq: number, from: string, cmid: string): Message | undefined {
  for (let m = ix.convs.get(conv)?.epochs.get(epoch)?.msgs.get(seq); m; m = m.other) if (m.from === from && m.cmid === cmid) return m;
  return undefined;
}

/** The device's first connection synced after `t`, if any. */
function syncedAfter(ix: FactIndex, client: string, t: number) {
  for (const life of ix.welcomedByClient.get(client) ?? []) if (life.synced && life.synced.at > t) return life;
  return undefined;
}
