import { ProtocolError } from '../../protocol/codes.ts';
import { encode } from '../../protocol/server-frames.ts';
import { encodeBusPayload, type BusPayload } from '../../bus/payloads.ts';
import type { ConvMark, CursorStore, DeviceMarks, StoredMark } from '../cursors.ts';
import type { GroupInfo, GroupStore } from '../groups.ts';
import { MEMBERSHIPS_KEPT, NO_EARLIER, type ConvHead, type ConvState, type ConversationLog, type HistoryPage, type HistoryQuery, type LogEntry, type ReclaimResult, type SendRequest, type SendResult } from '../log.ts';
import type { PresenceState, PresenceStore, Registration } from '../presence-store.ts';
import type { MemoryBroker } from './memory-bus.ts';

/**
 * Every store seam in memory, keeping the contracts of ../log.ts, ../cursors.ts,
 * ../groups.ts and ../presence-store.ts the way the Redis scripts do, so the delivery core
 * (hub, replay, connect sync, presence) runs in-process in unit and property tests. One
 * instance is the shared store of every simulated node (as one Redis is).
 *
 * Each call's effect happens at one instant, as a script's does: when `schedule` runs it
 * (default: at once). A test passes fast-check's scheduler there to interleave store
 * answers with bus deliveries; `available = false` makes every call fail `unavailable`
 * without effect, like a Redis that does not answer.
 */
export interface MemoryStoreOptions {
  limits?: Partial<MemoryLimits>;
  /** the store's clock in ms (Redis TIME in production) */
  now?: () => number;
  /** runs one call's effect; fast-check's `scheduler.scheduleFunction` fits */
  schedule?: <T>(label: string, effect: () => T) => Promise<T>;
  newEpoch?: () => string;
}

export interface MemoryLimits {
  retentionMaxMsgs: number;
  retentionMs: number;
  dedupeTtlMs: number;
  groupMax: number;
  maxGroupsPerUser: number;
  /** dms one user may start per minute; absent: no limit */
  newConversationsPerMinute?: number;
}

interface Entry {
  seq: number;
  from: string;
  cmid: string;
  bodyJson: string;
  ts: number;
}

interface Conversation {
  epoch: string;
  head: number;
  trimmed: number;
  log: Entry[];
  dedupe: Map<string, { seq: number; ts: number }>;
  /** groups only: member → join seq, in join order */
  members: Map<string, number> | null;
  /** each user's ended memberships, oldest first (at most MEMBERSHIPS_KEPT), as group-leave.lua keeps them */
  leavers: Map<string, { join: number; left: number }[]>;
  owner: string;
}

interface ConnReg {
  incarnation: string;
  generation: number;
  device: string;
}

let epochs = 0;

export class MemoryStore implements ConversationLog, CursorStore, GroupStore, PresenceStore {
  /** false: every call fails `unavailable` and changes nothing */
  available = true;
  private readonly limits: MemoryLimits;
  private readonly now: () => number;
  private readonly run: <T>(label: string, effect: () => T) => Promise<T>;
  private readonly mintEpoch: () => string;
  private readonly broker: MemoryBroker;

  private readonly convs = new Map<string, Conversation>();
  private readonly index = new Map<string, Set<string>>();
  private readonly newConvs = new Map<string, { since: number; n: number }>();
  private readonly cursorMarks = new Map<string, Map<string, StoredMark>>();
  private readonly readMarks = new Map<string, Map<string, StoredMark>>();
  private readonly conns = new Map<string, Map<string, ConnReg>>();
  private readonly status = new Map<string, PresenceState>();
  private readonly leases = new Map<string, number>();
  private readonly generations = new Map<string, number>();
  private readonly registries = new Map<string, Set<string>>();

