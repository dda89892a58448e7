import type { Fact, SendFact } from '../model/facts.ts';
import { aheadNote, cmidKey, cmidLogs, connAt, firstAck, fmtT, forfeitedByAckAhead, indexFacts, messagesOf, userOf, type FactIndex, type Message } from './fact-index.ts';
import { everMembers, memberAt } from './membership.ts';
import { DEFAULTS, Findings, plural, type CheckInput, type Verdict } from './verdict.ts';
import { deviceFacts, witness } from './witness.ts';

/**
 * lost — guarantee 1, safety half: every message answered `sent` (outcome sent or dup)
 * reached every device of every user who was a member when it was stored, by the end of
 * the run (the fleet's final sync reconnects every device and fetches history past gaps;
 * any receipt counts, via live, backlog or history).
 *
 * - A message is (conv, epoch, seq, sender, cmid); receipts count only in the same epoch
 *   and with the same sender and cmid (a reused seq is not the acked message).
 * - Only the conversation's current epoch is checked: messages of an epoch the store lost
 *   (a newer epoch was seen, or it began before a volatile store was wiped: options
 *   storeWipes) are outside the guarantee; the summary counts them.
 * - Members: see membership.ts; a member whose membership at that message is ambiguous
 *   (a change without a seq during the send) is skipped and counted.
 * - Unknown outcomes (Jepsen's `info`): a send answered `error` unavailable/internal (or an
 *   error without a code) or never answered. It counts as recovered if some device
 *   received that (conv, sender, cmid); never a failure either way.
 *
 * - Client modes (workload.deviceGroups): a device that acked above what it held (`ahead`)
 *   gave up the messages it claimed that may already have been stored when the server
 *   handled that ack (a correct server clamps to the head then); every message stored
 *   after it is still owed. A device that left for good (`leave`) is owed what was stored
 *   at least `unseenWithinMs` before it left; one that left without ever being welcomed (a
 *   `visit` refused 4429 every time) is owed nothing. All are counted in the summary.
 *
 * checked = (acked message, member device) pairs examined.
 */
export function check(input: CheckInput): Verdict {
  const ix = indexFacts(input);
  const findings = new Findings();
  let checked = 0;
  let messages = 0;
  let superseded = 0;
  let ambiguous = 0;
  let forfeited = 0;
  let afterGone = 0;
  let neverAdmitted = 0;
  const within = input.options?.unseenWithinMs ?? DEFAULTS.unseenWithinMs;

  for (const c of ix.convs.values()) {
    const users = everMembers(c.members);
    for (const e of c.epochs.values()) {
      for (const m of messagesOf(e)) {
        if (m.acked.length === 0) continue;
        if (e.epoch !== c.current) {
          superseded++;
          continue;
        }
        messages++;
        const ack = firstAck(m);
        for (const user of users) {
          const member = memberAt(c.members, user, m.seq, m.storedLow, m.storedHigh);
          if (member === undefined) ambiguous++;
          if (member !== true) continue;
          for (const client of ix.clientsByUser.get(user) ?? []) {
            const gone = ix.gone.get(client);
            // a visitor (mode visit) that left without ever being admitted (refused 4429 while its user was at MAX_DEVICES) held no cursor to owe from
            if (gone !== undefined && !ix.welcomedByClient.has(client)) {
              neverAdmitted++;
              continue;
            }
            if (gone !== undefined && (m.storedHigh ?? Infinity) > gone - within) {
              afterGone++;
              continue;
            }
            checked++;
            if (m.receivedBy.has(client)) continue;
            if (forfeitedByAckAhead(ix, client, m)) {
              forfeited++;
              continue;
            }
            findings.add(ack.sentAt, () => lostWitness(ix, m, ack, user, client));
          }
        }
      }
    }
  }

  const unknown = unknownOutcomes(ix);
  const notes = [
    `${plural(messages, 'acked message')} × member devices = ${plural(checked, 'delivery', 'deliveries')} checked`,
    `${plural(unknown.total, 'unknown-outcome send')} (${unknown.recovered} recovered, ${unknown.total - unknown.recovered} not seen; neither is a failure)`,
  ];
  if (superseded) notes.push(`${plural(superseded, 'acked message')} of epochs the store later lost not checked`);
  if (forfeited) notes.push(`${plural(forfeited, 'delivery', 'deliveries')} not owed: the device acked past them (ack ahead) when they may already have been stored`);
  if (afterGone) notes.push(`${plural(afterGone, 'delivery', 'deliveries')} to devices that left for good, stored less than ${within} ms before they left or after, not owed`);
  if (neverAdmitted) notes.push(`${plural(neverAdmitted, 'delivery', 'deliveries')} to devices that left without ever being welcomed (refused at MAX_DEVICES) not owed`);
  if (ambiguous) notes.push(`${plural(ambiguous, 'member')} with a membership change during the send skipped`);
  return findings.verdict('lost', checked, notes.join('; '), input.options?.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

export function isUnknownOutcome(s: SendFact): boolean {
  return s.outcome === 'none' || (s.outcome === 'error' && (s.code === undefined || s.code === 'unavailable' || s.code === 'internal'));
}

function unknownOutcomes(ix: FactIndex): { total: number; recovered: number } {
  let total = 0;
  let recovered = 0;
  for (const s of ix.sends) {
    if (!isUnknownOutcome(s)) continue;
    total++;
    const log = cmidLogs(ix).get(cmidKey(s.conv, userOf(s.client), s.cmid));
    if (log?.seen.some((x) => x.received)) recovered++;
  }
  return { total, recovered };
}

function lostWitness(ix: FactIndex, m: Message, ack: SendFact, user: string, client: string) {
  const last = connAt(ix, client, Infinity);
  const device = last
    ? `last connection ${last.conn}${last.end ? ` ended at ${fmtT(ix, last.end.at)}${last.end.code !== undefined ? ` code ${last.end.code}` : ''}` : ' still open'}`
    : 'never welcomed';
  const message =
    `${m.conv} seq ${m.seq} (epoch ${m.epoch || '?'}, cmid ${m.cmid} from ${m.from}, answered ${ack.outcome} at ${fmtT(ix, ack.answeredAt ?? ack.sentAt)}) ` +
    `never reached member ${user} on device ${client} (${device})${aheadNote(ix, client, m)}`;
  // the device's lifecycle, its conv/gap frames and sends there, and receipts of nearby seqs
  const near = (f: Fact) => f.k !== 'recv' || Math.abs(f.seq - m.seq) <= 3;
  return witness(ix, message, ack, [...m.acked, ...deviceFacts(ix, client, m.conv, near)]);
}

