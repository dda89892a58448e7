import type { Logger } from 'pino';
import { CloseCode, ProtocolError } from '../protocol/codes.ts';
import { convForUser, parseConv } from '../protocol/ids.ts';
import { encode } from '../protocol/server-frames.ts';
import { capturing } from '../capture/capture.ts';
import { Conn, ConnConv } from '../gateway/connection.ts';
import { textFrame, type TextFrame } from '../gateway/ws-frame.ts';
import type { ConvState, LogEntry } from '../store/log.ts';
import type { Stores } from '../store/stores.ts';
import type { Metrics } from '../observability/metrics.ts';
import { ConvChannel, type ChannelIO } from './channel.ts';
import { CoalescedWork } from '../util/coalesced.ts';
import { Semaphore } from '../util/semaphore.ts';
import { nextTurn } from '../util/next-turn.ts';
import { statesInBatches } from '../store/batched-states.ts';
import { cursorOfOtherEpoch, ownCursor, owedAfter, type Owed } from './cursor.ts';

export interface HubOptions {
  backlogLimit: number;
  slowConsumerBytes: number;
}

type Chan = ConvChannel<Conn, ConnConv>;

/** The attaches under way of one connection to one conversation (Hub.attaching). */
interface Attaching {
  conv: string;
  n: number;
  /** the last of them ended, or one failed */
  ended: Promise<void>;
  end: () => void;
  /** one of them failed: its read, or its backlog's (which then retries on its own) */
  failed: boolean;
}

/** Replay waits for the socket to drain past this many unsent bytes. */
const PACE_BYTES = 256 * 1024;
const REPLAY_BATCH = 100;
/**
 * Connect-sync and replay reads of the whole node in flight at once: a connect storm's
 * reads then queue here, not on the node's Redis link ahead of other users' sends.
 */
const SYNC_READS = 64;
/** a resync's conversations per heads read, membership reads at once, user indexes at once */
const RESYNC_HEADS = 500;
const RESYNC_MEMBERSHIPS = 50;
const RESYNC_USERS = 32;
/** reads of a conversation's state again after a leave crossed them, before its attach gives up (and is retried or the connection closed) */
const READ_AGAIN_ROUNDS = 5;

/** Where a resync got to: a failed run goes on from here; a new request starts a fresh plan. */
interface ResyncPlan {
  convs: string[];
  convsDone: number;
  users: string[];
  usersDone: number;
}

/** A `gap` frame from a replay (recorded when the connection is captured). */
function sendGap(conn: Conn, conv: string, from: number, to: number, trimmed: boolean): void {
  if (conn.captured) capturing?.out(conn, { t: 'gap', conv, from, to, trimmed });
  conn.send(encode.gap(conv, from, to, trimmed));
}

/**
 * Delivery on one node: which local connections hold which conversations, the ordering
 * channel per conversation, backlog replay and live push, and the resync after the bus
 * lost messages. Subscribe before you read: a connection joins its conversation's channel
 * before anything is read for it, and a channel captures bus messages before the head is
 * read, so nothing falls in between.
 */
export class Hub {
  /** user → its local connections (most users have one, so a lone Conn is kept as itself) */
  private readonly byUser = new Map<string, Conn | Set<Conn>>();
  readonly conns = new Map<string, Conn>();
  private readonly chans = new Map<string, Chan>();
  private readonly store: Pick<Stores, 'log' | 'cursors' | 'groups'>;
  private readonly log: Logger;
  private readonly opts: HubOptions;
  private readonly metrics: Metrics;
  private readonly resyncs: CoalescedWork;
  /** the bus link dropped and no resync has begun since */
  private busDown = false;
  private readonly syncReads = new Semaphore(SYNC_READS);
  /**
   * `conn id + "\n" + conv` → attaches under way (so a burst of a new dm's messages starts one,
   * not one each), when the last of them ends, and whether one failed (its read, or its
   * backlog's: it retries later). A connect sync that left the conversation to them waits for
   * that end before `synced`, and fails the handshake when one failed.
   */
  private readonly attaching = new Map<string, Attaching>();
  /** every attach of a connection begun while its connect sync runs (one that failed and ended early included) */
  private readonly syncAttaches = new WeakMap<Conn, Attaching[]>();
  private resyncPlan: ResyncPlan | null = null;
  /** a resync was requested since the current plan was made: start over */
  private resyncFresh = false;

  constructor(store: Pick<Stores, 'log' | 'cursors' | 'groups'>, log: Logger, metrics: Metrics, opts: HubOptions) {
    this.store = store;
    this.log = log;
    this.metrics = metrics;
    this.opts = opts;
    this.resyncs = new CoalescedWork(() => this.resync(), (err) => this.log.warn({ err: String(err) }, 'resync failed; retrying'));
  }

  get channelCount(): number {
    return this.chans.size;
  }

  // ---- connections ------------------------------------------------------------

  /** The user's open connections on this node. */
  connsOf(user: string): readonly Conn[] {
    const v = this.byUser.get(user);
    return v === undefined ? [] : v instanceof Set ? [...v] : [v];
  }

  get userCount(): number {
    return this.byUser.size;
  }

  localUsers(): string[] {
    return [...this.byUser.keys()];
  }

