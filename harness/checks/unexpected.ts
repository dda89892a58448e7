import { fmtT, indexFacts, messagesOf, userOf, type FactIndex, type Message } from './fact-index.ts';
import { memberAt } from './membership.ts';
import { DEFAULTS, Findings, plural, type CheckInput, type Verdict } from './verdict.ts';
import { deviceFacts, witness } from './witness.ts';

/**
 * unexpected — privacy: no device receives a message of a conversation its user was not a
 * member of when the message was stored (a leaver still pushed to, a joiner given what
 * came before its join). Any receipt counts: live, backlog or history.
 *
 * - Members: see membership.ts (the initial members, changed by the harness's joins and
 *   leaves). A receipt whose membership at that message is ambiguous (a change without a
 *   seq overlapping the send) is skipped and counted.
 * - Every epoch is checked: a reused seq of a new epoch is another message, with its own
 *   storage interval.
 *
 * checked = (message, receiving device) pairs examined.
 */
export function check(input: CheckInput): Verdict {
  const ix = indexFacts(input);
  const findings = new Findings();
  let checked = 0;
  let ambiguous = 0;
  for (const c of ix.convs.values()) {
    for (const e of c.epochs.values()) {
      for (const m of messagesOf(e)) {
        for (const [client, at] of m.receivedBy) {
          checked++;
          const user = userOf(client);
          const member = memberAt(c.members, user, m.seq, m.storedLow, m.storedHigh);
          if (member === undefined) ambiguous++;
          if (member !== false) continue;
          findings.add(at, () => unexpectedWitness(ix, m, user, client, at));
        }
      }
    }
  }
  const notes = [`${plural(checked, '(message, receiving device) pair')} checked`];
  if (ambiguous) notes.push(`${plural(ambiguous, 'receipt')} with a membership change during the send skipped`);
  return findings.verdict('unexpected', checked, notes.join('; '), input.options?.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

function unexpectedWitness(ix: FactIndex, m: Message, user: string, client: string, at: number) {
  const changes = ix.convs.get(m.conv)!.members.changes.get(user) ?? [];
  const last = changes.filter((c) => c.at <= at).at(-1);
  const why = last
    ? `${last.op === 'leave' ? 'left' : 'joined'} at ${fmtT(ix, last.at)}${last.seq !== undefined ? ` (head ${last.seq})` : ''}`
    : 'never a member';
  const stored = m.storedLow !== undefined ? `stored after ${fmtT(ix, m.storedLow)}` : `stored by ${fmtT(ix, m.storedHigh!)}`;
  const recv = [...deviceFacts(ix, client, m.conv, (f) => f.k === 'recv' && f.seq === m.seq && f.cmid === m.cmid)].find((f) => f.k === 'recv')!;
  const message =
    `${m.conv} seq ${m.seq} (epoch ${m.epoch || '?'}, cmid ${m.cmid} from ${m.from}, ${stored}) ` +
    `reached ${client} on ${recv.conn} at ${fmtT(ix, at)} (${recv.k === 'recv' ? recv.via : '?'}), but ${user} was not a member then (${why})`;
  const near = (f: { k: string; at?: number }) => f.k !== 'recv' || (f.at !== undefined && Math.abs(f.at - at) <= 2000);
  return witness(ix, message, recv, [...m.acked, ...changes, ...deviceFacts(ix, client, m.conv, near)]);
}
