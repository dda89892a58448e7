import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ProtocolError } from '../protocol/codes.ts';
import type { StoredMessage } from '../protocol/frames.ts';
import { keys } from './keys.ts';
import * as lua from './lua.ts';

/**
 * The store: every read and write of durable state, on one Redis link.
 *
 * Contract every method keeps: it either completes or throws a ProtocolError —
 * `unavailable` when Redis did not confirm within STORE_TIMEOUT_MS (the effect is then
 * unknown: the caller must not assume it failed), the protocol's own codes for refusals.
 * Sends are atomic per conversation: membership check, dedupe, append and publish happen
 * in one script, so the bus never carries a message the log does not hold.
 */
export interface StoreLimits {
  retentionMaxMsgs: number;
  retentionMs: number;
  dedupeTtlMs: number;
  groupMax: number;
  skipDedupe: boolean;
}

export interface SendResult {
  seq: number;
  ts: number;
  epoch: string;
  dup: boolean;
}

export interface ConvState {
  /** null when the conversation does not exist (yet, or any more) */
  epoch: string | null;
  head: number;
  /** last seq removed by retention */
  trimmed: number;
  /** join seq for a group member (or former member), 0 for a dm, -1 when the user never was a member */
  join: number;
  /** for a former group member: the head when it left (its devices get messages up to it); else -1 */
  left: number;
}

export interface HistoryPage {
  epoch: string;
  msgs: StoredMessage[];
  /** the same messages as JSON objects, pre-serialized (bodies are stored as JSON literals) */
  json: string[];
  more: boolean;
}

export interface GroupInfo {
  owner: string;
  head: number;
  members: string[];
}

/** A cursor as stored: the seq and the epoch it was taken in. */
export interface StoredMark {
  epoch: string;
  seq: number;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

const scripts = {
  imSend: { keys: 4, lua: lua.SEND },
  imConvState: { keys: 3, lua: lua.CONV_STATE },
  imHistory: { keys: 3, lua: lua.HISTORY },
  imGroupCreate: { keys: 4, lua: lua.GROUP_CREATE },
  imGroupJoin: { keys: 4, lua: lua.GROUP_JOIN },
  imGroupLeave: { keys: 4, lua: lua.GROUP_LEAVE },
  imGroupGet: { keys: 3, lua: lua.GROUP_GET },
  imCursorsAdvance: { keys: 1, lua: lua.CURSORS_ADVANCE },
  imReadAdvance: { keys: 1, lua: lua.READ_ADVANCE },
  imConnOpen: { keys: 2, lua: lua.CONN_OPEN },
  imConnClose: { keys: 2, lua: lua.CONN_CLOSE },
  imLeaseRenew: { keys: 2, lua: lua.LEASE_RENEW },
  imLeasesExpired: { keys: 1, lua: lua.LEASES_EXPIRED },
  imSweepClaim: { keys: 3, lua: lua.SWEEP_CLAIM },
  imSweepFinish: { keys: 3, lua: lua.SWEEP_FINISH },
} as const;

export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

/** Redis failures become `unavailable`; a broken script is a bug and becomes `internal`. */
export function storeError(err: unknown): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/Error running script|ERR user_script|WRONGTYPE|@user_script/i.test(msg)) return new ProtocolError('internal', 'store script failed');
  return new ProtocolError('unavailable', 'the store did not confirm in time; retry with the same cmid');
}

function parseEntry(e: unknown): { seq: number; f: string; m: string; b: string; t: number } {
  const [id, flat] = e as [string, string[]];
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  return { seq: Number(id.slice(0, id.indexOf('-'))), f: h.f!, m: h.m!, b: h.b!, t: Number(h.t) };
}

function parseMark(v: string | null | undefined): StoredMark | null {
  if (!v) return null;
  const bar = v.indexOf('|');
  return { epoch: v.slice(0, bar), seq: Number(v.slice(bar + 1)) };
}

