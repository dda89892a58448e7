import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { BusLink, BusLinkEvents } from '../bus/link.ts';
import type { BusPayload } from '../bus/payloads.ts';
import { keys } from '../store/keys.ts';
import { storeCall } from '../store/redis/scripts.ts';
import type { ConversationLog, LogEntry, SendRequest, SendResult } from '../store/log.ts';
import type { GroupStore } from '../store/groups.ts';
import type { PresenceStore } from '../store/presence-store.ts';
import type { Stores } from '../store/stores.ts';
import { cursorOnPush, errorRepliesWithoutId, upgradeWithoutErrorListener } from './faulty-gateway.ts';
import { ackPastHead, epochUnannounced, heartbeatNeverCloses, neverCutSlowConsumers, slowDelivery, syncedEarly } from './faulty-delivery.ts';
import { leakPerConnection } from './faulty-leak.ts';
import { localView } from './faulty-presence.ts';

/**
 * Deliberately faulty seams, for the harness's own tests: each one breaks exactly one
 * guarantee, so a test can show that the checker for it fails (and names the message).
 * Only server/test-main.ts wires them; production code has no switch for them.
 * One is no bug: `bus_delay` is a network fault the correct server must ride out, for tests
 * that need a node's bus behind its store reads (which one REDIS_URL's toxics cannot do).
 */
export const storeBugs = {
  /** every retry of a stored (conversation, sender, cmid) is stored again: breaks guarantee 2 (`duplicate`) */
  skip_dedupe: (s: Stores, redis: Redis): Stores => ({ ...s, log: new ForgetfulDedupeLog(s.log, redis) }),
  /** dedupe keyed by (conversation, cmid) without the sender: a second sender reusing a cmid is answered `dup` with the first one's seq and its message is never stored — breaks guarantee 1 (`lost`) */
  dedupe_ignores_sender: (s: Stores, redis: Redis): Stores => ({ ...s, log: new SenderBlindDedupeLog(s.log, redis) }),
  /** a replay (backlog) read loses its first message, announced as trimmed: breaks guarantee 1 (`lost`) */
  drop_replay: (s: Stores): Stores => ({ ...s, log: new LossyReplayLog(s.log) }),
  /** hole fills (bounded log reads) come back empty, so holes are announced as trimmed: breaks guarantee 1 */
  skip_gap_fill: (s: Stores): Stores => ({ ...s, log: new EmptyFillLog(s.log) }),
  /** leave payloads (`l`) never reach the node: a leaver's open connections keep getting the group's messages, breaking privacy (`unexpected`) */
  lose_leaves: (s: Stores): Stores => ({ ...s, bus: new LosingBus(s.bus, (text) => text.startsWith('l\t')) }),
  /**
   * Not a server bug: a network fault, for tests. Every bus payload (any node's, this node's
   * own heartbeats included) reaches this node BUS_DELAY_MS late, in the order it came, while
   * its command link answers at once: the node's bus lags behind what it reads from the store
   * (test/integration/synced-behind-bus.test.ts). A correct server still keeps every guarantee.
   * Run such a node with STORE_TIMEOUT_MS above BUS_DELAY_MS (the default, 2000, is), or it
   * takes its own late heartbeat for a stalled link and reopens the bus over and over.
   */
  bus_delay: (s: Stores): Stores => ({ ...s, bus: new DelayedBus(s.bus, BUS_DELAY_MS) }),
  /** presence payloads saying `offline` never reach the node: its subscribers keep showing users online who left (`presence`, over time) */
  lose_presence_offline: (s: Stores): Stores => ({ ...s, bus: new LosingBus(s.bus, (text) => text.startsWith('p\t') && text.split('\t')[2] === 'offline') }),
  /** issue 8 item 3 back: a group create or add writes the group into every listed user's index before it is authorized, so refused requests leave keys (`residue`) */
  index_before_authorize: (s: Stores, redis: Redis): Stores => ({ ...s, groups: indexFirst(s.groups, redis) }),
  /** a lapsed lease is never noticed (renewal always says held): after a freeze past PRESENCE_TTL_MS the node never re-registers the connections it still serves, so they stay offline (`presence`, over time) */
  ignore_lease_lapse: (s: Stores): Stores => ({ ...s, presence: leaseBlind(s.presence) }),
  /** a close deregisters every connection of its device, not only its own: a zombie's late close takes the device's newer connection on another node offline (`presence`, over time) */
  close_by_device: (s: Stores): Stores => ({ ...s, presence: closingByDevice(s.presence) }),
  /** a node writes `offline` when the user's last connection on it closes, over the stored state (last writer wins): a device still open on another node shows offline (`presence`) */
  presence_local_view: (s: Stores, redis: Redis): Stores => ({ ...s, presence: localView(s.presence, redis) }),
  /** the device limit off by one: a user's hello is refused only past MAX_DEVICES + 1 other devices, so MAX_DEVICES + 1 are open at once (`presence`, device limit) */
  device_limit_plus_one: (s: Stores): Stores => ({ ...s, presence: limitPlusOne(s.presence) }),
} as const;

