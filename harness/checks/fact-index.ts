import type { AckAheadFact, ConnFact, DrainFact, Fact, MemberFact, PresenceFact, RecvFact, ReplaceFact, SendFact, StallFact } from '../model/facts.ts';
import { excusingFaults, faultTimeline, type FaultTimeline } from './faults.ts';
import { addChange, newTimeline, sealTimeline, type MemberTimeline } from './membership.ts';
import type { CheckInput } from './verdict.ts';

/**
 * One pass over the facts builds every map the checkers need; checkers then only look
 * things up (no scans of all facts per item). The index is cached per input object, so
 * runAllCheckers indexes once.
 */

/** The user part of a `<user>/<device>` client id. */
export function userOf(client: string): string {
  const i = client.indexOf('/');
  return i < 0 ? client : client.slice(0, i);
}

/** One connection's lifecycle, from its ConnFacts (first of each kind). */
export interface ConnLife {
  conn: string;
  client: string;
  /** its own `connect` fact (synthetic logs; a fleet records `connect` under a `pending:` id, as startedAt shows) */
  connectAt?: number;
  /**
   * When its device began the connect attempt that led to its welcome: its own `connect`
   * fact, else its client's last `connect` recorded before the welcome (the fleet knows the
   * connection id only from `welcome`). Before the server could read anything for it.
   */
  startedAt?: number;
  welcome?: ConnFact;
  synced?: ConnFact;
  /** the first `close` (or, for a connection that never recorded one, its first `error`): the connection is over from then on */
  end?: ConnFact;
  /** when its device began closing it (sent a close frame): the server may have let it go from then on */
  closingAt?: number;
}

/** A stored message as the facts show it: identified by (conv, epoch, seq, from, cmid). */
export interface Message {
  conv: string;
  epoch: string;
  seq: number;
  /** sender user */
  from: string;
  cmid: string;
  /** sends answered `sent` or `dup` with this seq */
  acked: SendFact[];
  /** it was stored no earlier than this (min intendedAt of its acked sends) */
  storedLow?: number;
  /** it was stored no later than this (min of its acked sends' answeredAt and its first receipt) */
  storedHigh?: number;
  firstRecv?: RecvFact;
  /** client → time of its earliest receipt (any connection, any via) */
  receivedBy: Map<string, number>;
  /** another message claiming the same (conv, epoch, seq): a reused seq */
  other?: Message;
}

export interface EpochLog {
  epoch: string;
  /** first and last time the epoch was seen (conv frames, receipts, sends) */
  firstAt: number;
  lastAt: number;
  msgs: Map<number, Message>;
}

export interface ConvLog {
  conv: string;
  epochs: Map<string, EpochLog>;
  /** the epoch seen to start last: messages of earlier epochs were lost with the store's data */
  current: string;
  members: MemberTimeline;
}

/** How a send's epoch was known: recorded, from a receipt of the same message, the only epoch the conversation had, by time, or not at all. */
export type EpochSource = 'recorded' | 'receipt' | 'only' | 'time' | 'none' | 'wiped';

/**
 * The epoch of a send answered before a store wipe when every epoch the run saw of its
 * conversation began after that wipe: the one the wipe took, never seen (no receipt, no
 * `conv` frame). Never a conversation's `current`, so its messages are counted as gone with
 * the store, not judged.
 */
export const WIPED_EPOCH = '(wiped before seen)';

/** What one (conv, sender, cmid) was seen as: each distinct (epoch, seq) with its earliest fact, and whether any device received it. */
export interface CmidLog {
  conv: string;
  from: string;
  cmid: string;
  seen: { epoch: string; seq: number; fact: SendFact | RecvFact; received: boolean }[];
}

/** A wipe of a store without persistence: it began at `start` (everything stored until then is gone) and took commands again at `back` (storeBackAt, else `start`). */
export interface StoreWipe {
  start: number;
  back: number;
}