  constructor(broker: MemoryBroker, opts: MemoryStoreOptions = {}) {
    this.broker = broker;
    this.limits = { retentionMaxMsgs: 100_000, retentionMs: 30 * 86_400_000, dedupeTtlMs: 86_400_000, groupMax: 1000, maxGroupsPerUser: 10_000, ...opts.limits };
    this.now = opts.now ?? Date.now;
    this.mintEpoch = opts.newEpoch ?? (() => `e${++epochs}`);
    const schedule = opts.schedule;
    this.run = (label, effect) => {
      const guarded = () => {
        if (!this.available) throw new ProtocolError('unavailable', `the store did not confirm in time (${label})`);
        return effect();
      };
      return schedule ? schedule(label, guarded) : new Promise((resolve) => resolve(guarded()));
    };
  }

  /** Loses every conversation, as a Redis restarted without its data: the next message starts a new epoch. */
  loseConversations(): void {
    this.convs.clear();
  }

  private publish(p: BusPayload): void {
    this.broker.publish(encodeBusPayload(p));
  }

  // ---- ConversationLog ---------------------------------------------------------------

  send(req: SendRequest): Promise<SendResult> {
    return this.run(`send ${req.conv} ${req.cmid}`, () => {
      const now = this.now();
      let c = this.convs.get(req.conv);
      if (!c) {
        if (req.isGroup) throw new ProtocolError('not_found', `no such group: ${req.conv}`);
        this.countNewConversation(req.sender, now);
        for (const u of req.dmUsers) this.indexConv(u, req.conv);
        c = this.newConv(req.conv, null, '');
      }
      if (c.members && !c.members.has(req.sender)) throw new ProtocolError('forbidden', `not a member of ${req.conv}`);
      const key = `${req.sender}\n${req.cmid}`;
      const d = c.dedupe.get(key);
      if (d && d.ts > now - this.limits.dedupeTtlMs) return { seq: d.seq, ts: d.ts, epoch: c.epoch, dup: true };
      const seq = ++c.head;
      c.log.push({ seq, from: req.sender, cmid: req.cmid, bodyJson: req.bodyJson, ts: now });
      c.dedupe.set(key, { seq, ts: now });
      this.trim(c, now, 1);
      this.publish({ k: 'm', conv: req.conv, epoch: c.epoch, seq, frame: encode.msg(req.conv, seq, req.sender, req.cmid, req.bodyJson, now) });
      return { seq, ts: now, epoch: c.epoch, dup: false };
    });
  }

  /** As the Redis store: a fixed one-minute window per sender. */
  private countNewConversation(sender: string, now: number): void {
    const most = this.limits.newConversationsPerMinute;
    if (most === undefined) return;
    const w = this.newConvs.get(sender);
    const win = w && now - w.since < 60_000 ? w : { since: now, n: 0 };
    win.n++;
    this.newConvs.set(sender, win);
    if (win.n > most) throw new ProtocolError('rate_limited', `at most ${most} new conversations a minute (NEW_CONVERSATIONS_PER_MINUTE); retry later`);
  }

  /**
   * Retention as the send script does it: by count and age, keeping the newest `keep`
   * messages (a send keeps the one it just stored). Dedupe entries outlive their trimmed
   * messages until DEDUPE_TTL_MS (`send` ignores expired ones; `reclaim` deletes them).
   * → messages trimmed
   */
  private trim(c: Conversation, now: number, keep: number): number {
    const before = c.log.length;
    while (c.log.length > keep && (c.log.length > this.limits.retentionMaxMsgs || c.log[0]!.ts <= now - this.limits.retentionMs)) {
      c.trimmed = c.log.shift()!.seq;
    }
    return before - c.log.length;
  }

  /** As the Redis reclaimer: every conversation with something expired, up to `limit` of them. */
  reclaim(limit: number): Promise<ReclaimResult> {
    return this.run('reclaim', () => {
      const now = this.now();
      const out: ReclaimResult = { conversations: 0, messages: 0, dedupeEntries: 0, more: false };
      for (const c of this.convs.values()) {
        const expired = [...c.dedupe].filter(([, d]) => d.ts <= now - this.limits.dedupeTtlMs);
        const due = expired.length > 0 || (c.log.length > 0 && c.log[0]!.ts <= now - this.limits.retentionMs);
        if (!due) continue;
        if (out.conversations === limit) {
          out.more = true;
          break;
        }
        out.conversations++;
        out.messages += this.trim(c, now, 0);
        for (const [key] of expired) c.dedupe.delete(key);
        out.dedupeEntries += expired.length;
      }
      return out;
    });
  }