/** Faults of the process rather than a seam, started once the node listens. */
export const processBugs = {
  /** an uncaught exception 100 ms after `listening`: the node must log it and exit 1 */
  throw_uncaught: (): void => {
    setTimeout(() => {
      throw new Error('deliberate uncaught exception (TEST_BUGS=throw_uncaught)');
    }, 100);
  },
  /** the same 4 s after `listening`: a node that serves for a while, then dies by itself mid-run */
  throw_uncaught_later: (): void => {
    setTimeout(() => {
      throw new Error('deliberate uncaught exception (TEST_BUGS=throw_uncaught_later)');
    }, 4000);
  },
  /** issue 8 item 1 back: a non-/ws upgrade answered on a raw socket without an 'error' listener, so a reset during the answer kills the node */
  upgrade_socket_no_error_listener: upgradeWithoutErrorListener,
  /** an `error` answering a request leaves out its id: breaks PROTOCOL.md's one reply per id (`answers`) */
  error_reply_without_id: errorRepliesWithoutId,
  /** a live push moves the device's cursor as its ack would: pushes a drop swallows, or a device received but had not acked, are never replayed (`inflight`, `lost`) */
  cursor_on_push: cursorOnPush,
  /** an ack above the head is stored as the cursor, not clamped: a device that acked ahead misses what was stored after (`lost`) */
  ack_past_head: ackPastHead,
  /** slow consumers are never cut 4413: the node buffers without bound for readers that stopped reading */
  never_cut_slow_consumers: neverCutSlowConsumers,
  /** silent connections are never closed 4408: half-open and frozen clients are never reclaimed (`reclaim`) */
  heartbeat_never_closes: heartbeatNeverCloses,
  /** an epoch change (a volatile Redis restarted empty) is not announced on open connections that knew the old epoch: the new seqs arrive with no `conv` frame (`order`) */
  epoch_unannounced: epochUnannounced,
  /** `synced` sent as the connect sync starts, the genuine one at its end dropped: every backlog a reconnecting device is owed comes after `synced` (`order`) */
  synced_early: syncedEarly,
  /** every closed connection leaves its id and 4 KiB of heap behind for good (`leaks`, per connection opened) */
  leak_per_connection: leakPerConnection,
  /** every frame a connection writes first burns SLOW_DELIVERY_BURN_US of CPU: only the bench's ratios to the raw-ws baseline catch it (`imstorm bench`'s CI gate) */
  slow_delivery: slowDelivery,
} as const;

export type TestBug = keyof typeof storeBugs | keyof typeof processBugs;
export const isStoreBug = (b: TestBug): b is keyof typeof storeBugs => Object.hasOwn(storeBugs, b);

export function parseTestBugs(text: string): TestBug[] {
  const known = [...Object.keys(storeBugs), ...Object.keys(processBugs)];
  const out: TestBug[] = [];
  for (const b of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!known.includes(b)) throw new Error(`TEST_BUGS: unknown bug "${b}" (known: ${known.join(', ')})`);
    out.push(b as TestBug);
  }
  return out;
}

/** Passes every call through; subclasses override the one they break. */
export class LogWrapper implements ConversationLog {
  protected readonly inner: ConversationLog;
  constructor(inner: ConversationLog) {
    this.inner = inner;
  }
  send(req: SendRequest) {
    return this.inner.send(req);
  }
  states(user: string, convs: readonly string[], afterLog?: boolean) {
    return this.inner.states(user, convs, afterLog);
  }
  heads(convs: readonly string[]) {
    return this.inner.heads(convs);
  }
  range(conv: string, from: number, to: number | null, count: number) {
    return this.inner.range(conv, from, to, count);
  }
  history(...args: Parameters<ConversationLog['history']>) {
    return this.inner.history(...args);
  }
  reclaim(limit: number) {
    return this.inner.reclaim(limit);
  }
}