  addConn(conn: Conn): void {
    this.conns.set(conn.id, conn);
    const v = this.byUser.get(conn.user);
    if (v === undefined) this.byUser.set(conn.user, conn);
    else if (v instanceof Set) v.add(conn);
    else if (v !== conn) this.byUser.set(conn.user, new Set([v, conn]));
  }

  removeConn(conn: Conn): void {
    this.conns.delete(conn.id);
    const v = this.byUser.get(conn.user);
    if (v === conn) this.byUser.delete(conn.user);
    else if (v instanceof Set) {
      v.delete(conn);
      if (v.size === 1) this.byUser.set(conn.user, v.values().next().value!);
      else if (v.size === 0) this.byUser.delete(conn.user);
    }
    for (const conv of conn.convs) {
      const cc = conn.views?.get(conv);
      if (cc) this.detach(cc);
      else {
        const ch = this.chans.get(conv);
        if (!ch) continue;
        ch.quiet?.delete(conn);
        ch.told?.delete(conn);
        this.dropIfUnheld(ch);
      }
    }
    conn.convs = [];
    conn.views = null;
  }

  /** `conn` holds `conv`: caught up in it, or through a view. */
  private holds(conn: Conn, conv: string): boolean {
    if (conn.views?.has(conv)) return true;
    const ch = this.chans.get(conv);
    return ch !== undefined && (ch.quiet?.has(conn) === true || ch.told?.has(conn) === true);
  }

  /**
   * The connect sequence after `welcome`: every conversation of the user with news gets
   * `conv`, gaps and its backlog, one conversation after another; then `synced`.
   */
  async syncOnConnect(conn: Conn): Promise<void> {
    const attaches: Attaching[] = [];
    this.syncAttaches.set(conn, attaches);
    try {
      await this.syncConvs(conn, attaches);
    } finally {
      this.syncAttaches.delete(conn);
    }
  }

  private async syncConvs(conn: Conn, attaches: readonly Attaching[]): Promise<void> {
    // The device's cursors are read with the index, not after it: a cursor read earlier is
    // at most older, so at most more is replayed (the states' read was never ordered after
    // the cursors' either, on another link), and a connect waits one round trip less.
    const [convs, cursors] = await this.syncReads.run(() => Promise.all([this.store.groups.userConvs(conn.user), this.store.cursors.cursors(conn.user, conn.device)]));
    const pinned = convs.map((c) => this.pin(c));
    try {
      const states = await this.readStates(convs, pinned, (cs) => statesInBatches(this.store.log, this.syncReads, conn.user, cs));
      // closed while the reads ran: its close has left the hub already (removeConn), so
      // nothing would ever take off what is attached from here on
      if (!conn.isOpen) return;
      const ccs: { cc: ConnConv; st: ConvState; force: boolean }[] = [];
      const stale: string[] = [];
      for (let i = 0; i < convs.length; i++) {
        const conv = convs[i]!;
        const st = states[i]!;
        const chan = pinned[i]!;
        chan.start(st.epoch, st.head);
        if (st.join < 0) {
          // A dm's users index it before its first message is stored (join reads -1 until
          // its meta exists): not a stale entry. Forgetting it would lose the conversation
          // for every later connection of the user once the message lands; its first
          // message reaches this connection live (attachDmUsers).
          if (conv.startsWith('g:') || st.epoch !== null) stale.push(conv);
          continue;
        }
        // an attach of this connection (a join's or a dm message's bus event came during these
        // reads) ran or runs meanwhile: it does this conversation's part, the earlier
        // membership's included
        if (st.epoch !== null && conn.finished?.has(conv)) continue;
        if (st.epoch !== null && this.attaching.has(conn.id + '\n' + conv)) continue;
        if (st.epoch === null || this.holds(conn, conv)) {
          // dm without a message yet: attach so its first message flows live.
          if (st.epoch === null && !this.holds(conn, conv)) this.attach(conn, chan, conv, null, 0);
          continue;
        }
        const stored = cursors.get(conv);
        // the first membership this device lacks part of (a former member: only what was
        // stored while it was one); the later ones follow it (detachFromConn's rejoin)
        const owed = owedAfter(st, ownCursor(st, stored));
        if (!owed) continue;
        const cc = this.attach(conn, chan, conv, st.epoch, owed.from);
        this.bound(cc, owed);
        ccs.push({ cc, st, force: cursorOfOtherEpoch(st, stored) });
      }
      // as long as it is: an array grown by push keeps room for 16 more
      conn.convs = conn.convs.slice();
      if (stale.length) void this.store.groups.forgetConvs(conn.user, stale).catch(() => {});
      for (const { cc, st, force } of ccs) {
        if (!conn.isOpen) return;
        if (!(await this.replay(cc, st.trimmed, st.head, force))) throw new Error(`reading the backlog of ${cc.conv} failed during the connect sync`);
      }
      // Then every attach of this connection to these conversations begun since the sync did:
      // those it left conversations to above, and those its replays started for a later
      // membership (detachFromConn's rejoin walk, one after another: at most MEMBERSHIPS_KEPT).
      // Their frames belong before `synced` too (PROTOCOL.md, Connect 3). One that failed
      // would send its rest after `synced`, from a retry: the handshake fails instead (1013).
      // `attaches` grows while this waits.
      const mine = new Set(convs);
      for (let i = 0; i < attaches.length; i++) {
        const a = attaches[i]!;
        if (!mine.has(a.conv)) continue;
        await a.ended;
        if (!conn.isOpen) return;
        if (a.failed) throw new Error(`attaching ${a.conv} failed during the connect sync`);
      }
      if (conn.captured) capturing?.out(conn, { t: 'synced' });
      conn.send(encode.synced());
    } finally {
      for (const c of convs) this.unpin(c);
    }
  }

