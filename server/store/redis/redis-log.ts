import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ProtocolError } from '../../protocol/codes.ts';
import { encode, msgFrameParts } from '../../protocol/server-frames.ts';
import { keyParts, keys } from '../keys.ts';
import { NO_EARLIER, type ConvHead, type ConvState, type ConversationLog, type HistoryPage, type HistoryQuery, type LogEntry, type ReclaimResult, type SendRequest, type SendResult } from '../log.ts';
import { holdForTurn } from '../../util/turn-cork.ts';
import { NUMBER_ROOM, strOfRoom, strRoom } from './resp-batch.ts';
import type { ArgEncoder, ArgSink, ScriptLink } from './script-link.ts';
import { newEpoch, pipelineScript, ScriptedStore, storeCall, storeError } from './scripts.ts';

export interface LogLimits {
  retentionMaxMsgs: number;
  retentionMs: number;
  dedupeTtlMs: number;
  /** dms one user may start per minute (their first message); absent: no limit */
  newConversationsPerMinute?: number;
  /** see RECLAIM_ADD_GRACE_MS: the node passes 2 × STORE_TIMEOUT_MS */
  reclaimAddGraceMs?: number;
}

/**
 * How long a reclaimer's claim on a batch of conversations lasts: another node takes them up
 * after it if this one stopped (crashed, lost Redis) before rescheduling them.
 */
export const RECLAIM_LEASE_MS = 60_000;

/**
 * An entry a send adds to the reclaim index before its script runs must not fall due
 * before that script runs in Redis: a reclaimer that found the conversation not yet written
 * (or just emptied) would drop the entry, and the script would then mark the conversation
 * as indexed — never reclaimed again. The script is sent once the add is answered, within
 * STORE_TIMEOUT_MS (else the send answers `unavailable` and sends nothing more), and takes
 * about as long again to arrive: so the entry falls due no sooner than 2 × STORE_TIMEOUT_MS
 * after the add (this default when no limit is given), and RETENTION_MS then holds within
 * that much more.
 */
export const RECLAIM_ADD_GRACE_MS = 4000;

/** The score for an entry a send adds: its next expiry `at` (ms), but not before the grace. */
export function reclaimIndexScore(at: number, graceMs = RECLAIM_ADD_GRACE_MS, now = Date.now()): number {
  return Math.max(at, now + graceMs);
}
/** Most entries of each kind (messages, dedupe entries, orphans) one conversation's reclaim step handles; more is taken up at the next call. */
export const RECLAIM_STEP_ENTRIES = 128;

type SendMode = 'group' | 'dm' | 'dm-indexed';

/** What one run of send.lua is given. */
interface SendCall {
  req: SendRequest;
  /** the `msg` frame's parts (msgFrameParts) */
  head: string;
  mid: string;
  mode: SendMode;
  /** the epoch a conversation this message creates gets; '' where it cannot create one */
  epoch: string;
  reclaimIndexed: '0' | '1';
  limits: LogLimits;
  channel: string;
}

const SEND_KEY_SUFFIXES = [keyParts.meta, keyParts.log, keyParts.dedupe, keyParts.members, keyParts.dedupeOrphans] as const;

/** A limit as an argument: its digits (every limit the config gives), else its String. */
function limitArg(out: ArgSink, v: number): void {
  if (Number.isSafeInteger(v) && v >= 0) out.uint(v);
  else out.str(String(v));
}

/**
 * send.lua's arguments: the conversation's five keys (meta, log, dedupe, members, dedupe
 * orphans, written from their parts: keys.ts keyParts), then sender, cmid, body, the frame's
 * head and middle, the new epoch, the mode, the three limits, the bus channel, the
 * conversation, reclaimIndexed. Written straight into the lean link's bytes: the argument
 * array and the five key strings were about 1 KB of V8 heap a send (issue 10).
 */
const sendArgs: ArgEncoder<SendCall> = {
  count: () => 18,
  room(c) {
    const conv = c.req.conv;
    let room = 3 * NUMBER_ROOM + strRoom(c.req.sender) + strRoom(c.req.cmid) + strRoom(c.req.bodyJson) + strRoom(c.head) + strRoom(c.mid) + strRoom(c.epoch) + strRoom(c.mode) + strRoom(c.channel) + strRoom(conv) + strRoom(c.reclaimIndexed);
    for (const suffix of SEND_KEY_SUFFIXES) room += strOfRoom(keyParts.conv, conv, suffix, '');
    return room;
  },
  write(c, out) {
    const conv = c.req.conv;
    for (const suffix of SEND_KEY_SUFFIXES) out.strOf(keyParts.conv, conv, suffix, '');
    out.str(c.req.sender);
    out.str(c.req.cmid);
    out.str(c.req.bodyJson);
    out.str(c.head);
    out.str(c.mid);
    out.str(c.epoch);
    out.str(c.mode);
    limitArg(out, c.limits.retentionMaxMsgs);
    limitArg(out, c.limits.retentionMs);
    limitArg(out, c.limits.dedupeTtlMs);
    out.str(c.channel);
    out.str(conv);
    out.str(c.reclaimIndexed);
  },
};