  private newConv(conv: string, members: Map<string, number> | null, owner: string): Conversation {
    const c: Conversation = { epoch: this.mintEpoch(), head: 0, trimmed: 0, log: [], dedupe: new Map(), members, leavers: new Map(), owner };
    this.convs.set(conv, c);
    return c;
  }

  states(user: string, convs: readonly string[]): Promise<ConvState[]> {
    return this.run('states', () =>
      convs.map((conv) => {
        const c = this.convs.get(conv);
        if (!c) return { epoch: null, head: 0, trimmed: 0, join: -1, left: -1, earlier: NO_EARLIER };
        let join = 0;
        let left = -1;
        let earlier: readonly number[] = NO_EARLIER;
        if (c.members) {
          const j = c.members.get(user);
          const past = c.leavers.get(user) ?? [];
          const last = j === undefined ? past.at(-1) : undefined;
          join = j ?? last?.join ?? -1;
          if (last) left = last.left;
          const ended = last ? past.slice(0, -1) : past;
          if (ended.length) earlier = ended.flatMap((ms) => [ms.join, ms.left]);
        }
        return { epoch: c.epoch, head: c.head, trimmed: c.trimmed, join, left, earlier };
      }),
    );
  }

  heads(convs: readonly string[]): Promise<ConvHead[]> {
    return this.run('heads', () =>
      convs.map((conv) => {
        const c = this.convs.get(conv);
        return c ? { epoch: c.epoch, head: c.head } : { epoch: null, head: 0 };
      }),
    );
  }

  range(conv: string, from: number, to: number | null, count: number): Promise<LogEntry[]> {
    return this.run(`range ${conv} ${from}..${to ?? '+'}`, () => {
      const c = this.convs.get(conv);
      if (!c) return [];
      const out: LogEntry[] = [];
      for (const e of c.log) {
        if (out.length >= count || (to !== null && e.seq > to)) break;
        if (e.seq >= from) out.push({ seq: e.seq, frame: encode.msg(conv, e.seq, e.from, e.cmid, e.bodyJson, e.ts) });
      }
      return out;
    });
  }

  history(user: string, conv: string, q: HistoryQuery): Promise<HistoryPage> {
    return this.run(`history ${conv}`, () => {
      const c = this.convs.get(conv);
      if (conv.startsWith('g:')) {
        if (!c) throw new ProtocolError('not_found', `no such group: ${conv}`);
        if (!c.members?.has(user)) throw new ProtocolError('forbidden', `not a member of ${conv}`);
      }
      if (!c) return { epoch: '', msgsJson: [], more: false };
      const lo = q.after ?? 0;
      const hi = q.before ?? Infinity;
      const inside = c.log.filter((e) => e.seq > lo && e.seq < hi);
      const page = q.after !== undefined ? inside.slice(0, q.limit) : inside.slice(Math.max(0, inside.length - q.limit));
      return {
        epoch: c.epoch,
        more: inside.length > q.limit,
        msgsJson: page.map((e) => encode.storedMessage(e.seq, e.from, e.cmid, e.bodyJson, e.ts)),
      };
    });
  }

  // ---- CursorStore ---------------------------------------------------------------------

  cursors(user: string, device: string): Promise<Map<string, StoredMark>> {
    return this.run('cursors', () => new Map(this.cursorMarks.get(`${user}\n${device}`)));
  }

  cursorOf(user: string, device: string, conv: string): Promise<StoredMark | null> {
    return this.run('cursorOf', () => this.cursorMarks.get(`${user}\n${device}`)?.get(conv) ?? null);
  }

  advanceCursors(user: string, device: string, marks: ReadonlyMap<string, StoredMark>): Promise<void> {
    return this.run(`advanceCursors ${user}/${device}`, () => this.advanceDevice(user, device, marks));
  }

