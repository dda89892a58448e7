import type { Fact, SendFact } from '../model/facts.ts';
import { connAt, firstAck, fmtT, indexFacts, messagesOf, wipedAt, type ConnLife, type FactIndex, type Message } from './fact-index.ts';
import { deliveryDeadline } from './faults.ts';
import { everMembers, memberAt } from './membership.ts';
import { DEFAULTS, Findings, plural, type CheckInput, type Verdict } from './verdict.ts';
import { deviceFacts, witness } from './witness.ts';

/**
 * unseen — guarantee 1, liveness half (the part a final sync would hide): a member device
 * that stayed connected must receive an acked message live, within `unseenWithinMs` of it
 * being stored, or of the end of any fault overlapping that window (faults healing matter:
 * "within a few seconds of any fault healing, with no reconnect needed").
 *
 * storedAt: the facts never show the moment Redis applied a message, only bounds. This
 * checker uses the earliest proof that it was stored — the first answer `sent`/`dup` to
 * its sender or its first receipt by any device, whichever came first (message.storedHigh).
 * It is never before the real storedAt, so the deadline is never early: a violation is
 * real up to clock skew between fleet machines, and lateness is measured from when the
 * harness knew the message existed.
 *
 * A (message, device) pair is examined when the device was a member at that message and
 * had a connection welcomed at or before storedAt that stayed open (no end: ConnLife.end)
 * until past the deadline; a deadline after the end of the run (an open connection) is not
 * examined. Any receipt by the device (any via) at or before the deadline satisfies it.
 * The conversation's current epoch is checked whole. An epoch the store later lost is checked
 * only where the deadline (moved past faults and stalls as above) fell before the store wipe
 * that took it began (wipedAt): the wipe cannot excuse a delivery already late by then. An
 * epoch superseded with no wipe recorded is not checked (nothing bounds when it was lost).
 *
 * checked = eligible (message, connected device) pairs.
 */
export function check(input: CheckInput): Verdict {
  const ix = indexFacts(input);
  const within = input.options?.unseenWithinMs ?? DEFAULTS.unseenWithinMs;
  const findings = new Findings();
  let checked = 0;
  let extended = 0;
  let stalls = 0;
  let afterWipe = 0;
  let lostUnbounded = 0;

  for (const c of ix.convs.values()) {
    const users = everMembers(c.members);
    for (const e of c.epochs.values()) {
      const current = e.epoch === c.current;
      for (const m of messagesOf(e)) {
        if (m.acked.length === 0 || m.storedHigh === undefined || !Number.isFinite(m.storedHigh)) continue;
        // an epoch the store later lost: judged up to the start of the wipe that took it (review
        // 2026-12-05, F3 control: due at t+1.012s, received at t+4.000s, excused by a wipe at t+5 s)
        const lostAt = current ? Infinity : wipedAt(ix, c, e, m.storedLow ?? m.storedHigh);
        if (lostAt === undefined) {
          lostUnbounded++;
          continue;
        }
        const storedAt = m.storedHigh;
        const due = deliveryDeadline(ix.faults, storedAt, within);
        if (due.since !== storedAt) extended++;
        for (const user of users) {
          if (memberAt(c.members, user, m.seq, m.storedLow, m.storedHigh) !== true) continue;
          for (const client of ix.clientsByUser.get(user) ?? []) {
            const life = connAt(ix, client, storedAt);
            if (!life) continue;
            const stalled = stallDeadline(ix, client, storedAt, due.deadline, within);
            if (stalled !== due.deadline) stalls++;
            const deadline = stalled;
            if (life.end ? life.end.at <= deadline : deadline > ix.runEnd) continue;
            if (deadline >= lostAt) {
              afterWipe++;
              continue;
            }
            checked++;
            const got = m.receivedBy.get(client);
            if (got !== undefined && got <= deadline) continue;
            const ack = firstAck(m);
            findings.add(ack.sentAt, () => unseenWitness(ix, m, ack, client, life, storedAt, { ...due, deadline }, within, got));
          }
        }
      }
    }
  }
  const notes = [`${plural(checked, 'delivery', 'deliveries')} to devices connected throughout checked against ${within} ms`];
  if (afterWipe) notes.push(`${plural(afterWipe, 'delivery', 'deliveries')} of epochs the store later lost, due after the wipe that took them began, not checked`);
  if (lostUnbounded) notes.push(`${plural(lostUnbounded, 'acked message')} of epochs the store later lost with no wipe recorded not checked`);
  if (extended) notes.push(`${plural(extended, 'message')} had the deadline moved past a fault healing`);
  if (stalls) notes.push(`${plural(stalls, 'delivery', 'deliveries')} to a device that stopped or slowed its reading (client modes pause, throttle) due ${within} ms after it read again`);
  return findings.verdict('unseen', checked, notes.join('; '), input.options?.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

function unseenWitness(
  ix: FactIndex,
  m: Message,
  ack: SendFact,
  client: string,
  life: ConnLife,
  storedAt: number,
  due: { since: number; deadline: number },
  within: number,
  got: number | undefined,
) {
  const healed = due.since !== storedAt ? `, ${within} ms after faults healed at ${fmtT(ix, due.since)}` : '';
  const message =
    `device ${client} on connection ${life.conn} (welcomed ${fmtT(ix, life.welcome!.at)}, open past the deadline) did not receive ` +
    `${m.conv} seq ${m.seq} (epoch ${m.epoch || '?'}, cmid ${m.cmid} from ${m.from}) within ${within} ms: stored by ${fmtT(ix, storedAt)}, ` +
    `due by ${fmtT(ix, due.deadline)}${healed}, ${got === undefined ? 'never received' : `received at ${fmtT(ix, got)}`}`;
  const near = (f: Fact) => f.k !== 'recv' || Math.abs(f.seq - m.seq) <= 3;
  return witness(ix, message, ack, [...m.acked, ...deviceFacts(ix, client, m.conv, near)]);
}

/**
 * A device that stopped or slowed its reading (client modes pause, throttle) cannot have read
 * what was pushed meanwhile: a stall overlapping [storedAt, deadline] moves the deadline to
 * `within` after the stall ended (repeatedly, for stalls that follow).
 */
function stallDeadline(ix: FactIndex, client: string, storedAt: number, deadline: number, within: number): number {
  const list = ix.stalls.get(client);
  if (!list) return deadline;
  let d = deadline;
  for (const st of [...list].sort((a, b) => a.at - b.at)) if (st.at <= d && st.end >= storedAt) d = Math.max(d, st.end + within);
  return d;
}
