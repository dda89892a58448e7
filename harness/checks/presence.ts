import type { Fact, FaultEvent, PresenceFact } from '../model/facts.ts';
import { checkDevices } from './devices.ts';
import { excusingFaults, faultTimeline } from './faults.ts';
import { clientFacts, connLivesByUser, fmtT, indexFacts, userOf, type ConnLife, type FactIndex } from './fact-index.ts';
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
  if (opts.overTime && explicit === undefined) {
    const { windows } = checkOverTime(ix, input.faults ?? [], opts.overTime, findings);
    const versions = checkSameV(ix, findings);
    notes.push(`${plural(windows, 'settled stretch', 'settled stretches')} of (subscriber connection, user) checked over time (settle ${opts.overTime.settleMs} ms, ${opts.overTime.afterFaultMs} ms after a fault); ${plural(versions, '(user, v)')} checked for one status`);
    checked += windows + versions;
  }
  const dev = checkDevices(ix, opts.maxDevices, findings);
  if (opts.maxDevices !== undefined) notes.push(`device limit (MAX_DEVICES ${opts.maxDevices}): ${plural(dev.welcomes, 'welcome')} and ${plural(dev.refusals, 'refusal')} (4429) checked`);
  if (dev.replacements || dev.notJudged) notes.push(`${plural(dev.replacements, 'connection')} left open while its device connected again checked for its 4409${dev.notJudged ? ` (${dev.notJudged} more not judged: the new connection was never welcomed, or the old one had ended)` : ''}`);
  checked += dev.welcomes + dev.refusals + dev.replacements;
  if (skipped) notes.push(`${plural(skipped, 'view')} of users still connecting or disconnecting after quiescence skipped`);
  if (checked === 0 && skipped === 0) notes.push('nothing to check: no open connection held presence frames');
  return findings.verdict('presence', checked, notes.join('; '), input.options?.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

/** How much earlier than the user's own device a subscriber may see a change (measured: tens of ms). */
const EARLY_CHANGE_MS = 500;

/** A stretch of time in which a user's real state did not change. */
interface Stretch {
  from: number;
  to: number;
  online: boolean;
}

/**
 * The user's real state over the run, where it is certain: online while one of its
 * connections is welcomed and not ended; offline while none is even connecting. The server
 * registers a connection during its hello, before the device reads `welcome` (seconds
 * before, on a loaded node), so from a connect to its welcome the state is neither.
 */
function truthStretches(lives: readonly ConnLife[], start: number, end: number, stallAt: (l: ConnLife) => number): Stretch[] {
  const welcomed: Array<[number, number]> = [];
  const possible: Array<[number, number]> = [];
  for (const l of lives) {
    if (l.welcome) {
      const until = l.end?.at ?? end;
      // a device that stopped reading learns of a cut (4413) only when it reads again: from
      // its stall on, its connection may already be closed on the server; one it closed
      // itself may be gone on the server from its close frame on, a round trip before `close`
      welcomed.push([l.welcome.at, Math.max(l.welcome.at, Math.min(until, stallAt(l), l.closingAt ?? Infinity))]);
      possible.push([l.connectAt ?? l.welcome.at, Math.max(l.welcome.at, until)]);
      continue;
    }
    if (l.connectAt === undefined) continue;
    // A handshake's facts carry a provisional id until `welcome` names the connection: its
    // end, or else the welcome its device got next, closes the unsure time.
    const next = l.end?.at ?? Math.min(...lives.filter((w) => w.client === l.client && w.welcome && w.welcome.at >= l.connectAt!).map((w) => w.welcome!.at), end);
    possible.push([l.connectAt, Math.max(l.connectAt, next)]);
  }
  const online = merge(welcomed).map(([from, to]): Stretch => ({ from, to, online: true }));
  const offline: Stretch[] = [];
  let at = start;
  for (const [from, to] of merge(possible)) {
    if (from > at) offline.push({ from: at, to: from, online: false });
    at = Math.max(at, to);
  }
  if (end > at) offline.push({ from: at, to: end, online: false });
  return [...online, ...offline].filter((x) => x.to > x.from).sort((a, b) => a.from - b.from);
}

/** Overlapping or touching intervals joined, sorted by start. */
function merge(intervals: Array<[number, number]>): Array<[number, number]> {
  intervals.sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [a, b] of intervals) {
    const last = out.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * Presence over time: within every stretch in which a user's real state held (from
 * `settleMs` after it began, or `afterFaultMs` after a fault ended, to 500 ms before it
 * ended), each subscriber
 * connection that had been open for `settleMs` must show that state — its device's
 * highest-v view — the whole time it stays open. A wrong offline that a final sync would
 * hide (everyone reconnects at the end) shows here.
 */
function checkOverTime(ix: FactIndex, faults: readonly FaultEvent[], o: { settleMs: number; afterFaultMs: number }, findings: Findings): { windows: number } {
  // a fault quiets presence from its start until afterFaultMs past its (effective) end; a
  // node kill only until afterFaultMs past the kill, left down or not: its leases lapse and
  // are swept within PRESENCE_TTL_MS, so its users must have converged by then
  const tl = faultTimeline(excusingFaults(faults), ix.runEnd);
  const quiet = tl.events.map((f, i) => ({ from: f.start, to: (f.kind === 'node:kill' ? f.start : tl.ends[i]!) + o.afterFaultMs }));
  // per client and user: its presence frames by arrival; per connection: users it got frames for
  const framesOf = new Map<string, PresenceFact[]>();
  const usersOfConn = new Map<string, Set<string>>();
  for (const f of ix.presence) {
    const key = f.client + '\u0000' + f.user;
    const list = framesOf.get(key);
    if (list) list.push(f);
    else framesOf.set(key, [f]);
    let u = usersOfConn.get(f.conn);
    if (!u) usersOfConn.set(f.conn, (u = new Set()));
    u.add(f.user);
  }
  for (const list of framesOf.values()) list.sort((a, b) => a.at - b.at);
  const livesOf = connLivesByUser(ix);
  // client modes pause and throttle: when a connection's device first stalled during its life
  const stallAt = (l: ConnLife): number => {
    const from = l.welcome?.at ?? l.connectAt ?? -Infinity;
    const to = l.end?.at ?? ix.runEnd;
    let at = Infinity;
    for (const st of ix.stalls.get(l.client) ?? []) if (st.end > from && st.at < to) at = Math.min(at, Math.max(st.at, from));
    return at;
  };
  const stretchesOf = new Map<string, Stretch[]>();
  let windows = 0;
  for (const sub of ix.conns.values()) {
    if (!sub.welcome) continue;
    const subFrom = sub.welcome.at + o.settleMs;
    // a subscriber that stopped reading holds what it read before: judged until it stalled
    const subTo = Math.min(sub.end?.at ?? ix.runEnd, stallAt(sub));
    for (const user of usersOfConn.get(sub.conn) ?? []) {
      let stretches = stretchesOf.get(user);
      if (!stretches) stretchesOf.set(user, (stretches = truthStretches(livesOf.get(user) ?? [], ix.runStart, ix.runEnd, stallAt)));
      const frames = framesOf.get(sub.client + '\u0000' + user)!;
      for (const st of stretches) {
        const from = Math.max(st.from + o.settleMs, subFrom);
        // the server may learn a change a little before the user's own device records it (it
        // closed the connection, or answered the close first): the stretch's last moment is open
        const to = Math.min(st.to < ix.runEnd ? st.to - EARLY_CHANGE_MS : st.to, subTo);
        for (const [a, b] of outside(from, to, quiet)) {
          windows++;
          const w = firstWrong(frames, a, b, st.online);
          if (!w) continue;
          findings.add(Math.max(a, w.at), () => {
            const message =
              `subscriber ${sub.client} (connection ${sub.conn}) showed ${user} ${w.status} (v ${w.v}, received ${fmtT(ix, w.at)}) within ${fmtT(ix, a)}–${fmtT(ix, b)}, ` +
              `while ${user} was ${st.online ? 'online' : 'offline'} from ${fmtT(ix, st.from)} to ${fmtT(ix, st.to)} (checked from ${o.settleMs} ms after that began and after the subscriber connected${a > from ? `, and ${o.afterFaultMs} ms after a fault` : ''})`;
            return witness(ix, message, w, presenceTrail(ix, sub.client, user));
          });
        }
      }
    }
  }
  return { windows };
}

/** [from, to) less the quiet intervals (sorted by start). */
function outside(from: number, to: number, quiet: readonly { from: number; to: number }[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let a = from;
  for (const q of quiet) {
    if (a >= to) break;
    if (q.to <= a || q.from >= to) continue;
    if (q.from > a) out.push([a, q.from]);
    a = Math.max(a, q.to);
  }
  if (a < to) out.push([a, to]);
  return out;
}

/**
 * The first time within [from, to) that the device's view (its highest-v frame so far;
 * equal v: the later) says other than `online`: the view held at `from`, or a frame that
 * arrived in the window. A device with no frame yet at `from` is judged from its first.
 */
function firstWrong(frames: readonly PresenceFact[], from: number, to: number, online: boolean): PresenceFact | undefined {
  const wrong = (f: PresenceFact) => (f.status === 'online') !== online;
  let held: PresenceFact | undefined;
  let i = 0;
  const better = (f: PresenceFact) => !held || f.v > held.v || (f.v === held.v && f.at >= held.at);
  for (; i < frames.length && frames[i]!.at < from; i++) if (better(frames[i]!)) held = frames[i];
  if (held && wrong(held)) return held;
  for (; i < frames.length && frames[i]!.at < to; i++) {
    if (better(frames[i]!)) held = frames[i];
    if (held && wrong(held)) return held;
  }
  return undefined;
}

/** Two presence frames for one user with the same `v` and different statuses: `v` must name one state. */
function checkSameV(ix: FactIndex, findings: Findings): number {
  const first = new Map<string, PresenceFact>();
  for (const f of ix.presence) {
    const key = f.user + '\u0000' + f.v;
    const seen = first.get(key);
    if (!seen) first.set(key, f);
    else if (seen.status !== f.status) {
      findings.add(f.at, () => witness(ix, `${f.user} v ${f.v} is ${seen.status} to ${seen.client} (${fmtT(ix, seen.at)}) but ${f.status} to ${f.client} (${fmtT(ix, f.at)}): one v must name one state`, f, presenceTrail(ix, f.client, f.user)));
    }
  }
  return first.size;
}

/** The subscriber's frames about the user, and the user's connection lifecycles. */
function* presenceTrail(ix: FactIndex, client: string, user: string): Generator<Fact> {
  for (const f of clientFacts(ix, client)) if (f.k === 'presence' && f.user === user) yield f;
  for (const c of ix.clientsByUser.get(user) ?? []) for (const f of clientFacts(ix, c)) if (f.k === 'conn') yield f;
}