export interface FactIndex {
  /** the facts checked: the run's, with receipts filed under no epoch placed (placeUnannounced) */
  input: CheckInput;
  /** the copies placeUnannounced gave an epoch their device did not know, each with the fact as recorded */
  recorded: ReadonlyMap<Fact, Fact>;
  runStart: number;
  runEnd: number;
  faults: FaultTimeline;
  convs: Map<string, ConvLog>;
  /** every send, with the epoch it is attributed to (parallel arrays) */
  sends: SendFact[];
  sendEpochs: { epoch: string; source: EpochSource }[];
  /** facts naming a connection, per connection, in recorded order */
  byConn: Map<string, Fact[]>;
  conns: Map<string, ConnLife>;
  /** welcomed connections per client, by welcome time */
  welcomedByClient: Map<string, ConnLife[]>;
  /** devices (clients) per user: the Population's, plus any client that was welcomed */
  clientsByUser: Map<string, string[]>;
  presence: PresenceFact[];
  /** client modes (workload.deviceGroups): acks above what a device held, per client and conv */
  acksAhead: Map<string, AckAheadFact[]>;
  /** read stalls (pause, throttle) per client */
  stalls: Map<string, StallFact[]>;
  /** devices that left for good: client → when */
  gone: Map<string, number>;
  /** connections a device left open while it opened a new one (workload replaceRate), by time */
  replaces: ReplaceFact[];
  /** what devices found waiting when a read stall ended (client modes pause, throttle) */
  drains: DrainFact[];
  /** acked sends whose epoch is only guessed by time (left out of the cmid logs) */
  guessedEpoch: Set<SendFact>;
  /** the volatile store's wipes (options storeWipes, storeBackAt), by start */
  wipes: readonly StoreWipe[];
  /** built on first use: see clientFacts() and cmidLogs() */
  lazy: { byClient?: Map<string, Fact[]>; cmids?: Map<string, CmidLog> };
}

const cache = new WeakMap<CheckInput, FactIndex>();

export function indexFacts(input: CheckInput): FactIndex {
  const hit = cache.get(input);
  if (hit) return hit;
  const ix = build(input);
  cache.set(input, ix);
  return ix;
}

const SEP = '\u0000';

/** The run's store wipes (options storeWipes, storeBackAt), by start. */
function storeWipesOf(options: CheckInput['options']): StoreWipe[] {
  return (options?.storeWipes ?? []).map((start, i) => ({ start, back: options?.storeBackAt?.[i] ?? start })).sort((a, b) => a.start - b.start);
}