  /**
   * A conversation that became the connection's while it is open (join, first dm message).
   * `earlierOwed`: a join of a connection that never held the conversation (e.g. its connect
   * sync is still reading): what it lacks of an earlier membership is owed first, as at connect.
   */
  async attachLater(conn: Conn, conv: string, joinSeq: number, attempt = 0, earlierOwed = false): Promise<void> {
    if (!conn.isOpen || this.holds(conn, conv)) return;
    // counted, never refused: a join's attach must run even while another attach reads
    const key = conn.id + '\n' + conv;
    let under = this.attaching.get(key);
    if (under) under.n++;
    else {
      let end = (): void => {};
      const ended = new Promise<void>((r) => (end = r));
      this.attaching.set(key, (under = { conv, n: 1, ended, end, failed: false }));
      this.syncAttaches.get(conn)?.push(under);
    }
    const chan = this.pin(conv);
    try {
      const [states, cursor] = await Promise.all([this.readStates([conv], [chan], (cs) => this.store.log.states(conn.user, cs)), this.store.cursors.cursorOf(conn.user, conn.device, conv)]);
      const st = states[0]!;
      if (!conn.isOpen || this.holds(conn, conv)) return;
      chan.start(st.epoch, st.head);
      if (st.join < 0) return;
      const done = conn.finished?.get(conv);
      const own = ownCursor(st, cursor);
      // owed from `joinSeq` (a join point, or where an earlier membership's view ended) and
      // past what this connection finished; a connection new to the conversation, from its cursor
      const after = earlierOwed && !done ? own : Math.max(own, joinSeq, done && done.epoch === st.epoch ? done.pos : 0);
      const owed = owedAfter(st, after);
      if (!owed) return;
      const cc = this.attach(conn, chan, conv, st.epoch, owed.from);
      this.bound(cc, owed);
      if (!(await this.replay(cc, st.trimmed, st.head, false))) {
        under.failed = true;
        under.end();
      }
    } catch (err) {
      under.failed = true;
      under.end();
      if (attempt < 30 && conn.isOpen) {
        const t = setTimeout(() => void this.attachLater(conn, conv, joinSeq, attempt + 1, earlierOwed), 1000);
        t.unref();
      } else this.log.warn({ err: String(err), conv, conn: conn.id }, 'giving up attaching a conversation');
    } finally {
      if (--under.n === 0) {
        this.attaching.delete(key);
        under.end();
      }
      this.unpin(conv);
    }
  }

  /**
   * The states of conversations about to be attached (their channels pinned), read again
   * for those whose channel saw a leave while the reads were out. Such a leave found no
   * view to end and its store write may postdate the answer, so an answer saying "member"
   * would attach a user who has left, for good (found by `imstorm explore --model`). The
   * leave is stored before it is published, so a read begun after its bus event sees it.
   */
  private async readStates(convs: readonly string[], chans: readonly Chan[], read: (convs: string[]) => Promise<ConvState[]>): Promise<ConvState[]> {
    let seen = chans.map((c) => c.leaves);
    const states = await read(convs.slice());
    for (let round = 0; ; round++) {
      const moved = chans.flatMap((c, i) => (c.leaves !== seen[i] ? [i] : []));
      if (!moved.length) return states;
      if (round === READ_AGAIN_ROUNDS) throw new Error(`membership of ${convs[moved[0]!]} kept changing while its state was read (${READ_AGAIN_ROUNDS} reads)`);
      seen = chans.map((c) => c.leaves);
      const again = await read(moved.map((i) => convs[i]!));
      moved.forEach((i, k) => (states[i] = again[k]!));
    }
  }

  private attach(conn: Conn, chan: Chan, conv: string, epoch: string | null, pos: number): ConnConv {
    // the channel's strings, not this user's own copies read from the store: one conv and
    // one epoch string per conversation on the node instead of one per connection
    const cc = new ConnConv(conn, chan.conv, epoch !== null && epoch === chan.epoch ? chan.epoch : epoch, pos);
    (conn.views ??= new Map()).set(chan.conv, cc);
    (chan.views ??= new Set()).add(cc);
    conn.convs.push(chan.conv);
    return cc;
  }

  /** Takes a view off its channel (the connection's own records are the caller's). */
  private detach(cc: ConnConv): void {
    cc.replayGen++;
    cc.live = false;
    const chan = this.chans.get(cc.conv);
    if (!chan) return;
    chan.views?.delete(cc);
    if (chan.views?.size === 0) chan.views = null;
    this.dropIfUnheld(chan);
  }

  private dropIfUnheld(chan: Chan): void {
    if (chan.pins <= 0 && chan.unheld) this.chans.delete(chan.conv);
  }

