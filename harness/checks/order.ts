import type { ConvFact, Fact, GapFact, RecvFact, SendFact } from '../model/facts.ts';
import { fmtT, indexFacts, UNANNOUNCED, userOf, type ConnLife, type FactIndex, type Message } from './fact-index.ts';
import { memberAt } from './membership.ts';
import { DEFAULTS, Findings, plural, type CheckInput, type Verdict, type Witness } from './verdict.ts';
import { connFacts, witness } from './witness.ts';

/**
 * order — guarantee 3: on one connection, per conversation and epoch, the pushed `msg`
 * seqs start right after the `conv` frame's cursor (or after a `gap`'s `to`) and rise by
 * exactly 1: no holes, no repeats. Receipts via `history` answer the client's own requests
 * and are not part of the push order.
 *
 * Per (connection, conversation) a stream holds the epoch, the next expected seq and the
 * highest seq pushed so far:
 * - a `conv` frame (re)anchors it: next = cursor + 1 (a new epoch starts a new stream; a
 *   later frame in the same epoch may move forward, as a rejoin does);
 * - a `gap` must start at or before the next expected seq (else seqs were skipped without
 *   being announced); next moves past its `to`;
 * - a msg above the next expected seq is a hole; a msg at or below the highest pushed is a
 *   repeat or went back (the witness says when that message belongs to another epoch: a new
 *   epoch pushed without its conv frame, PROTOCOL.md connection rule 6); after a violation
 *   the stream follows the msg, so one fault is reported once.
 * - a conversation that started during the connection, without a conv frame (the device
 *   was caught up at connect, or a new epoch began): its first msg must be the first seq
 *   stored after the connection was welcomed. It is a hole when a lower seq of that epoch
 *   is known to have been stored after the welcome (its send was scheduled after it:
 *   storedLow ≥ welcome) while the device's user was a member; seqs are stored in order,
 *   so the scan down stops at the first seq known to have been stored before the welcome.
 * - `synced` ends the connect sequence (PROTOCOL.md, Connect 3): every conversation the
 *   device was owed something of when it connected comes before it. A `conv` frame after
 *   `synced` is right for what began since (a join, a dm's first message, a new epoch), so
 *   what is judged is each msg pushed after `synced`: one the device's user was a member for
 *   whose sender had its `sent` (or `dup`) answer before the connection began connecting was
 *   stored before the hello, so in the connect sync's reads, and owed before `synced` (a
 *   device whose cursor was past it is not pushed it at all). Only that answer proves it: a
 *   receipt elsewhere is another process's clock and frame order. One finding per stream
 *   (per `conv` frame after `synced`, and per stream anchored before it).
 *
 * Facts of a connection are read in recorded order. checked = pushed receipts examined.
 */
