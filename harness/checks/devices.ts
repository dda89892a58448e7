import type { Fact } from '../model/facts.ts';
import { connLivesByUser, fmtT, userOf, type ConnLife, type FactIndex } from './fact-index.ts';
import type { Findings } from './verdict.ts';
import { witness } from './witness.ts';

/**
 * Part of `presence`: the registrations presence is made of, judged from the devices' side
 * (PROTOCOL.md, MAX_DEVICES and Connect 5).
 *
 * - **limit**: a user never has more than `maxDevices` devices welcomed and open at once
 *   (longer than OVERLAP_SLACK_MS: a device records a close the server sent only when it
 *   reads it).
 * - **refusals**: a hello refused 4429 is right only if at least `maxDevices` other devices
 *   of its user may have been registered while it was under way — a connection of theirs
 *   from its connect to CLOSE_SLACK_MS after its close (the server deregisters a closed
 *   connection a Redis round trip after it notices it). A device already open that connects
 *   again replaces itself and is never refused.
 * - **replacements** (workload `replaceRate`): a connection its device left open when it
 *   connected again (a `replace` fact) must be closed 4409 by the server within
 *   REPLACE_WITHIN_MS of the new connection's welcome, on whichever node it was.
 *
 * Returns how many welcomes, refusals and replacements were examined.
 */
const OVERLAP_SLACK_MS = 1000;
const CLOSE_SLACK_MS = 2000;
const REPLACE_WITHIN_MS = 5000;

export function checkDevices(ix: FactIndex, maxDevices: number | undefined, findings: Findings): { welcomes: number; refusals: number; replacements: number; replacedLate: number; notJudged: number } {
  const livesOf = connLivesByUser(ix);
  let welcomes = 0;
  let refusals = 0;
  if (maxDevices !== undefined) {
    for (const [user, lives] of livesOf) {
      const welcomed = lives.filter((l) => l.welcome);
      for (const l of welcomed) {
        welcomes++;
        const w = l.welcome!.at;
        const until = w + OVERLAP_SLACK_MS;
        if ((l.end?.at ?? ix.runEnd) < until) continue;
        const open = new Map<string, ConnLife>();
        for (const o of welcomed) if (o.welcome!.at <= w && (o.end?.at ?? Infinity) >= until) open.set(o.client, o);
        if (open.size <= maxDevices) continue;
        findings.add(w, () => {
          const list = [...open.values()].map((o) => `${o.client} on ${o.conn} (welcomed ${fmtT(ix, o.welcome!.at)})`).join(', ');
          const message = `${user} had ${open.size} devices welcomed and open at once from ${fmtT(ix, w)} for more than ${OVERLAP_SLACK_MS} ms — ${list} — but MAX_DEVICES is ${maxDevices}: the last of them should have been refused 4429`;
          return witness(ix, message, l.welcome!, connTrail(ix, lives));
        });
      }
      for (const r of lives) {
        if (r.welcome || r.end?.code !== 4429) continue;
        refusals++;
        const from = r.connectAt ?? r.end.at;
        const to = r.end.at;
        // other devices that may have held a registration while this hello was under way
        const others = new Map<string, ConnLife>();
        for (const o of lives) {
          if (o.client === r.client || (!o.welcome && o.end?.code === 4429)) continue;
          const oFrom = o.connectAt ?? o.welcome?.at ?? Infinity;
          const oTo = (o.end?.at ?? Infinity) + CLOSE_SLACK_MS;
          if (oFrom <= to && oTo >= from) others.set(o.client, o);
        }
        if (others.size >= maxDevices) continue;
        findings.add(to, () => {
          const list = others.size ? [...others.values()].map((o) => `${o.client} (${o.conn})`).join(', ') : 'none';
          const message =
            `${r.client}'s hello (connection ${r.conn}, from ${fmtT(ix, from)}) was refused 4429 at ${fmtT(ix, to)}, but ${user} had only ${others.size} other device${others.size === 1 ? '' : 's'} ` +
            `that may have been open then (${list}; MAX_DEVICES is ${maxDevices}): a device within the limit, or one replacing itself, must be welcomed`;
          return witness(ix, message, r.end!, connTrail(ix, lives));
        });
      }
    }
  }

  let replacements = 0;
  let replacedLate = 0;
  let notJudged = 0;
  for (const rep of ix.replaces) {
    const next = (ix.welcomedByClient.get(rep.client) ?? []).find((l) => l.welcome!.at >= rep.at);
    const old = ix.conns.get(rep.conn);
    // the new connection was never welcomed, or the old one ended before it was (nothing left to replace)
    if (!next || !old || (old.end && old.end.at < next.welcome!.at)) {
      notJudged++;
      continue;
    }
    replacements++;
    const w = next.welcome!.at;
    const code = old.end?.code;
    if (code === 4409 && old.end!.at <= w + REPLACE_WITHIN_MS) continue;
    if (code === 4409) replacedLate++;
    findings.add(w, () => {
      const how = !old.end ? 'was never closed' : code === 4409 ? `was closed 4409 only at ${fmtT(ix, old.end.at)}, more than ${REPLACE_WITHIN_MS} ms later` : `was closed ${code ?? '(no code)'} at ${fmtT(ix, old.end.at)}`;
      const message =
        `${rep.client} connected again at ${fmtT(ix, rep.at)} leaving its connection ${rep.conn} open; the new connection ${next.conn} was welcomed at ${fmtT(ix, w)}${next.welcome!.node ? ` on ${next.welcome!.node}` : ''}, ` +
        `but the old one ${how} (PROTOCOL.md: a second connection of the same device closes the older one with 4409, also on another node)`;
      return witness(ix, message, rep, connTrail(ix, (livesOf.get(userOf(rep.client)) ?? []).filter((l) => l.client === rep.client)));
    });
  }
  return { welcomes, refusals, replacements, replacedLate, notJudged };
}

function* connTrail(ix: FactIndex, lives: readonly ConnLife[]): Generator<Fact> {
  for (const l of lives) for (const f of ix.byConn.get(l.conn) ?? []) if (f.k === 'conn') yield f;
  const clients = new Set(lives.map((l) => l.client));
  for (const r of ix.replaces) if (clients.has(r.client)) yield r;
}