/** A stream entry as XRANGE returns it: `<seq>-0` and fields f (from), m (cmid), b (body JSON), t (ts). */
interface RawEntry {
  seq: number;
  f: string;
  m: string;
  b: string;
  t: number;
}

function parseEntry(e: unknown): RawEntry {
  const [id, flat] = e as [string, string[]];
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  return { seq: Number(id.slice(0, id.indexOf('-'))), f: h.f!, m: h.m!, b: h.b!, t: Number(h.t) };
}

/** ConversationLog on Redis: a Stream per conversation whose entry id is the seq (keys.ts). */
export class RedisConversationLog extends ScriptedStore implements ConversationLog {
  private readonly limits: LogLimits;

  constructor(redis: Redis, limits: LogLimits, fast: ScriptLink | null = null) {
    super(redis, fast);
    this.limits = limits;
  }

  /** One run of send.lua (see the script's header and sendArgs). */
  private runSend(req: SendRequest, head: string, mid: string, mode: SendMode, reclaimIndexed: boolean): Promise<[string, number?, number?, string?]> {
    // the epoch matters only where this message may create the conversation (dm-indexed)
    const call: SendCall = { req, head, mid, mode, epoch: mode === 'dm-indexed' ? newEpoch() : '', reclaimIndexed: reclaimIndexed ? '1' : '0', limits: this.limits, channel: this.channel };
    return this.hotWith('send', call, sendArgs) as Promise<[string, number?, number?, string?]>;
  }

  // storeCall's contract (Redis failures become `unavailable`), inline: one promise less per send
  async send(req: SendRequest): Promise<SendResult> {
    try {
      const { head, mid } = msgFrameParts(req.conv, req.sender, req.cmid);
      let mode: SendMode = req.isGroup ? 'group' : 'dm';
      // the sends of one event-loop turn leave in one write (turn-cork.ts)
      holdForTurn(this.hotSocket());
      let res = await this.runSend(req, head, mid, mode, false);
      if (res[0] === 'need_index') {
        const most = this.limits.newConversationsPerMinute;
        if (most !== undefined && (await this.scripts['new-conversation'](keys.newConversations(req.sender), most, 60_000)) === 0) {
          throw new ProtocolError('rate_limited', `at most ${most} new conversations a minute (NEW_CONVERSATIONS_PER_MINUTE); retry later`);
        }
        // Cross-slot order that loses nothing on a crash: both users index the conversation
        // before its first message exists, and so does the reclaim index.
        await Promise.all([...req.dmUsers.map((u) => this.redis.hset(keys.userConvs(u), req.conv, 1)), this.redis.zadd(keys.reclaimIndex(), reclaimIndexScore(0, this.limits.reclaimAddGraceMs), req.conv)]);
        mode = 'dm-indexed';
        res = await this.runSend(req, head, mid, mode, true);
      }
      if (res[0] === 'need_reclaim_index') {
        // a plain ZADD: it must replace a reclaimer's claim (reclaim-finish.lua then leaves it)
        await this.redis.zadd(keys.reclaimIndex(), reclaimIndexScore(res[1]!, this.limits.reclaimAddGraceMs), req.conv);
        res = await this.runSend(req, head, mid, mode, true);
      }
      switch (res[0]) {
        case 'ok':
        case 'dup':
          return { seq: res[1]!, ts: res[2]!, epoch: res[3]!, dup: res[0] === 'dup' };
        case 'not_found':
          throw new ProtocolError('not_found', `no such group: ${req.conv}`);
        case 'forbidden':
          throw new ProtocolError('forbidden', `not a member of ${req.conv}`);
        default:
          throw new ProtocolError('internal', `unexpected store answer ${String(res[0])}`);
      }
    } catch (err) {
      throw storeError(err);
    }
  }