  /** One call for the whole batch (labelled `advanceCursorsBatch <devices>`); every device's write takes effect, or none when unavailable. */
  advanceCursorsBatch(batch: readonly DeviceMarks[]): Promise<boolean[]> {
    return this.run(`advanceCursorsBatch ${batch.length}`, () => batch.map((d) => (this.advanceDevice(d.user, d.device, d.marks), true)));
  }

  private advanceDevice(user: string, device: string, marks: ReadonlyMap<string, StoredMark>): void {
    const key = `${user}\n${device}`;
    let m = this.cursorMarks.get(key);
    if (!m) this.cursorMarks.set(key, (m = new Map()));
    for (const [conv, mark] of marks) advance(m, { conv, epoch: mark.epoch, seq: mark.seq });
  }

  reads(user: string): Promise<Map<string, StoredMark>> {
    return this.run('reads', () => new Map(this.readMarks.get(user)));
  }

  advanceRead(user: string, mark: ConvMark, originConn: string): Promise<boolean> {
    return this.run(`advanceRead ${user}`, () => {
      let m = this.readMarks.get(user);
      if (!m) this.readMarks.set(user, (m = new Map()));
      if (!advance(m, mark)) return false;
      this.publish({ k: 'r', user, conv: mark.conv, seq: mark.seq, originConn });
      return true;
    });
  }

  // ---- GroupStore ------------------------------------------------------------------------

  private indexConv(user: string, conv: string): void {
    let s = this.index.get(user);
    if (!s) this.index.set(user, (s = new Set()));
    s.add(conv);
  }

  private groupCount(user: string): number {
    let n = 0;
    for (const c of this.index.get(user) ?? []) if (c.startsWith('g:')) n++;
    return n;
  }

  /** As the Redis store: refuses the whole change when one user holds MAX_GROUPS_PER_USER groups. */
  private indexGroup(users: readonly string[], conv: string): void {
    const full = users.filter((u) => !this.index.get(u)?.has(conv) && this.groupCount(u) >= this.limits.maxGroupsPerUser);
    if (full.length) throw new ProtocolError('too_large', `${full.slice(0, 5).join(', ')}${full.length > 5 ? ` and ${full.length - 5} more` : ''} already in ${this.limits.maxGroupsPerUser} groups (MAX_GROUPS_PER_USER)`);
    for (const u of users) this.indexConv(u, conv);
  }

  userConvs(user: string): Promise<string[]> {
    return this.run('userConvs', () => [...(this.index.get(user) ?? [])]);
  }

  forgetConvs(user: string, convs: readonly string[]): Promise<void> {
    return this.run('forgetConvs', () => {
      for (const c of convs) this.index.get(user)?.delete(c);
    });
  }

  createGroup(owner: string, group: string, members: readonly string[]): Promise<string> {
    const conv = `g:${group}`;
    return this.run(`createGroup ${group}`, () => {
      const all = [...new Set([owner, ...members])];
      if (this.convs.has(conv)) throw new ProtocolError('conflict', `group ${group} exists already`);
      if (all.length > this.limits.groupMax) throw new ProtocolError('too_large', `a group has at most ${this.limits.groupMax} members`);
      this.indexGroup(all, conv);
      const c = this.newConv(conv, new Map(all.map((u) => [u, 0])), owner);
      for (const u of all) this.publish({ k: 'j', conv, epoch: c.epoch, user: u, atSeq: 0 });
      return conv;
    });
  }

