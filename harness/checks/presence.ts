import type { Fact, PresenceFact } from '../model/facts.ts';
import { clientFacts, fmtT, indexFacts, userOf, type ConnLife, type FactIndex } from './fact-index.ts';
import { DEFAULTS, Findings, plural, type CheckInput, type Verdict } from './verdict.ts';
import { witness } from './witness.ts';

/**
 * presence — guarantee 4: once connects and disconnects stop, the highest-`v` presence
 * frame each subscriber holds for a user says `online` exactly when that user has a
 * welcomed open connection.
 *
 * Read at `options.presence.at` (default: the run's last fact):
 * - subscribers: connections open at that time (welcomed, not ended: ConnLife.end); each is
 *   examined for every user it received a presence frame for. The view a device holds is
 *   the highest-v frame it received up to then on any of its connections (a client keeps
 *   the highest v it has seen); equal v: the later frame.
 * - truth: `options.presence.truth` when given, else derived from ConnFacts — a user is
 *   online when one of its connections was welcomed and not closed by then.
 * - a user with a connect, welcome, close or error after `quiescentAt` (up to the reading)
 *   has not quiesced and is skipped (counted in the summary).
 *
 * checked = (subscriber device, user) views examined.
 */
export function check(input: CheckInput): Verdict {
  const ix = indexFacts(input);
  const opts = input.options?.presence ?? {};
  const at = opts.at ?? ix.runEnd;
  const findings = new Findings();

  // truth and quiescence from the connection lifecycles
  const openConn = new Map<string, ConnLife>();
  const lastConn = new Map<string, ConnLife>();
  const unsettled = new Set<string>();
  const openSubscribers: ConnLife[] = [];
  for (const life of ix.conns.values()) {
    const user = userOf(life.client);
    const times = [life.connectAt, life.welcome?.at, life.end?.at];
    if (opts.quiescentAt !== undefined && times.some((t) => t !== undefined && t > opts.quiescentAt! && t <= at)) unsettled.add(user);
    if (!life.welcome || life.welcome.at > at) continue;
    const prev = lastConn.get(user);
    if (!prev || life.welcome.at >= prev.welcome!.at) lastConn.set(user, life);
    if (life.end && life.end.at <= at) continue;
    openConn.set(user, life);
    openSubscribers.push(life);
  }
  const explicit = opts.truth;
  const truthOf = (user: string): boolean =>
    explicit === undefined ? openConn.has(user) : explicit instanceof Map ? explicit.get(user) === true : (explicit as Record<string, boolean>)[user] === true;

  // views: per client the highest-v frame per user; per connection the users it holds frames for
  const views = new Map<string, Map<string, PresenceFact>>();
  const subscribed = new Map<string, Set<string>>();
  for (const f of ix.presence) {
    if (f.at > at) continue;
    let v = views.get(f.client);
    if (!v) views.set(f.client, (v = new Map()));
    const held = v.get(f.user);
    if (!held || f.v > held.v || (f.v === held.v && f.at >= held.at)) v.set(f.user, f);
    let s = subscribed.get(f.conn);
    if (!s) subscribed.set(f.conn, (s = new Set()));
    s.add(f.user);
  }

  let checked = 0;
  let skipped = 0;
  const done = new Set<string>();
  for (const sub of openSubscribers) {
    for (const user of subscribed.get(sub.conn) ?? []) {
      const key = sub.client + '\u0000' + user;
      if (done.has(key)) continue;
      done.add(key);
      if (unsettled.has(user)) {
        skipped++;
        continue;
      }
      checked++;
      const held = views.get(sub.client)!.get(user)!;
      const truth = truthOf(user);
      if ((held.status === 'online') === truth) continue;
      findings.add(held.at, () => {
        let why: string;
        if (explicit !== undefined) why = `the truth given says ${truth ? 'online' : 'offline'}`;
        else if (truth) {
          const c = openConn.get(user)!;
          why = `${user} has open connection ${c.conn} (${c.client}, welcomed ${fmtT(ix, c.welcome!.at)})`;
        } else {
          const c = lastConn.get(user);
          why = c
            ? `${user} has no open connection (last ${c.conn} of ${c.client} ended ${fmtT(ix, c.end!.at)}${c.end!.code !== undefined ? ` code ${c.end!.code}` : ''})`
            : `${user} was never welcomed`;
        }
        const message = `subscriber ${sub.client} (connection ${sub.conn}) holds ${user} ${held.status} (v ${held.v}, received ${fmtT(ix, held.at)}) at ${fmtT(ix, at)}, but ${why}`;
        return witness(ix, message, held, presenceTrail(ix, sub.client, user));
      });
    }
  }
  const notes = [`${plural(checked, '(subscriber, user) view')} checked at ${fmtT(ix, at)}${explicit !== undefined ? ' against the given truth' : ''}`];
  if (skipped) notes.push(`${plural(skipped, 'view')} of users still connecting or disconnecting after quiescence skipped`);
  if (checked === 0 && skipped === 0) notes.push('nothing to check: no open connection held presence frames');
  return findings.verdict('presence', checked, notes.join('; '), input.options?.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

/** The subscriber's frames about the user, and the user's connection lifecycles. */
function* presenceTrail(ix: FactIndex, client: string, user: string): Generator<Fact> {
  for (const f of clientFacts(ix, client)) if (f.k === 'presence' && f.user === user) yield f;
  for (const c of ix.clientsByUser.get(user) ?? []) for (const f of clientFacts(ix, c)) if (f.k === 'conn') yield f;
}