  /**
   * A live view that has caught up with its channel (everything up to `last` sent, in the
   * channel's epoch, no leave owed) gives way to plain membership: the channel pushes to
   * the connection from here on with no view (see ConvChannel.quiet).
   */
  private settle(ch: Chan, cc: ConnConv): void {
    if (!cc.live || cc.until !== Infinity || cc.epoch === null || cc.epoch !== ch.epoch || cc.pos !== ch.last || !ch.isLive) return;
    const conn = cc.conn;
    if (conn.views?.get(cc.conv) !== cc) return;
    // any replay or retry of it stops: it is not current any more
    cc.replayGen++;
    cc.live = false;
    ch.views!.delete(cc);
    if (ch.views!.size === 0) ch.views = null;
    conn.views.delete(cc.conv);
    if (conn.views.size === 0) conn.views = null;
    if (cc.announced) (ch.told ??= new Set()).add(conn);
    else (ch.quiet ??= new Set()).add(conn);
  }

  /** The view of a caught-up member (a leave, a membership change or a new epoch needs one). */
  private viewOf(ch: Chan, conn: Conn): ConnConv {
    const announced = ch.told?.delete(conn) === true;
    ch.quiet?.delete(conn);
    const cc = new ConnConv(conn, ch.conv, ch.epoch, ch.last);
    cc.live = true;
    cc.announced = announced;
    (conn.views ??= new Map()).set(ch.conv, cc);
    (ch.views ??= new Set()).add(cc);
    return cc;
  }

  private pin(conv: string): Chan {
    let chan = this.chans.get(conv);
    if (!chan) {
      chan = new ConvChannel<Conn, ConnConv>(conv, this.channelIO);
      if (conv.startsWith('dm:')) {
        const ref = parseConv(conv);
        if (ref?.kind === 'dm') chan.dmUsers = [ref.a, ref.b];
      }
      // opened while the bus is down: held like the others until the resync
      if (this.busDown) chan.hold();
      this.chans.set(conv, chan);
    }
    chan.pins++;
    return chan;
  }

  private unpin(conv: string): void {
    const chan = this.chans.get(conv);
    if (!chan) return;
    chan.pins--;
    this.dropIfUnheld(chan);
  }

  /** One IO object for every channel of this node. */
  private readonly channelIO: ChannelIO<Conn, ConnConv> = {
    fetch: async (ch, from, to, count): Promise<LogEntry[]> => {
      this.metrics.gapFills.inc();
      if (!ch.conv.startsWith('g:')) return this.store.log.range(ch.conv, from, to, count);
      // A log read can run ahead of the bus: a leave published before these messages may
      // not have arrived yet. Membership read after the log (same link, so applied after
      // it) tells which of the local members left before what the read returned.
      const [entries] = await Promise.all([this.store.log.range(ch.conv, from, to, count), this.reconcileMembership(ch.conv, true)]);
      return entries;
    },
    deliver: (ch, seq, frame) => {
      if (ch.unheld) return;
      // Serialized and framed once per node: the same bytes go to every local recipient.
      const bytes = textFrame(frame);
      // caught up: each has been sent seq - 1 (the channel hands seqs over in order)
      if (ch.told) for (const conn of ch.told) this.push(conn, ch.conv, seq, bytes);
      const quiet = ch.quiet;
      if (quiet) {
        ch.quiet = null;
        const told = (ch.told ??= new Set());
        for (const conn of quiet) {
          this.tellConv(conn, ch.conv, ch.epoch ?? '', seq - 1, seq);
          told.add(conn);
          this.push(conn, ch.conv, seq, bytes);
        }
      }
      if (!ch.views) return;
      for (const cc of ch.views) {
        if (!cc.live) continue;
        if (seq <= cc.pos) {
          this.settle(ch, cc);
          continue;
        }
        if (seq > cc.until) {
          this.detachFromConn(cc);
          continue;
        }
        if (seq !== cc.pos + 1) {
          // cannot happen while the channel is ordered; recover by replaying from the log
          cc.live = false;
          void this.replay(cc, 0, ch.last, false);
          continue;
        }
        this.announce(cc, seq);
        cc.pos = seq;
        this.push(cc.conn, ch.conv, seq, bytes);
        if (seq >= cc.until) this.detachFromConn(cc);
        else this.settle(ch, cc);
      }
    },
    skipped: (ch, from, to) => {
      // caught up: each has been sent from - 1 (the channel skips from its `last`)
      if (ch.told || ch.quiet) {
        const gap = encode.gap(ch.conv, from, to, true);
        if (ch.told)
          for (const conn of ch.told) {
            if (conn.captured) sendGap(conn, ch.conv, from, to, true);
            else conn.send(gap);
          }
        const quiet = ch.quiet;
        if (quiet) {
          ch.quiet = null;
          const told = (ch.told ??= new Set());
          for (const conn of quiet) {
            // the head is at least `to`: seqs up to it were stored (a conv frame's head below the gap after it would be false)
            this.tellConv(conn, ch.conv, ch.epoch ?? '', from - 1, to);
            told.add(conn);
            if (conn.captured) sendGap(conn, ch.conv, from, to, true);
            else conn.send(gap);
          }
        }
      }
      for (const cc of [...(ch.views ?? [])]) {
        if (!cc.live) continue;
        // a leave the fill's own membership read brought (reconcileMembership) may have moved
        // the view's end below `to`: nothing past the leave is the device's
        const end = Math.min(to, cc.until);
        if (end > cc.pos) {
          // `last` is still below `from` here (the channel moves it after this call)
          this.announce(cc, Math.max(ch.last, end));
          if (cc.conn.captured) capturing?.out(cc.conn, { t: 'gap', conv: ch.conv, from: Math.max(from, cc.pos + 1), to: end, trimmed: true });
          cc.conn.send(encode.gap(ch.conv, Math.max(from, cc.pos + 1), end, true));
          cc.pos = end;
        }
        if (cc.pos >= cc.until) this.detachFromConn(cc);
      }
    },
    epochChanged: (ch, epoch) => {
      // nobody is caught up in an epoch that just began: every member replays it
      for (const conn of [...(ch.told ?? []), ...(ch.quiet ?? [])]) this.viewOf(ch, conn);
      for (const cc of ch.views ?? []) {
        cc.epoch = epoch;
        cc.pos = 0;
        cc.until = Infinity;
        cc.announced = false;
        cc.live = false;
        // the group's join points did not survive either: the whole new epoch is theirs
        void this.replay(cc, 0, 0, false);
      }
    },
    fillFailed: (ch, err) => {
      this.log.warn({ err: String(err), conv: ch.conv }, 'gap fill failed; will retry on resync');
    },
  };