  joinGroup(caller: string, group: string, users: readonly string[]): Promise<string[]> {
    const conv = `g:${group}`;
    return this.run(`joinGroup ${group}`, () => {
      const c = this.convs.get(conv);
      if (!c?.members) throw new ProtocolError('not_found', `no such group: ${group}`);
      if (!c.members.has(caller)) throw new ProtocolError('forbidden', `only members may add members to ${group}`);
      const add = [...new Set(users)].filter((u) => !c.members!.has(u));
      if (c.members.size + add.length > this.limits.groupMax) throw new ProtocolError('too_large', `a group has at most ${this.limits.groupMax} members`);
      this.indexGroup(add, conv);
      for (const u of add) {
        c.members.set(u, c.head);
        // the leave record stays: it ends what the user's open connections are still owed
        this.publish({ k: 'j', conv, epoch: c.epoch, user: u, atSeq: c.head });
      }
      return add;
    });
  }

  leaveGroup(caller: string, group: string, user: string): Promise<boolean> {
    const conv = `g:${group}`;
    return this.run(`leaveGroup ${group}`, () => {
      const c = this.convs.get(conv);
      if (!c?.members) throw new ProtocolError('not_found', `no such group: ${group}`);
      if (caller !== user && c.owner !== caller) throw new ProtocolError('forbidden', `only the owner or the user itself may remove ${user}`);
      const join = c.members.get(user);
      if (join === undefined) return false;
      c.members.delete(user);
      const past = c.leavers.get(user) ?? [];
      past.push({ join, left: c.head });
      if (past.length > MEMBERSHIPS_KEPT) past.shift();
      c.leavers.set(user, past);
      if (c.owner === user) c.owner = c.members.keys().next().value ?? '';
      this.publish({ k: 'l', conv, epoch: c.epoch, user, atSeq: c.head });
      return true;
    });
  }

  getGroup(caller: string, group: string): Promise<GroupInfo> {
    return this.run(`getGroup ${group}`, () => {
      const c = this.convs.get(`g:${group}`);
      if (!c?.members) throw new ProtocolError('not_found', `no such group: ${group}`);
      if (!c.members.has(caller)) throw new ProtocolError('forbidden', `not a member of ${group}`);
      return { owner: c.owner, head: c.head, members: [...c.members.keys()] };
    });
  }

  // ---- PresenceStore -------------------------------------------------------------------

  private setStatus(user: string, status: PresenceState['status']): void {
    const p = this.status.get(user);
    if (p?.status === status) return;
    const now = this.now();
    const v = Math.max((p?.v ?? 0) + 1, now);
    this.status.set(user, { status, v, ts: now });
    this.publish({ k: 'p', user, status, v, ts: now });
  }

  private registry(incarnation: string): Set<string> {
    let s = this.registries.get(incarnation);
    if (!s) this.registries.set(incarnation, (s = new Set()));
    return s;
  }

  openConn(reg: Registration, maxDevices: number, mode: 'hello' | 'reregister'): Promise<string[] | null> {
    return this.run(`openConn ${reg.user}/${reg.device}`, () => {
      let mine = this.conns.get(reg.user);
      const devices = new Set<string>();
      const replaced: string[] = [];
      let superseded = false;
      for (const [id, r] of mine ?? []) {
        if (id === reg.connId) continue;
        if (r.device === reg.device) {
          if (mode === 'hello') replaced.push(id);
          else superseded = true;
        } else devices.add(r.device);
      }
      if (superseded) return null;
      if (mode === 'hello' && devices.size >= maxDevices) return null;
      if (!mine) this.conns.set(reg.user, (mine = new Map()));
      for (const id of replaced) {
        mine.delete(id);
        this.publish({ k: 'k', user: reg.user, connId: id, code: 4409 });
      }
      this.registry(reg.incarnation).add(`${reg.user}\t${reg.connId}`);
      mine.set(reg.connId, { incarnation: reg.incarnation, generation: reg.generation, device: reg.device });
      this.setStatus(reg.user, 'online');
      return replaced;
    });
  }

  /** 1 removed, 0 not registered, -1 kept (re-registered under a newer generation). */
  private removeConn(user: string, connId: string, sweep?: { incarnation: string; generation: number }): number {
    const mine = this.conns.get(user);
    const r = mine?.get(connId);
    if (!mine || !r) return 0;
    if (sweep && (r.incarnation !== sweep.incarnation || r.generation > sweep.generation)) return -1;
    mine.delete(connId);
    if (mine.size === 0) {
      this.conns.delete(user);
      this.setStatus(user, 'offline');
    }
    return 1;
  }