function build(raw: CheckInput): FactIndex {
  const wipes = storeWipesOf(raw.options);
  // when each wiped store took commands again (else when the wipe began): which side of a
  // wipe a send or a receipt is on
  const wipesBackAt = wipes.map((w) => w.back);
  const placed = placeUnannounced(raw.facts, wipesBackAt);
  // checkers read facts through the index (ix.input.facts): they all see the placed epochs
  const input: CheckInput = placed.facts === raw.facts ? raw : { ...raw, facts: placed.facts };
  const recorded = placed.recorded;
  const { facts, population } = input;
  const convs = new Map<string, ConvLog>();
  const byConn = new Map<string, Fact[]>();
  const conns = new Map<string, ConnLife>();
  /** client → its last `connect` fact's time so far */
  const lastConnect = new Map<string, number>();
  const presence: PresenceFact[] = [];
  const sends: SendFact[] = [];
  const memberFacts: MemberFact[] = [];
  const acksAhead = new Map<string, AckAheadFact[]>();
  const stalls = new Map<string, StallFact[]>();
  const gone = new Map<string, number>();
  const replaces: ReplaceFact[] = [];
  const drains: DrainFact[] = [];
  let runStart = Infinity;
  let runEnd = -Infinity;

  const initial = new Map<string, string[]>();
  for (const c of population.convs) initial.set(c.conv, c.members);
  const convLog = (conv: string): ConvLog => {
    let c = convs.get(conv);
    if (!c) convs.set(conv, (c = { conv, epochs: new Map(), current: '', members: newTimeline(conv, initial.get(conv)) }));
    return c;
  };
  const epochLog = (c: ConvLog, epoch: string, at: number): EpochLog => {
    let e = c.epochs.get(epoch);
    if (!e) c.epochs.set(epoch, (e = { epoch, firstAt: at, lastAt: at, msgs: new Map() }));
    else {
      if (at < e.firstAt) e.firstAt = at;
      if (at > e.lastAt) e.lastAt = at;
    }
    return e;
  };
  const push = (m: Map<string, Fact[]>, key: string, f: Fact) => {
    const l = m.get(key);
    if (l) l.push(f);
    else m.set(key, [f]);
  };

  for (const f of facts) {
    const at = f.k === 'send' ? f.sentAt : f.at;
    if (at < runStart) runStart = at;
    if (at > runEnd) runEnd = at;
    if (f.k === 'send' && f.answeredAt !== undefined && f.answeredAt > runEnd) runEnd = f.answeredAt;
    if (f.k === 'member') {
      memberFacts.push(f);
      continue;
    }
    // client modes: read by lost and unseen, never part of a connection's frames
    if (f.k === 'ack_ahead') {
      const key = f.client + SEP + f.conv;
      const l = acksAhead.get(key);
      if (l) l.push(f);
      else acksAhead.set(key, [f]);
      continue;
    }
    if (f.k === 'stall') {
      const l = stalls.get(f.client);
      if (l) l.push(f);
      else stalls.set(f.client, [f]);
      continue;
    }
    if (f.k === 'gone') {
      gone.set(f.client, Math.min(f.at, gone.get(f.client) ?? Infinity));
      continue;
    }
    if (f.k === 'replace') {
      replaces.push(f);
      continue;
    }
    if (f.k === 'drain') {
      drains.push(f);
      continue;
    }
    push(byConn, f.conn, f);
    switch (f.k) {
      case 'send':
        sends.push(f);
        break;
      case 'recv': {
        const c = convLog(f.conv);
        const e = epochLog(c, f.epoch, f.at);
        const m = message(e, f.conv, f.seq, f.from, f.cmid);
        if (!m.firstRecv || f.at < m.firstRecv.at) m.firstRecv = f;
        if (m.storedHigh === undefined || f.at < m.storedHigh) m.storedHigh = f.at;
        const prev = m.receivedBy.get(f.client);
        if (prev === undefined || f.at < prev) m.receivedBy.set(f.client, f.at);
        break;
      }
      case 'conv':
        epochLog(convLog(f.conv), f.epoch, f.at);
        break;
      case 'presence':
        presence.push(f);
        break;
      case 'conn': {
        let life = conns.get(f.conn);
        if (!life) conns.set(f.conn, (life = { conn: f.conn, client: f.client }));
        if (f.event === 'connect') {
          if (life.connectAt === undefined) life.connectAt = f.at;
          lastConnect.set(f.client, f.at);
        } else if (f.event === 'welcome' && !life.welcome) {
          life.welcome = f;
          const started = life.connectAt ?? lastConnect.get(f.client);
          if (started !== undefined && started <= f.at) life.startedAt = started;
        } else if (f.event === 'synced' && !life.synced) life.synced = f;
        else if (f.event === 'closing' && life.closingAt === undefined) life.closingAt = f.at;
        else if (f.event === 'close' && (!life.end || life.end.event === 'error')) life.end = f;
        else if (f.event === 'error' && !life.end) life.end = f;
        break;
      }
      case 'gap':
        break;
    }
  }
  if (runStart === Infinity) runStart = runEnd = 0;
  if (input.options?.runEnd !== undefined) runEnd = input.options.runEnd;

  for (const f of memberFacts) addChange(convLog(f.conv).members, f);
  for (const c of population.convs) convLog(c.conv);

  // sends: the epoch each belongs to, then attach acked sends to their messages
  const sendEpochs: { epoch: string; source: EpochSource }[] = [];
  const guessedEpoch = new Set<SendFact>();
  for (const s of sends) {
    const c = convLog(s.conv);
    if (s.epoch !== undefined) epochLog(c, s.epoch, s.answeredAt ?? s.sentAt);
  }
  const byFirstSeen = new Map<ConvLog, EpochLog[]>();
  const lastWipe = wipes.at(-1)?.start ?? -Infinity;
  for (const c of convs.values()) {
    sealTimeline(c.members);
    const list = [...c.epochs.values()].sort((a, b) => a.firstAt - b.firstAt);
    byFirstSeen.set(c, list);
    const newest = list[list.length - 1];
    // an epoch that began before the store was wiped went with it, newer epoch seen or not
    c.current = newest && newest.firstAt >= lastWipe ? newest.epoch : '';
  }
  // (all epochs first: a receipt-matched epoch must not see the sends attached below)
  for (const s of sends) {
    const c = convLog(s.conv);
    sendEpochs.push(sendEpoch(s, userOf(s.client), c, byFirstSeen.get(c)!, wipesBackAt, wipes, input.options?.clockErrorMs ?? 0));
  }
  for (let i = 0; i < sends.length; i++) {
    const s = sends[i]!;
    const r = sendEpochs[i]!;
    const c = convLog(s.conv);
    const from = userOf(s.client);
    if (!((s.outcome === 'sent' || s.outcome === 'dup') && s.seq !== undefined)) continue;
    const e = epochLog(c, r.epoch, s.answeredAt ?? s.sentAt);
    const m = message(e, s.conv, s.seq!, from, s.cmid);
    m.acked.push(s);
    if (m.storedLow === undefined || s.intendedAt < m.storedLow) m.storedLow = s.intendedAt;
    const high = s.answeredAt ?? Infinity;
    if (m.storedHigh === undefined || high < m.storedHigh) m.storedHigh = high;
    if (r.source === 'time') guessedEpoch.add(s);
  }

  const welcomedByClient = new Map<string, ConnLife[]>();
  for (const life of conns.values()) {
    if (!life.welcome) continue;
    const l = welcomedByClient.get(life.client);
    if (l) l.push(life);
    else welcomedByClient.set(life.client, [life]);
  }
  for (const l of welcomedByClient.values()) l.sort((a, b) => a.welcome!.at - b.welcome!.at);

  const clientsByUser = new Map<string, string[]>();
  const seenClient = new Set<string>();
  const addClient = (client: string) => {
    if (seenClient.has(client)) return;
    seenClient.add(client);
    const u = userOf(client);
    const l = clientsByUser.get(u);
    if (l) l.push(client);
    else clientsByUser.set(u, [client]);
  };
  for (const u of population.users) for (const d of u.devices) addClient(`${u.user}/${d}`);
  for (const client of welcomedByClient.keys()) addClient(client);

  return {
    input,
    recorded,
    runStart,
    runEnd,
    faults: faultTimeline(excusingFaults(input.faults ?? []), runEnd),
    convs,
    sends,
    sendEpochs,
    byConn,
    conns,
    welcomedByClient,
    clientsByUser,
    presence,
    acksAhead,
    stalls,
    gone,
    replaces: replaces.sort((a, b) => a.at - b.at),
    drains: drains.sort((a, b) => a.at - b.at),
    guessedEpoch,
    wipes,
    lazy: {},
  };
}