  async reclaim(limit: number): Promise<ReclaimResult> {
    const l = this.limits;
    const index = keys.reclaimIndex();
    return storeCall(async () => {
      const [claim, more, ...convs] = (await this.scripts['reclaim-claim'](index, limit, RECLAIM_LEASE_MS, randomInt(1, 2048))) as [string, number, ...string[]];
      const out: ReclaimResult = { conversations: 0, messages: 0, dedupeEntries: 0, more: more === 1 };
      if (!convs.length) return out;
      const p = this.redis.pipeline();
      for (const c of convs) pipelineScript(p, 'reclaim', keys.meta(c), keys.log(c), keys.dedupe(c), keys.dedupeOrphans(c), l.retentionMaxMsgs, l.retentionMs, l.dedupeTtlMs, RECLAIM_STEP_ENTRIES);
      const steps = (await p.exec()) ?? [];
      const reschedule: (string | number)[] = [];
      steps.forEach(([err, v], i) => {
        if (err) throw err;
        const [nextAt, messages, dedupeEntries] = v as [number, number, number];
        reschedule.push(convs[i]!, nextAt);
        if (messages + dedupeEntries > 0) out.conversations++;
        out.messages += messages;
        out.dedupeEntries += dedupeEntries;
      });
      await this.scripts['reclaim-finish'](index, claim, ...reschedule);
      return out;
    });
  }

  async states(user: string, convs: readonly string[], afterLog = false): Promise<ConvState[]> {
    if (!convs.length) return [];
    const args = (c: string) => [keys.meta(c), keys.members(c), keys.leavers(c), user, c.startsWith('g:') ? '1' : '0'];
    return storeCall(async () => {
      let res: unknown[];
      if (afterLog) {
        // the command link, where `range` went: Redis runs them in the order written
        const p = this.redis.pipeline();
        for (const c of convs) pipelineScript(p, 'conv-state', ...args(c));
        res = ((await p.exec()) ?? []).map(([err, v]) => {
          if (err) throw err;
          return v;
        });
      } else {
        // The lean link while it is ready (issue 10: a connect reads one state per
        // conversation; through ioredis' pipeline that cost the node 449–482 µs a connect in
        // `npm run bench -- --connections 16000`, 358–387 µs this way); one write per turn.
        holdForTurn(this.hotSocket());
        res = await Promise.all(convs.map((c) => this.hot('conv-state', args(c))));
      }
      return res.map((v) => {
        const [epoch, head, trimmed, join, left, earlier] = v as [string | null, number, number, number, number, number[]];
        return { epoch: epoch || null, head, trimmed, join, left, earlier: earlier.length ? earlier : NO_EARLIER };
      });
    });
  }

  async heads(convs: readonly string[]): Promise<ConvHead[]> {
    if (!convs.length) return [];
    return storeCall(async () => {
      const p = this.redis.pipeline();
      for (const c of convs) p.hmget(keys.meta(c), 'epoch', 'head');
      const res = (await p.exec()) ?? [];
      return res.map(([err, v]) => {
        if (err) throw err;
        const [epoch, head] = v as [string | null, string | null];
        return { epoch: epoch ?? null, head: Number(head ?? 0) };
      });
    });
  }

  async range(conv: string, from: number, to: number | null, count: number): Promise<LogEntry[]> {
    return storeCall(async () => {
      const es = (await this.redis.xrange(keys.log(conv), `${from}-0`, to === null ? '+' : `${to}-0`, 'COUNT', count)) as unknown[];
      return es.map((raw) => {
        const e = parseEntry(raw);
        return { seq: e.seq, frame: encode.msg(conv, e.seq, e.f, e.m, e.b, e.t) };
      });
    });
  }

  async history(user: string, conv: string, q: HistoryQuery): Promise<HistoryPage> {
    const isGroup = conv.startsWith('g:');
    return storeCall(async () => {
      const res = (await this.scripts.history(keys.meta(conv), keys.log(conv), keys.members(conv), user, isGroup ? '1' : '0', q.after ?? '', q.before ?? '', q.limit)) as [string, string?, number?, unknown[]?];
      if (res[0] === 'not_found') throw new ProtocolError('not_found', `no such group: ${conv}`);
      if (res[0] === 'forbidden') throw new ProtocolError('forbidden', `not a member of ${conv}`);
      const entries = (res[3] ?? []).map(parseEntry);
      return {
        epoch: res[1] ?? '',
        more: res[2] === 1,
        msgsJson: entries.map((e) => encode.storedMessage(e.seq, e.f, e.m, e.b, e.t)),
      };
    });
  }
}