export function check(input: CheckInput): Verdict {
  const ix = indexFacts(input);
  const findings = new Findings();
  let checked = 0;
  let unanchored = 0;

  for (const [conn, facts] of ix.byConn) {
    const streams = new Map<string, Stream>();
    const life = ix.conns.get(conn);
    let synced = false;
    for (const f of facts) {
      if (f.k === 'conn') {
        if (f.event === 'synced') synced = true;
      } else if (f.k === 'conv') {
        const st = streams.get(f.conv);
        const late = synced ? f : undefined;
        if (!st || (st.epoch !== undefined && st.epoch !== f.epoch)) streams.set(f.conv, { epoch: f.epoch, next: f.cursor + 1, max: 0, after: f, late, owedFound: false });
        else {
          st.epoch = f.epoch;
          st.next = f.cursor + 1;
          st.after = f;
          st.late = late;
          st.owedFound = false;
        }
      } else if (f.k === 'gap') {
        let st = streams.get(f.conv);
        if (!st) streams.set(f.conv, (st = { epoch: undefined, next: undefined, max: 0, after: f, late: undefined, owedFound: false }));
        if (st.next !== undefined && f.from > st.next) {
          const exp = st.next;
          const after = st.after;
          findings.add(f.at, () =>
            orderWitness(ix, conn, f, `connection ${conn} of ${f.client}: ${f.conv} gap ${f.from}..${f.to} skips seq ${exp}, expected ${afterText(after)}: ${missing(exp, f.from - 1)} neither pushed nor announced`, exp),
          );
        }
        st.next = Math.max(st.next ?? 0, f.to + 1);
        st.after = f;
      } else if (f.k === 'recv' && f.via !== 'history') {
        checked++;
        let st = streams.get(f.conv);
        if (!st || (st.epoch !== undefined && st.epoch !== f.epoch)) streams.set(f.conv, (st = { epoch: f.epoch, next: undefined, max: 0, after: undefined, late: undefined, owedFound: false }));
        st.epoch = f.epoch;
        // a seq this stream already pushed is judged as a repeat below, not as owed (it came
        // before, maybe before `synced`; review N1, 2026-12-04: it was reported twice)
        const again = st.next !== undefined && f.seq <= st.max;
        if (synced && !again && !st.owedFound && owedAtConnect(ix, findings, conn, life, st.late, f, input.options?.clockErrorMs ?? 0)) st.owedFound = true;
        if (st.next === undefined) {
          unanchored++;
          startCheck(ix, findings, conn, life, f);
        } else if (f.seq <= st.max) {
          const after = st.after;
          const max = st.max;
          const what =
            after?.k === 'recv' && after.seq === f.seq && after.cmid === f.cmid && after.from === f.from
              ? `repeated seq ${f.seq} (cmid ${f.cmid}) right after itself`
              : after?.k === 'recv' && after.seq === f.seq
                ? `pushed seq ${f.seq} again with another message (cmid ${f.cmid} from ${f.from}; seq ${f.seq} was cmid ${after.cmid} from ${after.from})`
                : `went back to seq ${f.seq} (cmid ${f.cmid}) ${afterText(after)}${after?.k === 'recv' && after.seq === max ? '' : `, having pushed up to ${max}`}`;
          findings.add(f.at, () => orderWitness(ix, conn, f, `connection ${conn} of ${f.client}: ${f.conv} (${epochText(ix, f)}) ${what}${unannouncedEpoch(ix, f, after?.at, input.options?.storeWipes)}`, f.seq));
          st.next = Math.max(st.next, f.seq + 1);
          st.after = f;
          continue;
        } else if (f.seq !== st.next) {
          const exp = st.next;
          const after = st.after;
          findings.add(f.at, () =>
            orderWitness(
              ix,
              conn,
              f,
              `connection ${conn} of ${f.client}: ${f.conv} (${epochText(ix, f)}) pushed seq ${f.seq} (cmid ${f.cmid}) where seq ${exp} was expected ${afterText(after)}: ${missing(exp, f.seq - 1)} missing`,
              exp,
            ),
          );
        }
        st.next = f.seq + 1;
        st.max = f.seq;
        st.after = f;
      }
    }
  }
  const notes = [`${plural(checked, 'pushed receipt')} checked on ${plural(ix.byConn.size, 'connection')}`];
  if (unanchored) notes.push(`${plural(unanchored, 'stream')} started without a conv frame, checked against the seqs stored after the welcome`);
  return findings.verdict('order', checked, notes.join('; '), input.options?.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

interface Stream {
  /** undefined only for a stream opened by a gap without a conv frame (adopts the next msg's epoch) */
  epoch: string | undefined;
  /** the next expected seq; undefined until the stream is anchored */
  next: number | undefined;
  /** the highest seq pushed in this stream */
  max: number;
  /** what `next` follows: a conv frame, a gap or the last msg */
  after: ConvFact | GapFact | RecvFact | undefined;
  /** the conv frame that anchored this stream after `synced` */
  late: ConvFact | undefined;
  /** a msg of it pushed after `synced` was found owed at connect (reported once) */
  owedFound: boolean;
}

/** `epoch e1`; for a receipt of a connection never sent a conv frame of its conversation, says so */
function epochText(ix: FactIndex, f: RecvFact): string {
  if (ix.recorded.has(f)) return `epoch ${f.epoch}, in force at the welcome; no conv frame on this connection`;
  return f.epoch === UNANNOUNCED ? 'no conv frame on this connection, epoch unknown' : `epoch ${f.epoch}`;
}

/** `seq 5 is` / `seqs 5..7 are` */
function missing(from: number, to: number): string {
  return from === to ? `seq ${from} is` : `seqs ${from}..${to} are`;
}

function afterText(after: Stream['after']): string {
  if (!after) return 'at the start';
  if (after.k === 'conv') return `after the conv frame's cursor ${after.cursor}`;
  if (after.k === 'gap') return `after gap ${after.from}..${after.to}`;
  return `after seq ${after.seq}`;
}

/**
 * A seq that starts over on a connection is most often a new epoch (the store lost the
 * conversation) pushed without the conv frame that announces it: the device then files the
 * new epoch's messages under the old one. Said when the very message (sender, cmid) is
 * known at that seq in another epoch of the conversation (received there after its conv frame).
 */
function unannouncedEpoch(ix: FactIndex, f: RecvFact, prevAt: number | undefined, wipes: readonly number[] = []): string {
  const c = ix.convs.get(f.conv);
  for (const e of c?.epochs.values() ?? []) {
    if (e.epoch === f.epoch) continue;
    for (let m = e.msgs.get(f.seq); m; m = m.other) {
      if (m.from === f.from && m.cmid === f.cmid) return `: that message is seq ${f.seq} of epoch ${e.epoch}, a new epoch this connection was never told of (no conv frame with it before the msg)`;
    }
  }
  // the message itself not seen in the other epoch (its devices acked it there, so their
  // next connect did not replay it): an epoch still seen after this msg is newer
  for (const e of c?.epochs.values() ?? []) {
    if (e.epoch !== f.epoch && e.lastAt >= f.at) return `: ${f.conv} also has epoch ${e.epoch} (seen until ${fmtT(ix, e.lastAt)}), never announced on this connection: a seq that starts over without a conv frame announcing a new epoch`;
  }
  // no fact shows the new epoch (every device acked it live, so no reconnect replayed it), but
  // the store was wiped between the previous frame and this msg
  const wipe = prevAt === undefined ? undefined : wipes.find((w) => w > prevAt && w <= f.at);
  if (wipe !== undefined) return `: the store came back empty at ${fmtT(ix, wipe)} (a Redis without persistence restarted), after the previous frame: a seq that starts over then without a conv frame is a new epoch never announced on this connection`;
  return '';
}

const MAX_SCAN = 10_000;

/** First msg of a stream without a conv frame: was a lower seq stored after the welcome? */
function startCheck(ix: FactIndex, findings: Findings, conn: string, life: ConnLife | undefined, f: RecvFact): void {
  const welcomeAt = life?.welcome?.at;
  if (welcomeAt === undefined) return;
  const c = ix.convs.get(f.conv);
  const e = c?.epochs.get(f.epoch);
  if (!c || !e) return;
  const user = userOf(f.client);
  const floor = Math.max(0, f.seq - MAX_SCAN);
  for (let s = f.seq - 1; s > floor; s--) {
    let missed: Message | undefined;
    let before = false;
    for (let m = e.msgs.get(s); m; m = m.other) {
      if (m.storedHigh !== undefined && m.storedHigh < welcomeAt) before = true;
      else if (m.storedLow !== undefined && m.storedLow >= welcomeAt && memberAt(c.members, user, s, m.storedLow, m.storedHigh) === true) missed = m;
    }
    if (before) return;
    if (missed) {
      const m = missed;
      findings.add(f.at, () =>
        orderWitness(
          ix,
          conn,
          f,
          `connection ${conn} of ${f.client}: ${f.conv} (${epochText(ix, f)}) started without a conv frame at seq ${f.seq} (cmid ${f.cmid}), ` +
            `but seq ${m.seq} (cmid ${m.cmid} from ${m.from}) was stored after the connection was welcomed at ${fmtT(ix, welcomeAt)}: ${missing(m.seq, f.seq - 1)} missing`,
          m.seq,
          m,
        ),
      );
      return;
    }
  }
}

/**
 * A msg pushed after `synced` (after `cf`, a `conv` frame that came after it, if any): was it
 * stored before the connection began, for a member, so owed by the connect sequence?
 * → whether it was (found). `clockErrorMs`: the sender's answer and the connection's start
 * may be on two agents' clocks (CheckOptions.clockErrorMs); only an answer earlier by more
 * counts, as the time from a connect's start to its sync's reads may be a few ms only.
 */
function owedAtConnect(ix: FactIndex, findings: Findings, conn: string, life: ConnLife | undefined, cf: ConvFact | undefined, f: RecvFact, clockErrorMs: number): boolean {
  const connectAt = life?.startedAt;
  const synced = life?.synced;
  if (connectAt === undefined || !synced) return false;
  const c = ix.convs.get(f.conv);
  let m = c?.epochs.get(f.epoch)?.msgs.get(f.seq);
  while (m && !(m.from === f.from && m.cmid === f.cmid)) m = m.other;
  if (!c || !m) return false;
  let answered: SendFact | undefined;
  for (const s of m.acked) if (s.answeredAt !== undefined && s.answeredAt + clockErrorMs < connectAt && (!answered || s.answeredAt < answered.answeredAt!)) answered = s;
  if (!answered || memberAt(c.members, userOf(f.client), f.seq, m.storedLow, m.storedHigh) !== true) return false;
  const a = answered;
  findings.add(f.at, () =>
    orderWitness(
      ix,
      conn,
      f,
      `connection ${conn} of ${f.client}: ${f.conv} (${epochText(ix, f)}) ` +
        (cf
          ? `conv frame (cursor ${cf.cursor}) came at ${fmtT(ix, cf.at)}, after synced at ${fmtT(ix, synced.at)}, and was followed by seq ${f.seq}`
          : `seq ${f.seq} came at ${fmtT(ix, f.at)}, after synced at ${fmtT(ix, synced.at)}`) +
        ` (cmid ${f.cmid} from ${f.from}), stored before the connection began at ${fmtT(ix, connectAt)} (answered ${a.outcome} at ${fmtT(ix, a.answeredAt!)}): the connect sequence owed it before synced`,
      f.seq,
    ),
  );
  return true;
}

/** The connection's lifecycle and frames of that conv, with the receipts of seqs in [from - 3, first's seq + 3]. */
function orderWitness(ix: FactIndex, conn: string, first: RecvFact | GapFact, message: string, from: number, missed?: Message): Witness {
  const hi = first.k === 'recv' ? first.seq : first.to;
  const lo = Math.min(from, first.k === 'recv' ? first.seq : first.from);
  const near = (g: Fact) => g.k !== 'recv' || (g.seq >= lo - 3 && g.seq <= hi + 3);
  const extra: Fact[] = missed ? [...missed.acked] : [];
  return witness(ix, message, first, [...extra, ...connFacts(ix, conn, first.conv, near)]);
}