/**
 * The epoch a device files a msg under when its connection was sent no `conv` frame for that
 * conversation (harness/fleet/sim-client.ts): the device does not know which incarnation it is.
 */
export const UNANNOUNCED = '';

/** how many rounds placeUnannounced passes votes on from the groups it placed to the rest */
const PLACEMENT_PASSES = 8;

/**
 * Gives the epoch in force to what a connection filed under no epoch (UNANNOUNCED): its
 * receipts, its acks above what it held and its windows' unacked seqs, per connection and
 * conversation. PROTOCOL.md sends a `conv` frame at connect only for a conversation with
 * something to send (Connect 3) and when the epoch changes while connected (rule 6), so what
 * a connection receives before any `conv` frame of a conversation is of the one epoch in
 * force at its welcome. Which one: the epoch the other receipts of the same (seq, sender,
 * cmid) name, when those naming exactly one agree; failing any, the epoch the same device
 * last saw there before the welcome; failing that, the only epoch the run saw by the
 * welcome. Never across a store wipe, and never onto a seq the epoch holds as another
 * message; otherwise left as recorded.
 *
 * Returns the facts with copies in place of those it placed, and each copy's recorded fact
 * (witnesses show what was recorded). `facts` itself when nothing was filed under no epoch:
 * this server sends a `conv` frame before a connection's first msg of each conversation, so
 * its runs are judged exactly as recorded.
 *
 * Why (review M1, 2026-12-05): with `''` an epoch of its own, `order` judged a backlog pushed
 * after `synced` with no conv frame only when that receipt was the message's first anywhere,
 * and `lost` could take `''` for the conversation's newest incarnation and count every
 * message of the real one as lost with the store.
 */