/**
 * Stores every retry again: deletes the dedupe entry a send just wrote, and a send the store
 * answers `dup` (an earlier attempt committed: unanswered, e.g. through a Redis pause, or its
 * entry's deletion failed, or it ran on another node meanwhile) is written again once its
 * entry is gone. When that deletion fails, the send fails `unavailable` instead.
 *
 * Why the `dup` answer is the trigger, not a per-node list of failed sends (until
 * 2026-12-04): a retry that failed over to another node, or that raced the list's drain (one
 * entry deleted per round trip), was answered `dup`, so a run stored 1-4 duplicates or now
 * and then none (explore-control's skip_dedupe replay in the CI run of 3dcf9ad).
 */
class ForgetfulDedupeLog extends LogWrapper {
  private readonly redis: Redis;
  constructor(inner: ConversationLog, redis: Redis) {
    super(inner);
    this.redis = redis;
  }
  override async send(req: SendRequest): Promise<SendResult> {
    const entry = [keys.dedupe(req.conv), `${req.sender}\n${req.cmid}`] as const;
    let res = await this.inner.send(req);
    if (res.dup) {
      // under the seams' error contract, as the store's own calls (a failure is `unavailable`)
      await storeCall(() => this.redis.hdel(...entry));
      res = await this.inner.send(req);
    }
    if (!res.dup) await this.redis.hdel(...entry).catch(() => {});
    return res;
  }
}

/**
 * Remembers each (conversation, cmid) in Redis, so every node sees it, and answers a later
 * send of that cmid by another sender as a duplicate of the first: what a server whose
 * dedupe key forgot the sender does to clients that number their cmids from 1.
 */
class SenderBlindDedupeLog extends LogWrapper {
  private readonly redis: Redis;
  constructor(inner: ConversationLog, redis: Redis) {
    super(inner);
    this.redis = redis;
  }
  override async send(req: SendRequest): Promise<SendResult> {
    const key = `testbug:cmid:{${req.conv}}:${req.cmid}`;
    const first = await this.redis.get(key);
    if (first) {
      const [sender, epoch, seq, ts] = first.split('\n');
      if (sender !== req.sender) return { seq: Number(seq), ts: Number(ts), epoch: epoch!, dup: true };
    }
    const res = await this.inner.send(req);
    await this.redis.set(key, [req.sender, res.epoch, res.seq, res.ts].join('\n'), 'PX', 3_600_000, 'NX');
    return res;
  }
}

/** Replays read with no upper bound (the hub's backlog reads); their first entry goes missing. */
export class LossyReplayLog extends LogWrapper {
  override async range(conv: string, from: number, to: number | null, count: number): Promise<LogEntry[]> {
    const entries = await this.inner.range(conv, from, to, count);
    return to === null ? entries.slice(1) : entries;
  }
}

/** Bounded reads (the channels' hole fills) find nothing. */
export class EmptyFillLog extends LogWrapper {
  override async range(conv: string, from: number, to: number | null, count: number): Promise<LogEntry[]> {
    return to === null ? this.inner.range(conv, from, to, count) : [];
  }
}

/** A bus link passed through, except its payloads: each goes to `deliver`, which decides when (or whether) this link emits it. */
abstract class BusWrapper extends EventEmitter<BusLinkEvents> implements BusLink {
  protected readonly inner: BusLink;
  constructor(inner: BusLink) {
    super();
    this.inner = inner;
    inner.on('payload', (text) => this.deliver(text));
    inner.on('up', () => this.emit('up'));
    inner.on('down', () => this.emit('down'));
  }
  protected abstract deliver(text: string): void;
  publish(payload: BusPayload): Promise<void> {
    return this.inner.publish(payload);
  }
  get isUp(): boolean {
    return this.inner.isUp;
  }
  reopen(reason: string): void {
    this.inner.reopen(reason);
  }
}