  closeConn(user: string, connId: string, incarnation: string): Promise<void> {
    return this.run(`closeConn ${user}`, () => {
      this.removeConn(user, connId);
      this.registries.get(incarnation)?.delete(`${user}\t${connId}`);
    });
  }

  registrations(user: string): Promise<Map<string, string>> {
    return this.run('registrations', () => new Map([...(this.conns.get(user) ?? [])].map(([id, r]) => [id, r.device])));
  }

  presence(users: readonly string[]): Promise<PresenceState[]> {
    return this.run('presence', () => users.map((u) => ({ ...(this.status.get(u) ?? { status: 'offline', v: 0, ts: 0 }) })));
  }

  renewLease(incarnation: string, ttlMs: number): Promise<{ held: boolean; generation: number }> {
    return this.run(`renewLease ${incarnation}`, () => {
      const now = this.now();
      const cur = this.leases.get(incarnation);
      this.leases.set(incarnation, now + ttlMs);
      const gen = this.generations.get(incarnation);
      if (cur !== undefined && cur >= now && gen !== undefined) return { held: true, generation: gen };
      // as lease-renew.lua: the time, so never one the incarnation had before a sweep forgot it
      const next = Math.max((gen ?? 0) + 1, now);
      this.generations.set(incarnation, next);
      return { held: false, generation: next };
    });
  }

  expiredLeases(limit: number): Promise<string[]> {
    return this.run('expiredLeases', () => {
      const now = this.now();
      return [...this.leases].filter(([, exp]) => exp < now).slice(0, limit).map(([inc]) => inc);
    });
  }

  sweepIncarnation(dead: string, sweeper: string): Promise<number> {
    return this.run(`sweep ${dead} by ${sweeper}`, () => {
      const now = this.now();
      const exp = this.leases.get(dead);
      if (exp === undefined || exp >= now) return 0;
      const generation = this.generations.get(dead) ?? 0;
      let n = 0;
      const reg = this.registry(dead);
      for (const member of [...reg]) {
        const tab = member.indexOf('\t');
        const res = this.removeConn(member.slice(0, tab), member.slice(tab + 1), { incarnation: dead, generation });
        if (res >= 0) reg.delete(member);
        if (res === 1) n++;
      }
      // one atomic step here, so no claim is needed (the Redis sweep takes one across its steps)
      if ((this.leases.get(dead) ?? 0) < now) {
        this.leases.delete(dead);
        this.generations.delete(dead);
        if (reg.size === 0) this.registries.delete(dead);
      }
      return n;
    });
  }

  dropLease(incarnation: string): Promise<void> {
    return this.run(`dropLease ${incarnation}`, () => {
      this.leases.delete(incarnation);
      this.generations.delete(incarnation);
      this.registries.delete(incarnation);
    });
  }

  // ---- inspection (tests) --------------------------------------------------------------

  /** Every stored seq of a conversation (after retention), ascending. */
  storedSeqs(conv: string): number[] {
    return (this.convs.get(conv)?.log ?? []).map((e) => e.seq);
  }

  /** How many dedupe entries a conversation holds, expired ones included until reclaimed. */
  dedupeEntries(conv: string): number {
    return this.convs.get(conv)?.dedupe.size ?? 0;
  }

  statusOf(user: string): PresenceState | undefined {
    return this.status.get(user);
  }

  registeredConns(user: string): string[] {
    return [...(this.conns.get(user)?.keys() ?? [])];
  }
}

/** Forward-only within an epoch; a mark of another epoch replaces the old one. */
function advance(marks: Map<string, StoredMark>, mark: ConvMark): boolean {
  const cur = marks.get(mark.conv);
  if (cur && cur.epoch === mark.epoch && cur.seq >= mark.seq) return false;
  marks.set(mark.conv, { epoch: mark.epoch, seq: mark.seq });
  return true;
}