export function placeUnannounced(facts: readonly Fact[], wipesBackAt: readonly number[]): { facts: readonly Fact[]; recorded: Map<Fact, Fact> } {
  const recorded = new Map<Fact, Fact>();
  const groups = new Map<string, RecvFact[]>();
  for (const f of facts) {
    if (f.k !== 'recv' || f.epoch !== UNANNOUNCED) continue;
    const k = f.conn + SEP + f.conv;
    const l = groups.get(k);
    if (l) l.push(f);
    else groups.set(k, [f]);
  }
  if (!groups.size) return { facts, recorded };
  /** (conv, seq, from, cmid) → the real epochs it was received in */
  const holders = new Map<string, Set<string>>();
  /** (conv, epoch, seq) → the (from, cmid) received there */
  const atSeq = new Map<string, Set<string>>();
  const firstSeen = new Map<string, Map<string, number>>();
  const welcomeAt = new Map<string, number>();
  /** (client, conv) → the real epochs its conv frames and receipts named, in recorded order */
  const clientSaw = new Map<string, { epoch: string; at: number }[]>();
  const add = <T>(m: Map<string, Set<T>>, k: string, v: T) => {
    const x = m.get(k);
    if (x) x.add(v);
    else m.set(k, new Set([v]));
  };
  const seen = (client: string | undefined, conv: string, epoch: string, at: number) => {
    let m = firstSeen.get(conv);
    if (!m) firstSeen.set(conv, (m = new Map()));
    const prev = m.get(epoch);
    if (prev === undefined || at < prev) m.set(epoch, at);
    if (client === undefined) return;
    const k = client + SEP + conv;
    const l = clientSaw.get(k);
    if (l) l.push({ epoch, at });
    else clientSaw.set(k, [{ epoch, at }]);
  };
  for (const f of facts) {
    if (f.k === 'recv' && f.epoch !== UNANNOUNCED) {
      add(holders, f.conv + SEP + f.seq + SEP + f.from + SEP + f.cmid, f.epoch);
      add(atSeq, f.conv + SEP + f.epoch + SEP + f.seq, f.from + SEP + f.cmid);
      seen(f.client, f.conv, f.epoch, f.at);
    } else if (f.k === 'conv') seen(f.client, f.conv, f.epoch, f.at);
    else if (f.k === 'send' && f.epoch !== undefined) seen(undefined, f.conv, f.epoch, f.answeredAt ?? f.sentAt);
    else if (f.k === 'conn' && f.event === 'welcome' && !welcomeAt.has(f.conn)) welcomeAt.set(f.conn, f.at);
  }
  const across = (a: number, b: number) => wipesBackAt.some((w) => Math.min(a, b) < w && w <= Math.max(a, b));
  const resolved = new Map<string, { epoch: string; lowest: number }>();
  /** the epoch for a group: by the votes of other receipts of its messages, else (`fallback`) by what was seen before its welcome */
  const choose = (group: RecvFact[], fallback: boolean): string | undefined => {
    const { conn, conv, client } = group[0]!;
    const epochs = firstSeen.get(conv);
    if (!epochs) return undefined;
    const votes = new Set<string>();
    for (const r of group) {
      const h = holders.get(conv + SEP + r.seq + SEP + r.from + SEP + r.cmid);
      if (h?.size !== 1) continue;
      const [e] = h;
      if (!across(epochs.get(e!)!, r.at)) votes.add(e!);
    }
    let epoch: string | undefined;
    if (votes.size === 1) [epoch] = votes;
    else if (votes.size === 0 && fallback) {
      // a connection whose welcome was not recorded is timed from its earliest receipt
      const welcome = welcomeAt.get(conn) ?? group.reduce((a, r) => Math.min(a, r.at), Infinity);
      const before = (at: number) => at <= welcome && !across(at, welcome);
      epoch = clientSaw
        .get(client + SEP + conv)
        ?.filter((x) => before(x.at))
        .at(-1)?.epoch;
      if (epoch === undefined) {
        const byWelcome = [...epochs].filter(([, at]) => before(at));
        if (byWelcome.length === 1) epoch = byWelcome[0]![0];
      }
    }
    if (epoch === undefined) return undefined;
    const first = epochs.get(epoch)!;
    const e = epoch;
    const fits = (r: RecvFact) => {
      const there = atSeq.get(conv + SEP + e + SEP + r.seq);
      return !across(first, r.at) && (!there || there.has(r.from + SEP + r.cmid));
    };
    return group.every(fits) ? epoch : undefined;
  };
  const settle = (k: string, group: RecvFact[], epoch: string) => resolved.set(k, { epoch, lowest: group.reduce((a, r) => Math.min(a, r.seq), Infinity) });
  // By votes first, pass after pass: a group placed by them makes its receipts name that epoch
  // for the groups left (a message only frame-less devices received before the one that got
  // it after a conv frame; review 2026-12-05, case M: a message split between e1 and '' failed
  // `inflight`). Bounded: a chain longer than PLACEMENT_PASSES stays unplaced, as recorded.
  for (let pass = 0, placedSome = true; placedSome && pass < PLACEMENT_PASSES; pass++) {
    placedSome = false;
    for (const [k, group] of groups) {
      if (resolved.has(k)) continue;
      const epoch = choose(group, false);
      if (epoch === undefined) continue;
      settle(k, group, epoch);
      placedSome = true;
      for (const r of group) {
        add(holders, r.conv + SEP + r.seq + SEP + r.from + SEP + r.cmid, epoch);
        add(atSeq, r.conv + SEP + epoch + SEP + r.seq, r.from + SEP + r.cmid);
      }
    }
  }
  // then by what was seen before the welcome, for the rest (not passed on: a guess)
  for (const [k, group] of groups) {
    if (resolved.has(k)) continue;
    const epoch = choose(group, true);
    if (epoch !== undefined) settle(k, group, epoch);
  }
  if (!resolved.size) return { facts, recorded };
  const place = (conn: string, conv: string) => resolved.get(conn + SEP + conv);
  const out = facts.map((f) => {
    let copy: Fact = f;
    if ((f.k === 'recv' || f.k === 'ack_ahead') && f.epoch === UNANNOUNCED) {
      const p = place(f.conn, f.conv);
      if (p) copy = { ...f, epoch: p.epoch };
    } else if (f.k === 'window' && f.unacked.some((u) => u.epoch === UNANNOUNCED && place(f.conn, u.conv))) {
      // the simulated device's view of a conversation it was never sent a conv frame for
      // begins with nothing acked (sim-client.ts onMsg), so a window may count seqs below any
      // it received; what this connection held unacked starts at the first seq it received
      // here (less strict where that view began on an earlier connection, never stricter)
      copy = {
        ...f,
        unacked: f.unacked.flatMap((u) => {
          const p = u.epoch === UNANNOUNCED ? place(f.conn, u.conv) : undefined;
          if (!p) return [u];
          const from = Math.max(u.from, p.lowest);
          return from <= u.to ? [{ ...u, epoch: p.epoch, from }] : [];
        }),
      };
    }
    if (copy !== f) recorded.set(copy, f);
    return copy;
  });
  return { facts: out, recorded };
}