  /** One live message to one connection. */
  private push(conn: Conn, conv: string, seq: number, bytes: TextFrame): void {
    if (conn.captured) capturing?.msg(conn, conv, seq, 'live');
    conn.send(bytes);
    this.metrics.deliveries.inc();
    if (conn.ws.bufferedAmount > this.opts.slowConsumerBytes + PACE_BYTES) {
      if (conn.closeNow(CloseCode.slowConsumer, 'slow consumer')) {
        this.metrics.slowConsumers.inc();
        this.metrics.closes.inc({ code: String(CloseCode.slowConsumer) });
      }
    }
  }

  /** Reads the membership of the group's local members and applies it (see applyMembership); `afterLog`: as ConversationLog.states. */
  private async reconcileMembership(conv: string, afterLog = false): Promise<void> {
    const ch = this.chans.get(conv);
    if (!ch || !conv.startsWith('g:') || ch.unheld) return;
    const members = (): (Conn | ConnConv)[] => [...(ch.told ?? []), ...(ch.quiet ?? []), ...(ch.views ?? [])];
    const users = [...new Set(members().map((m) => (m instanceof Conn ? m.user : m.conn.user)))];
    const states = await Promise.all(users.map((u) => this.store.log.states(u, [conv], afterLog)));
    const byUser = new Map(users.map((u, i) => [u, states[i]![0]!]));
    for (const m of members()) {
      const st = byUser.get(m instanceof Conn ? m.user : m.conn.user);
      if (!st) continue;
      if (m instanceof ConnConv) {
        this.applyMembership(m, st);
        continue;
      }
      // caught up: a view only when the membership changes something
      if (st.epoch !== ch.epoch || (st.join >= 0 && st.join <= ch.last && st.left < 0)) continue;
      if (!ch.told?.has(m) && !ch.quiet?.has(m)) continue;
      const cc = this.viewOf(ch, m);
      this.applyMembership(cc, st);
      this.settle(ch, cc);
    }
  }

  /**
   * Membership learnt from the store rather than the bus: a leave sets the connection's
   * last seq; a join point past its position means the user left and joined again
   * meanwhile (PROTOCOL.md: each join restarts at the head), so it starts over from there.
   */
  private applyMembership(cc: ConnConv, st: ConvState): void {
    if (st.epoch !== cc.epoch) return;
    const owed = owedAfter(st, cc.pos);
    if (!owed) {
      cc.until = Math.min(cc.until, cc.pos);
      return;
    }
    if (owed.from > cc.pos) {
      // the user was no member just after cc.pos (it left, and joined again later): end here
      // and go on from the next membership
      cc.until = Math.min(cc.until, cc.pos);
      this.detachFromConn(cc);
      if (cc.conn.state === 'open') void this.attachLater(cc.conn, cc.conv, owed.from);
      return;
    }
    this.bound(cc, { ...owed, until: Math.min(cc.until, owed.until) });
  }

  /**
   * A view owes one membership: it ends where that membership ended, and when a later one
   * follows, the connection goes on from there once the view has reached its end
   * (detachFromConn). A pending point already lower is kept: it still has memberships to walk.
   */
  private bound(cc: ConnConv, owed: Owed): void {
    if (owed.until === Infinity) return;
    cc.until = owed.until;
    if (!owed.more) return;
    const conn = cc.conn;
    const pending = conn.rejoins?.get(cc.conv);
    (conn.rejoins ??= new Map()).set(cc.conv, pending === undefined ? owed.until : Math.min(pending, owed.until));
  }

  private detachFromConn(cc: ConnConv): void {
    const conn = cc.conn;
    if (conn.views?.get(cc.conv) === cc) {
      conn.views.delete(cc.conv);
      if (conn.views.size === 0) conn.views = null;
      const i = conn.convs.indexOf(cc.conv);
      if (i >= 0) conn.convs.splice(i, 1);
      // a leaver's view ends here: a later attach (resync, a repeated join) must not replay below it
      if (cc.until !== Infinity) (conn.finished ??= new Map()).set(cc.conv, { epoch: cc.epoch, pos: cc.pos });
      // a later membership follows the one this view owed: go on from there (its `finished`
      // stays, so that attach never replays what this view sent)
      const rejoin = conn.rejoins?.get(cc.conv);
      if (rejoin !== undefined) {
        conn.rejoins!.delete(cc.conv);
        if (conn.state === 'open') void this.attachLater(conn, cc.conv, rejoin);
      }
    }
    this.detach(cc);
  }