export class Store {
  private readonly r: Redis & Record<keyof typeof scripts, ScriptFn>;
  readonly channel = keys.busChannel();

  private readonly limits: StoreLimits;

  constructor(redis: Redis, limits: StoreLimits) {
    this.limits = limits;
    for (const [name, s] of Object.entries(scripts)) redis.defineCommand(name, { numberOfKeys: s.keys, lua: s.lua });
    this.r = redis as Redis & Record<keyof typeof scripts, ScriptFn>;
  }

  get redis(): Redis {
    return this.r;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw storeError(err);
    }
  }

  /**
   * Stores one message. `bodyJson` is JSON.stringify(body); the frame the bus carries is
   * assembled in the script from the pre-encoded parts, so it is serialized once.
   * For a dm, the first message indexes the conversation for both users before it is stored.
   */
  async send(conv: string, isGroup: boolean, dmUsers: readonly string[], sender: string, cmid: string, bodyJson: string): Promise<SendResult> {
    const head = `{"t":"msg","conv":${JSON.stringify(conv)},"seq":`;
    const mid = `,"from":${JSON.stringify(sender)},"cmid":${JSON.stringify(cmid)},"body":`;
    const run = (mode: string) =>
      this.r.imSend(
        keys.meta(conv), keys.log(conv), keys.dedupe(conv), keys.members(conv),
        sender, cmid, bodyJson, head, mid, newEpoch(), mode,
        this.limits.retentionMaxMsgs, this.limits.retentionMs, this.limits.dedupeTtlMs,
        this.channel, conv, this.limits.skipDedupe ? '1' : '0',
      ) as Promise<[string, number?, number?, string?]>;
    return this.call(async () => {
      let res = await run(isGroup ? 'group' : 'dm');
      if (res[0] === 'need_index') {
        // Cross-slot order that loses nothing on a crash: both users index the
        // conversation before its first message exists.
        await Promise.all(dmUsers.map((u) => this.r.hset(keys.userConvs(u), conv, 1)));
        res = await run('dm-indexed');
      }
      switch (res[0]) {
        case 'ok':
        case 'dup':
          return { seq: res[1]!, ts: res[2]!, epoch: res[3]!, dup: res[0] === 'dup' };
        case 'not_found':
          throw new ProtocolError('not_found', `no such group: ${conv}`);
        case 'forbidden':
          throw new ProtocolError('forbidden', `not a member of ${conv}`);
        default:
          throw new ProtocolError('internal', `unexpected store answer ${String(res[0])}`);
      }
    });
  }

  /** Conversations indexed for the user (a superset: membership is confirmed by convStates). */
  async userConvs(user: string): Promise<string[]> {
    return this.call(() => this.r.hkeys(keys.userConvs(user)));
  }

  async forgetConvs(user: string, convs: readonly string[]): Promise<void> {
    if (convs.length) await this.call(() => this.r.hdel(keys.userConvs(user), ...convs));
  }

  /** One pipelined round trip for many conversations. */
  async convStates(user: string, convs: readonly string[]): Promise<ConvState[]> {
    if (!convs.length) return [];
    return this.call(async () => {
      const p = this.r.pipeline();
      for (const c of convs) (p as unknown as Record<string, ScriptFn>).imConvState!(keys.meta(c), keys.members(c), keys.leavers(c), user, c.startsWith('g:') ? '1' : '0');
      const res = (await p.exec()) ?? [];
      return res.map(([err, v]) => {
        if (err) throw err;
        const [epoch, head, trimmed, join, left] = v as [string | null, number, number, number, number];
        return { epoch: epoch || null, head, trimmed, join, left };
      });
    });
  }

  async convState(user: string, conv: string): Promise<ConvState> {
    return (await this.convStates(user, [conv]))[0]!;
  }

  async heads(convs: readonly string[]): Promise<{ epoch: string | null; head: number }[]> {
    if (!convs.length) return [];
    return this.call(async () => {
      const p = this.r.pipeline();
      for (const c of convs) p.hmget(keys.meta(c), 'epoch', 'head');
      const res = (await p.exec()) ?? [];
      return res.map(([err, v]) => {
        if (err) throw err;
        const [epoch, head] = v as [string | null, string | null];
        return { epoch: epoch ?? null, head: Number(head ?? 0) };
      });
    });
  }

  /** Messages with from ≤ seq ≤ to (at most `count`), ascending. */
  async range(conv: string, from: number, to: number | null, count: number): Promise<{ seq: number; frame: string; from: string; cmid: string }[]> {
    return this.call(async () => {
      const es = (await this.r.xrange(keys.log(conv), `${from}-0`, to === null ? '+' : `${to}-0`, 'COUNT', count)) as unknown[];
      return es.map((raw) => {
        const e = parseEntry(raw);
        return { seq: e.seq, from: e.f, cmid: e.m, frame: msgFrame(conv, e) };
      });
    });
  }

  async history(user: string, conv: string, after: number | undefined, before: number | undefined, limit: number): Promise<HistoryPage> {
    const isGroup = conv.startsWith('g:');
    return this.call(async () => {
      const res = (await this.r.imHistory(keys.meta(conv), keys.log(conv), keys.members(conv), user, isGroup ? '1' : '0', after ?? '', before ?? '', limit)) as [string, string?, number?, unknown[]?];
      if (res[0] === 'not_found') throw new ProtocolError('not_found', `no such group: ${conv}`);
      if (res[0] === 'forbidden') throw new ProtocolError('forbidden', `not a member of ${conv}`);
      const entries = (res[3] ?? []).map(parseEntry);
      return {
        epoch: res[1] ?? '',
        more: res[2] === 1,
        msgs: entries.map((e) => ({ seq: e.seq, from: e.f, cmid: e.m, body: JSON.parse(e.b) as string, ts: e.t })),
        json: entries.map((e) => `{"seq":${e.seq},"from":${JSON.stringify(e.f)},"cmid":${JSON.stringify(e.m)},"body":${e.b},"ts":${e.t}}`),
      };
    });
  }

  async cursors(user: string, device: string): Promise<Map<string, StoredMark>> {
    return this.marks(keys.cursors(user, device));
  }

  async cursorOf(user: string, device: string, conv: string): Promise<StoredMark | null> {
    return this.call(async () => parseMark(await this.r.hget(keys.cursors(user, device), conv)));
  }

  async reads(user: string): Promise<Map<string, StoredMark>> {
    return this.marks(keys.reads(user));
  }

  private async marks(key: string): Promise<Map<string, StoredMark>> {
    return this.call(async () => {
      const out = new Map<string, StoredMark>();
      for (const [conv, v] of Object.entries(await this.r.hgetall(key))) {
        const m = parseMark(v);
        if (m) out.set(conv, m);
      }
      return out;
    });
  }

  /** Forward-only per conversation and epoch; `marks` must already be clamped to the head. */
  async advanceCursors(user: string, device: string, marks: readonly { conv: string; epoch: string; seq: number }[]): Promise<void> {
    if (!marks.length) return;
    const args: (string | number)[] = [];
    for (const m of marks) args.push(m.conv, m.epoch, m.seq);
    await this.call(() => this.r.imCursorsAdvance(keys.cursors(user, device), ...args));
  }

  /** Forward-only read mark; announces it to the user's other connections when it moved. */
  async advanceRead(user: string, conv: string, epoch: string, seq: number, originConn: string): Promise<boolean> {
    return this.call(async () => (await this.r.imReadAdvance(keys.reads(user), conv, epoch, seq, this.channel, user, originConn)) === 1);
  }

  async createGroup(owner: string, group: string, members: readonly string[]): Promise<string> {
    const conv = `g:${group}`;
    return this.call(async () => {
      const all = [owner, ...members];
      await Promise.all(all.map((u) => this.r.hset(keys.userConvs(u), conv, 1)));
      const res = (await this.r.imGroupCreate(keys.meta(conv), keys.members(conv), keys.joinOrder(conv), keys.leavers(conv), owner, this.limits.groupMax, newEpoch(), this.channel, conv, ...members)) as string[];
      if (res[0] === 'conflict') throw new ProtocolError('conflict', `group ${group} exists already`);
      if (res[0] === 'too_large') throw new ProtocolError('too_large', `a group has at most ${this.limits.groupMax} members`);
      return conv;
    });
  }

  async joinGroup(caller: string, group: string, users: readonly string[]): Promise<string[]> {
    const conv = `g:${group}`;
    return this.call(async () => {
      // Index first: a crash after this leaves a harmless superset, never a member
      // whose conversation cannot be found.
      await Promise.all(users.map((u) => this.r.hset(keys.userConvs(u), conv, 1)));
      const res = (await this.r.imGroupJoin(keys.meta(conv), keys.members(conv), keys.joinOrder(conv), keys.leavers(conv), caller, this.limits.groupMax, this.channel, conv, ...users)) as (string | number)[];
      if (res[0] === 'not_found') throw new ProtocolError('not_found', `no such group: ${group}`);
      if (res[0] === 'forbidden') throw new ProtocolError('forbidden', `only members may add members to ${group}`);
      if (res[0] === 'too_large') throw new ProtocolError('too_large', `a group has at most ${this.limits.groupMax} members`);
      return res.slice(2).map(String);
    });
  }

  async leaveGroup(caller: string, group: string, user: string): Promise<boolean> {
    const conv = `g:${group}`;
    return this.call(async () => {
      const res = (await this.r.imGroupLeave(keys.meta(conv), keys.members(conv), keys.joinOrder(conv), keys.leavers(conv), caller, user, this.channel, conv)) as (string | number)[];
      if (res[0] === 'not_found') throw new ProtocolError('not_found', `no such group: ${group}`);
      if (res[0] === 'forbidden') throw new ProtocolError('forbidden', `only the owner or the user itself may remove ${user}`);
      // The index entry stays: the user's offline devices still replay up to the leave.
      return res[1] === 1;
    });
  }

  async getGroup(caller: string, group: string): Promise<GroupInfo> {
    const conv = `g:${group}`;
    return this.call(async () => {
      const res = (await this.r.imGroupGet(keys.meta(conv), keys.joinOrder(conv), keys.members(conv), caller)) as (string | number)[];
      if (res[0] === 'not_found') throw new ProtocolError('not_found', `no such group: ${group}`);
      if (res[0] === 'forbidden') throw new ProtocolError('forbidden', `not a member of ${group}`);
      return { owner: String(res[1]), head: Number(res[2]), members: res.slice(3).map(String) };
    });
  }

  // ---- presence and leases -------------------------------------------------------

  /**
   * Registers a connection under `incarnation` and its current lease `generation`; `null`
   * when the user has MAX_DEVICES other devices open.
   */
  async openConn(user: string, connId: string, incarnation: string, generation: number, device: string, maxDevices: number, mode: 'hello' | 'reregister'): Promise<string[] | null> {
    return this.call(async () => {
      // Node registry first, so a sweeper can always find what this incarnation registered.
      await this.r.sadd(keys.nodeConns(incarnation), `${user}\t${connId}`);
      const res = (await this.r.imConnOpen(keys.conns(user), keys.presence(user), this.channel, user, connId, `${incarnation}#${generation}`, device, maxDevices, mode)) as string[];
      if (res[0] === 'too_many_devices') {
        await this.r.srem(keys.nodeConns(incarnation), `${user}\t${connId}`);
        return null;
      }
      return res.slice(1);
    });
  }

  async closeConn(user: string, connId: string, incarnation: string): Promise<void> {
    await this.call(async () => {
      await this.r.imConnClose(keys.conns(user), keys.presence(user), this.channel, user, connId);
      await this.r.srem(keys.nodeConns(incarnation), `${user}\t${connId}`);
    });
  }

  async presence(users: readonly string[]): Promise<{ status: 'online' | 'offline'; v: number; ts: number }[]> {
    if (!users.length) return [];
    return this.call(async () => {
      const p = this.r.pipeline();
      for (const u of users) p.hmget(keys.presence(u), 'status', 'v', 'ts');
      const res = (await p.exec()) ?? [];
      return res.map(([err, v]) => {
        if (err) throw err;
        const [status, ver, ts] = v as (string | null)[];
        return { status: status === 'online' ? 'online' : 'offline', v: Number(ver ?? 0), ts: Number(ts ?? 0) };
      });
    });
  }

  /** held: false means it had lapsed, and connections must re-register under `generation`. */
  async renewLease(incarnation: string, ttlMs: number): Promise<{ held: boolean; generation: number }> {
    return this.call(async () => {
      const [held, generation] = (await this.r.imLeaseRenew(keys.leases(), keys.leaseGens(), incarnation, ttlMs)) as [number, number];
      return { held: held === 1, generation };
    });
  }

  async expiredLeases(limit: number): Promise<string[]> {
    return this.call(async () => (await this.r.imLeasesExpired(keys.leases(), limit)) as string[]);
  }

  /**
   * Takes a dead incarnation's connections offline. Safe to run on several nodes at once (a
   * claim keeps them from doing the work twice) and against a node that comes back while it
   * runs: only registrations of the lapsed lease generation are removed, so connections the
   * node re-registers under its new generation stay online and stay in its registry.
   */
  async sweepIncarnation(dead: string, sweeper: string): Promise<number> {
    return this.call(async () => {
      const generation = Number(await this.r.imSweepClaim(keys.leases(), keys.leaseGens(), keys.leaseSweep(dead), dead, sweeper, 10_000));
      if (generation < 0) return 0;
      let n = 0;
      let cursor = '0';
      do {
        const [next, members] = await this.r.sscan(keys.nodeConns(dead), cursor, 'COUNT', 500);
        cursor = next;
        for (const m of members) {
          const tab = m.indexOf('\t');
          const user = m.slice(0, tab);
          const res = Number(await this.r.imConnClose(keys.conns(user), keys.presence(user), this.channel, user, m.slice(tab + 1), dead, generation));
          if (res >= 0) await this.r.srem(keys.nodeConns(dead), m);
          if (res === 1) n++;
        }
      } while (cursor !== '0');
      const forgotten = Number(await this.r.imSweepFinish(keys.leases(), keys.leaseGens(), keys.leaseSweep(dead), dead));
      if (forgotten === 1 && (await this.r.scard(keys.nodeConns(dead))) === 0) await this.r.del(keys.nodeConns(dead));
      return n;
    });
  }

  async dropLease(incarnation: string): Promise<void> {
    await this.call(async () => {
      await this.r.zrem(keys.leases(), incarnation);
      await this.r.hdel(keys.leaseGens(), incarnation);
      await this.r.del(keys.nodeConns(incarnation));
    });
  }

  async publish(payload: string): Promise<void> {
    await this.call(() => this.r.publish(this.channel, payload));
  }

  async redisTime(): Promise<number> {
    return this.call(async () => {
      const [s, us] = await this.r.time();
      return Number(s) * 1000 + Math.floor(Number(us) / 1000);
    });
  }
}

/** The `msg` frame of a stored entry; the body is stored as a JSON literal, so no re-encoding. */
export function msgFrame(conv: string, e: { seq: number; f: string; m: string; b: string; t: number }): string {
  return `{"t":"msg","conv":${JSON.stringify(conv)},"seq":${e.seq},"from":${JSON.stringify(e.f)},"cmid":${JSON.stringify(e.m)},"body":${e.b},"ts":${e.t}}`;
}