/** The message at (epoch, seq) with this identity, created on first sight. */
function message(e: EpochLog, conv: string, seq: number, from: string, cmid: string): Message {
  let m = e.msgs.get(seq);
  if (!m) {
    m = { conv, epoch: e.epoch, seq, from, cmid, acked: [], receivedBy: new Map() };
    e.msgs.set(seq, m);
    return m;
  }
  for (let x: Message | undefined = m; x; x = x.other) if (x.from === from && x.cmid === cmid) return x;
  const n: Message = { conv, epoch: e.epoch, seq, from, cmid, acked: [], receivedBy: new Map(), other: m.other };
  m.other = n;
  return n;
}

/** Facts naming a client, per client, in recorded order (built on first use: only witnesses need it). */
export function clientFacts(ix: FactIndex, client: string): readonly Fact[] {
  let m = ix.lazy.byClient;
  if (!m) {
    m = ix.lazy.byClient = new Map();
    for (const f of ix.input.facts) {
      if (f.k === 'member') continue;
      const l = m.get(f.client);
      if (l) l.push(f);
      else m.set(f.client, [f]);
    }
  }
  return m.get(client) ?? [];
}

export function cmidKey(conv: string, from: string, cmid: string): string {
  return conv + SEP + from + SEP + cmid;
}

/**
 * What each (conv, sender, cmid) was seen as, from the messages: per (epoch, seq) its
 * earliest fact among its first receipt and its acked sends (sends whose epoch is only
 * guessed by time left out). Built on first use.
 */