  private announce(cc: ConnConv, head: number): void {
    if (cc.announced) return;
    cc.announced = true;
    this.tellConv(cc.conn, cc.conv, cc.epoch ?? '', cc.pos, Math.max(head, cc.pos));
  }

  /** The `conv` frame: the connection's position in the conversation's epoch, and its head. */
  private tellConv(conn: Conn, conv: string, epoch: string, pos: number, head: number): void {
    if (conn.captured) capturing?.out(conn, { t: 'conv', conv, seq: pos });
    conn.send(encode.conv(conv, epoch, pos, head));
  }

  /**
   * Sends the connection its conversation from cc.pos on, paced by the socket draining,
   * until it has reached what the channel delivered and the head the store said
   * (storeHead); then the channel pushes live.
   * False when a store read failed: it goes on from a retry 500 ms later (past the 60th, the
   * connection is closed 1013), so the caller cannot count its frames as sent yet.
   */
  async replay(cc: ConnConv, trimmed: number, storeHead: number, forceAnnounce: boolean, attempt = 0): Promise<boolean> {
    const gen = ++cc.replayGen;
    cc.live = false;
    const conn = cc.conn;
    const ch = this.chans.get(cc.conv);
    if (!ch) return true;
    const epoch = ch.epoch;
    const current = () => cc.replayGen === gen && conn.isOpen && ch.epoch === epoch && conn.views?.get(cc.conv) === cc;
    // storeHead was read in the epoch the view was attached in: when the channel is in
    // another one now, it says nothing of this (an epoch change afterwards ends this replay)
    const owedTo = cc.epoch === epoch ? storeHead : 0;
    try {
      if (cc.epoch !== epoch) {
        cc.epoch = epoch;
        cc.announced = false;
      }
      let head = Math.min(Math.max(owedTo, ch.last), cc.until);
      if (forceAnnounce) this.announce(cc, head);
      if (trimmed > cc.pos && head > cc.pos) {
        const to = Math.min(trimmed, head);
        this.announce(cc, head);
        sendGap(conn, cc.conv, cc.pos + 1, to, true);
        cc.pos = to;
      }
      if (head - cc.pos > this.opts.backlogLimit) {
        const to = head - this.opts.backlogLimit;
        this.announce(cc, head);
        sendGap(conn, cc.conv, cc.pos + 1, to, false);
        cc.pos = to;
      }
      for (;;) {
        if (!current()) return true;
        // Caught up with what the channel delivered: it pushes everything above (a hole
        // it is filling included), in order, from here on. But not short of the head the
        // store said (owedTo): a channel behind the store (its bus has not brought the
        // newest seqs yet, its fill is out) would push those after the caller's `synced`
        // (PROTOCOL.md, Connect 3); the channel skips what a view already has.
        const target = Math.min(cc.until, Math.max(ch.last, owedTo));
        if (cc.pos >= target) break;
        // as in the channel's fills: membership read after the log, so a leave the bus has
        // not brought yet still stops the replay at the leave point
        const [entries, states] = await this.syncReads.run(() => {
          const read = this.store.log.range(cc.conv, cc.pos + 1, cc.until === Infinity ? null : cc.until, REPLAY_BATCH);
          return Promise.all([read, cc.conv.startsWith('g:') ? this.store.log.states(conn.user, [cc.conv], true) : null]);
        });
        if (!current()) return true;
        if (states) {
          this.applyMembership(cc, states[0]!);
          if (!current()) return true;
        }
        head = Math.max(head, ch.last);
        if (entries.length === 0) {
          // retention removed the rest, up to the target; a leave the read brought may have
          // moved the end below it, and nothing past the leave is the device's
          const to = Math.min(target, cc.until);
          if (to <= cc.pos) continue;
          this.announce(cc, head);
          sendGap(conn, cc.conv, cc.pos + 1, to, true);
          cc.pos = to;
          continue;
        }
        let written: Promise<void> | null = null;
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i]!;
          if (e.seq <= cc.pos) continue;
          if (e.seq > cc.until) break;
          this.announce(cc, Math.max(head, e.seq));
          if (e.seq > cc.pos + 1) sendGap(conn, cc.conv, cc.pos + 1, e.seq - 1, true);
          if (conn.captured) capturing?.msg(conn, cc.conv, e.seq, 'backlog');
          if (i === entries.length - 1) written = conn.sendAndDrain(e.frame);
          else conn.send(e.frame);
          cc.pos = e.seq;
        }
        // Paced by the socket: the batch's last frame reaching the kernel means the rest did.
        if (written && conn.ws.bufferedAmount > PACE_BYTES) await written;
      }
      cc.live = true;
      if (cc.pos >= cc.until) this.detachFromConn(cc);
      else this.settle(ch, cc);
      return true;
    } catch (err) {
      if (!current()) return true;
      if (attempt < 60) {
        const t = setTimeout(() => {
          if (current()) void this.replay(cc, trimmed, owedTo, false, attempt + 1);
        }, 500);
        t.unref();
      } else {
        this.log.warn({ err: String(err), conv: cc.conv }, 'replay failed; closing the connection so it resumes from its cursor');
        if (conn.closeNow(CloseCode.tryAgainLater, 'store unavailable')) this.metrics.closes.inc({ code: String(CloseCode.tryAgainLater) });
      }
      return false;
    }
  }

  // ---- bus events ----------------------------------------------------------------

  onMessage(conv: string, epoch: string, seq: number, frame: string): void {
    const chan = this.chans.get(conv);
    if (chan) {
      chan.onBus(epoch, seq, frame);
      // The channel may exist for one user of a new dm only (a resync read that user's index
      // after the dm began and the other's before): the other's connections join it now.
      // The channel's own strings: their hashes are kept, the bus's fresh ones would be computed again.
      if (chan.dmUsers) this.attachDmUsers(chan.conv, chan.dmUsers, null);
      return;
    }
    // A dm's first message reaches its users' open connections with no reconnect.
    const ref = parseConv(conv);
    if (ref?.kind === 'dm') this.attachDmUsers(conv, [ref.a, ref.b], { epoch, seq, frame });
  }

  /** Attaches the local open connections of a dm's two users that do not hold it yet (none, mostly: checked without allocating). */
  private attachDmUsers(conv: string, users: readonly [string, string], first: { epoch: string; seq: number; frame: string } | null): void {
    if (first?.seq === 1 && this.beginDm(conv, users, first)) return;
    for (let i = 0; i < 2; i++) {
      const u = users[i]!;
      const v = this.byUser.get(u);
      if (v === undefined) continue;
      if (!first && (v instanceof Set ? ![...v].some((c) => this.needsAttach(c, conv)) : !this.needsAttach(v, conv))) continue;
      const pinned = this.pin(conv);
      if (first) pinned.onBus(first.epoch, first.seq, first.frame);
      for (const conn of this.connsOf(u)) if (this.needsAttach(conn, conv)) void this.attachLater(conn, conv, 0);
      this.unpin(conv);
    }
  }

  /**
   * A dm's first message (seq 1 of its epoch) on a node with no channel for it: its users'
   * open connections here take it live from the bus, with none of attachLater's store reads
   * (issue 10: with both users on one node a new dm took 12 commands on the node's links, 6
   * of them these reads; its node CPU went from 320–540 to 270–350 µs). What they would return
   * is known: a dm has no join point, leave or earlier membership (conv-state reads join 0
   * for both users); nothing precedes seq 1 in its epoch, so the channel starts at 0 and
   * later seqs come over the bus or through its fills; a stored cursor can only be another
   * epoch's, which counts as 0 (ownCursor). Not while the bus is down: a held channel
   * delivers nothing until the resync, which attachLater's path waits for.
   * False when nothing was attached (the caller's general path then runs).
   */
  private beginDm(conv: string, users: readonly [string, string], first: { epoch: string; seq: number; frame: string }): boolean {
    if (this.busDown || this.chans.has(conv)) return false;
    const conns = [...this.connsOf(users[0]), ...this.connsOf(users[1])].filter((c) => this.needsAttach(c, conv));
    if (!conns.length) return false;
    const chan = this.pin(conv);
    try {
      chan.start(first.epoch, 0);
      for (const conn of conns) this.attach(conn, chan, conv, first.epoch, 0).live = true;
      // delivers seq 1 to each view: its `conv` frame, the message, then plain membership
      chan.onBus(first.epoch, first.seq, first.frame);
    } finally {
      this.unpin(conv);
    }
    return true;
  }

  private needsAttach(conn: Conn, conv: string): boolean {
    return conn.state === 'open' && !this.holds(conn, conv) && !this.attaching.has(conn.id + '\n' + conv);
  }

  onJoin(conv: string, user: string, atSeq: number): void {
    for (const conn of this.connsOf(user)) {
      if (conn.state !== 'open') continue;
      const cc = conn.views?.get(conv);
      // never held it on this connection (no view, none finished): owed the earlier membership's rest, as at connect
      const fresh = !cc && !conn.finished?.has(conv);
      if (cc && cc.until !== Infinity) {
        // left and joined again: what the earlier memberships are owed first (a walk already
        // pending goes on from its own point), then from the new join point
        const pending = conn.rejoins?.get(conv);
        (conn.rejoins ??= new Map()).set(conv, pending === undefined ? atSeq : Math.min(pending, atSeq));
        // its end reached: detachFromConn attaches from the rejoin point
        if (cc.pos >= cc.until) this.detachFromConn(cc);
        continue;
      } else if (cc || this.holds(conn, conv)) continue;
      // `finished` stays: a join event older than what this connection was sent since (the
      // bus lags the store reads) must not replay below it
      void this.attachLater(conn, conv, atSeq, 0, fresh);
    }
  }

  onLeave(conv: string, user: string, atSeq: number): void {
    const ch = this.chans.get(conv);
    if (ch) ch.leaves++;
    for (const conn of this.connsOf(user)) {
      let cc = conn.views?.get(conv);
      if (!cc) {
        if (!ch || !this.holds(conn, conv)) continue;
        cc = this.viewOf(ch, conn);
      }
      // a view still owing an earlier membership keeps its end: the current one, which this
      // leave ends, comes after it (the walk reads it again)
      cc.until = Math.min(cc.until, atSeq);
      if (cc.pos >= cc.until) this.detachFromConn(cc);
    }
  }

  /** A read mark moved (bus `r`): the user's other local connections learn it. */
  onRead(user: string, conv: string, seq: number, originConn: string): void {
    let frame: string | null = null;
    for (const c of this.connsOf(user)) {
      if (c.id === originConn || c.state !== 'open') continue;
      c.send((frame ??= encode.read(conv, seq)));
    }
  }

  /**
   * The bus may have lost messages (its link dropped or stalled, or the store link came
   * back): resync. Requests while one runs coalesce into one more run after it; a failed
   * run is retried.
   */
  requestResync(reason: string): void {
    this.resyncFresh = true;
    if (!this.resyncs.request()) return;
    capturing?.resync(reason);
    this.metrics.resyncs.inc();
    this.log.info({ reason }, 'resync: re-reading heads and filling from the log');
  }

  /** The bus link dropped: hold every channel until a resync has read heads and memberships. */
  onBusDown(): void {
    this.busDown = true;
    for (const ch of this.chans.values()) ch.hold();
  }

  /**
   * Re-reads heads and the memberships of local members (leaves and re-joins the bus may
   * have lost), then fills from the log; attaches conversations joined meanwhile. Paced
   * (bounded batches, a turn of the event loop between them) and resumable: a run that
   * failed (Redis timed out) goes on where it stopped; a new request starts over.
   */
  async resync(): Promise<void> {
    if (this.resyncFresh || !this.resyncPlan) {
      this.resyncFresh = false;
      // channels opened from here on read their state after the link came back
      this.busDown = false;
      this.resyncPlan = { convs: [...this.chans.keys()], convsDone: 0, users: this.localUsers(), usersDone: 0 };
    }
    const plan = this.resyncPlan;
    while (plan.convsDone < plan.convs.length) {
      if (this.resyncFresh) return;
      const batch = plan.convs.slice(plan.convsDone, plan.convsDone + RESYNC_HEADS);
      const heads = await this.store.log.heads(batch);
      // Read after the heads, so every leave before a message up to them is seen. A
      // channel behind the head (or in another epoch) reads membership anyway with the fill
      // or replay that follows, after its log read: only the others need it here.
      const upToDate = batch.filter((conv, j) => {
        const ch = this.chans.get(conv);
        return ch !== undefined && heads[j]!.epoch === ch.epoch && heads[j]!.head <= ch.last;
      });
      for (let i = 0; i < upToDate.length; i += RESYNC_MEMBERSHIPS) {
        await Promise.all(upToDate.slice(i, i + RESYNC_MEMBERSHIPS).map((conv) => this.reconcileMembership(conv)));
      }
      batch.forEach((conv, j) => this.chans.get(conv)?.resume(heads[j]!.epoch, heads[j]!.head));
      plan.convsDone += batch.length;
      await nextTurn();
    }
    // Joins announced while the bus was away: look at each local user's index again.
    while (plan.usersDone < plan.users.length) {
      if (this.resyncFresh) return;
      const batch = plan.users.slice(plan.usersDone, plan.usersDone + RESYNC_USERS);
      await Promise.all(batch.map((user) => this.attachIndexed(user)));
      plan.usersDone += batch.length;
      await nextTurn();
    }
    this.resyncPlan = null;
  }

  /** Attaches the user's local connections to indexed conversations they do not hold yet. */
  private async attachIndexed(user: string): Promise<void> {
    if (!this.connsOf(user).length) return;
    const indexed = await this.store.groups.userConvs(user);
    for (const conn of this.connsOf(user)) {
      if (conn.state !== 'open') continue;
      for (const conv of indexed) if (!this.holds(conn, conv)) void this.attachLater(conn, conv, 0);
    }
  }

  /** Clamp an ack or read mark to what exists: the channel's head, or the store's. */
  async clampToHead(conn: Conn, conv: string, seq: number): Promise<{ epoch: string; seq: number }> {
    convForUser(conv, conn.user);
    const held = this.clampHeld(conn, conv, seq);
    if (held) return held;
    const st = await this.convState(conn.user, conv);
    if (st.join < 0) throw new ProtocolError(st.epoch === null && conv.startsWith('g:') ? 'not_found' : 'forbidden', `not a member of ${conv}`);
    return { epoch: st.epoch ?? '', seq: Math.min(seq, st.left >= 0 ? st.left : st.head) };
  }

  /**
   * The clamp without the store, for a conversation the connection holds on a live channel
   * (null otherwise: clampToHead asks the store). Holding it is membership enough: what a
   * connection holds was attached for its user (a dm from its id, a group from its index).
   */
  clampHeld(conn: Conn, conv: string, seq: number): { epoch: string; seq: number } | null {
    const chan = this.chans.get(conv);
    if (!chan || !chan.isLive || !chan.epoch) return null;
    const cc = conn.views?.get(conv);
    if (!cc && !this.holds(conn, conv)) return null;
    return { epoch: chan.epoch, seq: Math.min(seq, Math.max(chan.last, cc?.pos ?? 0)) };
  }

  private async convState(user: string, conv: string): Promise<ConvState> {
    return (await this.store.log.states(user, [conv]))[0]!;
  }
}