/** The bus as usual, except that the payloads `lost` picks (published by any node) never arrive. */
export class LosingBus extends BusWrapper {
  private readonly lost: (text: string) => boolean;
  constructor(inner: BusLink, lost: (text: string) => boolean) {
    super(inner);
    this.lost = lost;
  }
  protected deliver(text: string): void {
    if (!this.lost(text)) this.emit('payload', text);
  }
}

/** How late TEST_BUGS=bus_delay brings every bus payload (ms). */
export const BUS_DELAY_MS = 1000;

/**
 * The bus as usual, except that every payload (published by any node) arrives `delayMs`
 * after the inner link brought it, in the same order: a slow network on the bus alone.
 * `up` and `down` pass at once (what a drop loses is the contract's, BusLink); payloads
 * still on their way are handed over after either, as a slow network would.
 */
export class DelayedBus extends BusWrapper {
  private readonly delayMs: number;
  private readonly queue: { due: number; text: string }[] = [];
  private timer: NodeJS.Timeout | null = null;
  constructor(inner: BusLink, delayMs: number) {
    super(inner);
    this.delayMs = delayMs;
  }
  protected deliver(text: string): void {
    this.queue.push({ due: performance.now() + this.delayMs, text });
    if (!this.timer) this.arm();
  }
  /** one timer for the queue's head: a fixed delay keeps the queue in due order */
  private arm(): void {
    const next = this.queue[0];
    if (!next) return;
    this.timer = setTimeout(() => this.handOver(), Math.max(0, next.due - performance.now()));
    this.timer.unref();
  }
  private handOver(): void {
    this.timer = null;
    const now = performance.now();
    try {
      while (this.queue.length && this.queue[0]!.due <= now) this.emit('payload', this.queue.shift()!.text);
    } finally {
      this.arm();
    }
  }
}

/**
 * Renewals always say held, under the generation the incarnation first had: the node sees
 * no lapse either way (the generation changing is one too, presence.ts renewLeaseOnce).
 */
function leaseBlind(inner: PresenceStore): PresenceStore {
  const p = Object.create(inner) as PresenceStore;
  const firstGeneration = new Map<string, number>();
  p.renewLease = async (incarnation, ttlMs) => {
    const { generation } = await inner.renewLease(incarnation, ttlMs);
    if (!firstGeneration.has(incarnation)) firstGeneration.set(incarnation, generation);
    return { held: true, generation: firstGeneration.get(incarnation)! };
  };
  return p;
}

function limitPlusOne(inner: PresenceStore): PresenceStore {
  const p = Object.create(inner) as PresenceStore;
  p.openConn = (reg, maxDevices, mode) => inner.openConn(reg, maxDevices + 1, mode);
  return p;
}

function closingByDevice(inner: PresenceStore): PresenceStore {
  const p = Object.create(inner) as PresenceStore;
  const deviceOf = new Map<string, string>();
  p.openConn = async (reg, maxDevices, mode) => {
    deviceOf.set(reg.connId, reg.device);
    return inner.openConn(reg, maxDevices, mode);
  };
  p.closeConn = async (user, connId, incarnation) => {
    const device = deviceOf.get(connId);
    deviceOf.delete(connId);
    for (const [id, d] of await inner.registrations(user)) if (id !== connId && d === device) await inner.closeConn(user, id, incarnation);
    await inner.closeConn(user, connId, incarnation);
  };
  return p;
}

/** The group store as usual, except that a create or add first indexes the group for every listed user, refused or not. */
function indexFirst(inner: GroupStore, redis: Redis): GroupStore {
  const index = async (group: string, users: readonly string[]) => {
    if (users.length) await redis.pipeline(users.map((u) => ['hset', keys.userConvs(u), `g:${group}`, '1'])).exec();
  };
  return {
    userConvs: (user) => inner.userConvs(user),
    forgetConvs: (user, convs) => inner.forgetConvs(user, convs),
    createGroup: async (owner, group, members) => {
      await index(group, members);
      return inner.createGroup(owner, group, members);
    },
    joinGroup: async (caller, group, users) => {
      await index(group, users);
      return inner.joinGroup(caller, group, users);
    },
    leaveGroup: (caller, group, user) => inner.leaveGroup(caller, group, user),
    getGroup: (caller, group) => inner.getGroup(caller, group),
  };
}