export function cmidLogs(ix: FactIndex): Map<string, CmidLog> {
  if (ix.lazy.cmids) return ix.lazy.cmids;
  const cmids = new Map<string, CmidLog>();
  for (const c of ix.convs.values()) {
    for (const e of c.epochs.values()) {
      for (const m of messagesOf(e)) {
        let fact: SendFact | RecvFact | undefined = m.firstRecv;
        for (const s of m.acked) if (!ix.guessedEpoch.has(s) && (!fact || s.sentAt < factTime(fact))) fact = s;
        if (!fact) continue;
        const key = cmidKey(m.conv, m.from, m.cmid);
        const log = cmids.get(key);
        const seen = { epoch: e.epoch, seq: m.seq, fact, received: m.firstRecv !== undefined };
        if (log) log.seen.push(seen);
        else cmids.set(key, { conv: m.conv, from: m.from, cmid: m.cmid, seen: [seen] });
      }
    }
  }
  return (ix.lazy.cmids = cmids);
}

/**
 * The epoch a send belongs to, most certain source first. `wipesBackAt`: when each wiped
 * store took commands again (else when the wipe began); `wipes`: each wipe's start and back;
 * `clockErrorMs`: the sender's clock against the orchestrator's, which timed the wipes.
 */
function sendEpoch(s: SendFact, from: string, c: ConvLog, all: EpochLog[], wipesBackAt: readonly number[], wipes: readonly StoreWipe[], clockErrorMs: number): { epoch: string; source: EpochSource } {
  if (s.epoch !== undefined) return { epoch: s.epoch, source: 'recorded' };
  const t = s.answeredAt ?? s.sentAt;
  // written once a wiped store was back, it was stored by that store or a later one: an epoch
  // first seen before the wipe began went with it and cannot hold it, whether a receipt of the
  // same seq, sender and cmid names it (a resend after the wipe, stored again at the same seq of
  // the new incarnation: review 2026-12-05, F2 control, where x1 was filed under e1 and never
  // checked) or only the time would guess it. Judged by when the last attempt was written, not
  // by when its answer was read: a reply the old store gave can be read after the new one is
  // up (a slow client link, a paused node or device; review of a3c7f47, case A). A wipe whose
  // store never came back (back = start) began no incarnation. One first seen while the wipe
  // was under way may be either incarnation and is kept.
  const takenBefore = (e: EpochLog) => wipes.some((w) => w.back > w.start && w.back + clockErrorMs <= s.sentAt && e.firstAt < w.start);
  let takenReceipt: EpochLog | undefined;
  if (s.seq !== undefined) {
    for (const e of all) {
      for (let m = e.msgs.get(s.seq); m; m = m.other) {
        if (m.from !== from || m.cmid !== s.cmid || !m.firstRecv) continue;
        if (!takenBefore(e)) return { epoch: e.epoch, source: 'receipt' };
        takenReceipt ??= e;
      }
    }
  }
  // answered before a wiped store was back, it was stored before the wipe: an epoch first seen
  // after that is a later incarnation of the conversation and cannot hold it (found by imstorm
  // explore --volatile on the correct server, 2026-12-02: a dm's only message before a Redis
  // restart, answered 9 ms before it and never delivered, was guessed into the epoch the
  // restart began and judged lost)
  const epochs = wipesBackAt.length ? all.filter((e) => !wipesBackAt.some((w) => t < w && w <= e.firstAt) && !takenBefore(e)) : all;
  // no epoch of the new incarnation was ever seen, but receipts of this very message are filed
  // under one the wipe took: a server that pushed the new incarnation without a conv frame has
  // its devices file it under the old id (the redis-volatile control epoch_unannounced, where
  // `order` names that id); judged there, as the receipts are
  if (epochs.length === 0 && takenReceipt) return { epoch: takenReceipt.epoch, source: 'receipt' };
  if (epochs.length === 0) return wipesBackAt.some((w) => t < w) ? { epoch: WIPED_EPOCH, source: 'wiped' } : { epoch: '', source: 'none' };
  if (epochs.length === 1) return { epoch: epochs[0]!.epoch, source: 'only' };
  let pick = epochs[0]!;
  for (const e of epochs) if (e.firstAt <= t) pick = e;
  return { epoch: pick.epoch, source: 'time' };
}

/**
 * When the store lost a message of epoch `e` of `c` (not its current epoch) stored no earlier
 * than `storedLow`, at the earliest: the start of the first store wipe not over by then (a
 * SIGTERMed Redis goes on answering into its wipe, and loses what it stored then too). Until
 * then what was stored was there, so a live delivery due before it is owed as any other.
 * Undefined when no wipe follows, when `e` was first seen before the previous wipe began, or
 * when another epoch of the conversation was first seen between the two wipes: one incarnation
 * was then superseded with no wipe recorded, and nothing bounds when it was lost. (`''`,
 * receipts filed under no epoch, is no incarnation and does not count as one.)
 */
export function wipedAt(ix: FactIndex, c: ConvLog, e: EpochLog, storedLow: number): number | undefined {
  const i = ix.wipes.findIndex((w) => w.back > storedLow);
  if (i < 0) return undefined;
  const prev = i > 0 ? ix.wipes[i - 1]!.start : -Infinity;
  const at = ix.wipes[i]!.start;
  if (e.firstAt < prev) return undefined;
  for (const o of c.epochs.values()) if (o !== e && o.epoch !== UNANNOUNCED && o.firstAt >= prev && o.firstAt < at) return undefined;
  return at;
}

/** When a fact happened: `at`, or for a send the time it was written. */
export function factTime(f: Fact): number {
  return f.k === 'send' ? f.sentAt : f.at;
}

/** Every message of a conversation epoch, the reused-seq ones included. */
export function* messagesOf(e: EpochLog): Generator<Message> {
  for (const m of e.msgs.values()) for (let x: Message | undefined = m; x; x = x.other) yield x;
}

/** The client's connection welcomed last at or before `t`, if any. */
export function connAt(ix: FactIndex, client: string, t: number): ConnLife | undefined {
  const l = ix.welcomedByClient.get(client);
  if (!l) return undefined;
  let lo = 0;
  let hi = l.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (l[mid]!.welcome!.at <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? l[lo - 1] : undefined;
}

/** `t+12.345s` from the run's start: readable and stable in witness messages. */
/** Every connection's life, by the user of its client. */
export function connLivesByUser(ix: FactIndex): Map<string, ConnLife[]> {
  const livesOf = new Map<string, ConnLife[]>();
  for (const life of ix.conns.values()) {
    const u = userOf(life.client);
    const l = livesOf.get(u);
    if (l) l.push(life);
    else livesOf.set(u, [life]);
  }
  return livesOf;
}

export function fmtT(ix: FactIndex, t: number): string {
  return `t+${((t - ix.runStart) / 1000).toFixed(3)}s`;
}

/** The acked send of a message answered first. */
export function firstAck(m: Message): SendFact {
  let best = m.acked[0]!;
  for (const s of m.acked) if ((s.answeredAt ?? s.sentAt) < (best.answeredAt ?? best.sentAt)) best = s;
  return best;
}

/** The device's acks above what it held in `conv`, if any. */
export function acksAheadOf(ix: FactIndex, client: string, conv: string): readonly AckAheadFact[] {
  return ix.acksAhead.get(client + SEP + conv) ?? [];
}

/**
 * The ack above what it held by which `client` may have given up `m` (client mode `ahead`):
 * one that claimed m.seq without holding it, handled (by `until`) when m may already have
 * been stored (its earliest possible store time, storedLow, not after). A server that clamps
 * to the head can have moved the cursor past m only then; a message stored later is owed.
 */
export function forfeitedByAckAhead(ix: FactIndex, client: string, m: Message): AckAheadFact | undefined {
  const low = m.storedLow ?? -Infinity;
  return acksAheadOf(ix, client, m.conv).find((a) => a.epoch === m.epoch && a.held < m.seq && a.seq >= m.seq && low <= a.until);
}

/** The device's acks above what it held in the message's conversation: a clamp that did not happen shows here. `what` names the message in the sentence. */
export function aheadNote(ix: FactIndex, client: string, m: Message, what = 'this message'): string {
  const acks = acksAheadOf(ix, client, m.conv).filter((a) => a.epoch === m.epoch);
  if (!acks.length) return '';
  const a = acks.find((x) => x.held < m.seq && x.seq >= m.seq);
  if (!a) return `; the device acked ahead ${acks.length} time(s) in ${m.conv}, none of them past seq ${m.seq}`;
  return `; the device acked ahead: ack ${a.seq} while holding ${a.held} at ${fmtT(ix, a.at)} (${a.answered ? 'answered ok' : 'unanswered'} by ${fmtT(ix, a.until)}), before ${what} was stored (not before ${fmtT(ix, m.storedLow ?? 0)}): clamped to the head, that ack could not cover it`;
}
