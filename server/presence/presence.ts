import type { Logger } from 'pino';
import type { Conn } from '../gateway/connection.ts';
import { encode, type PresenceStatus } from '../protocol/server-frames.ts';
import { textFrame } from '../gateway/ws-frame.ts';
import { capturing } from '../capture/capture.ts';
import { CoalescedWork } from '../util/coalesced.ts';
import type { PresenceStore } from '../store/presence-store.ts';
import { monoNow } from '../util/clock.ts';

/**
 * Presence on one node: the node's lease, registration of its connections under it,
 * sweeping dead incarnations, and fan-out of presence changes to local subscribers.
 * Transitions themselves are decided in Redis scripts (rising `v`, never below Redis
 * time), so two nodes racing on one user cannot make it go backwards.
 */
const RECONCILE_BATCH = 500;

export class Presence {
  readonly incarnation: string;
  private readonly store: PresenceStore;
  private readonly log: Logger;
  private readonly ttlMs: number;
  /** watched user → its local subscribers and the highest `v` broadcast to all of them */
  private readonly watchers = new Map<string, { conns: Set<Conn>; v: number }>();
  /** connections closed while Redis was unreachable; deregistered when it returns */
  private readonly pendingClose = new Map<string, { user: string; connId: string }>();
  /** connections whose open failed without a confirmation either way (see open) */
  private readonly unconfirmed = new Set<string>();
  /**
   * Opens still on their way to the store, by connection id. A close waits for its
   * connection's open: the open's commands are two calls (the node's registry, then the
   * registration), so a close sent while the first was in flight ran before the second, found
   * nothing to remove, and the registration written after it stayed (a ghost device).
   */
  private readonly opening = new Map<string, Promise<unknown>>();
  private renewTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private leaseHeld = false;
  /**
   * When the last renewal the store answered was sent (the lease lasts ttlMs from a moment
   * after it), on both clocks: the monotonic one stands still while the host is suspended
   * (a laptop's sleep, a paused VM) and Redis's TTL does not; the wall clock is stepped. The
   * lease counts as lapsed once either says ttlMs passed: the side that refuses connects.
   */
  private leaseConfirmedAt = -Infinity;
  private leaseConfirmedWallAt = -Infinity;
  /** lapses of the lease seen so far */
  private lapses = 0;
  /** lapses covered by a re-registration that got through every connection (behind `lapses`: one is owed) */
  private reregistered = 0;
  private renewing: Promise<void> | null = null;
  private reregistering: Promise<void> | null = null;
  /** the lease generation registrations are written under (a new one after every lapse) */
  private generation = 0;
  private stopped = false;
  /** open registered connections, for re-registration after the lease lapsed */
  private readonly registered: () => Iterable<Conn>;
  private readonly maxDevices: number;

  /** closes a local connection the store says was replaced (its 4409 may have been lost with the bus) */
  private readonly closeReplaced: (conn: Conn) => void;
  private readonly reconciles: CoalescedWork;

  constructor(store: PresenceStore, log: Logger, incarnation: string, ttlMs: number, maxDevices: number, registered: () => Iterable<Conn>, closeReplaced: (conn: Conn) => void = (c) => c.closeNow(4409, 'replaced by a newer connection')) {
    this.closeReplaced = closeReplaced;
    this.reconciles = new CoalescedWork(() => this.reconcile(), (err) => this.log.warn({ err: String(err) }, 'presence reconcile failed; retrying'));
    this.store = store;
    this.log = log;
    this.incarnation = incarnation;
    this.ttlMs = ttlMs;
    this.maxDevices = maxDevices;
    this.registered = registered;
  }

  /** deregistrations waiting for Redis */
  get pendingCloses(): number {
    return this.pendingClose.size;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  start(): void {
    const renewEvery = Math.max(50, Math.floor(this.ttlMs / 3));
    this.renewTimer = setInterval(() => void this.renew(), renewEvery);
    this.renewTimer.unref();
    this.sweepTimer = setInterval(() => void this.sweepDead(), Math.min(1000, renewEvery));
    this.sweepTimer.unref();
    void this.renew();
  }

  stop(): void {
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  /** Registers a connection: null when the user has too many devices open. */
  async open(conn: Conn): Promise<string[] | null> {
    // A connection registered before the lease exists could never be swept if this
    // node died: hold the lease first.
    if (!this.leaseHeld) await this.renewLease();
    if (!this.leaseHeld) throw new Error('presence lease not held');
    // An open the store did not confirm (no answer within STORE_TIMEOUT_MS) may still have
    // written the registration: close() must remove it either way, or the user stays online
    // with a ghost connection until this node dies.
    conn.registered = true;
    let replaced: string[] | null;
    const generation = this.generation;
    const open = this.store.openConn(this.registration(conn), this.maxDevices, 'hello');
    this.opening.set(conn.id, open);
    try {
      replaced = await open;
    } catch (err) {
      this.unconfirmed.add(conn.id);
      throw err;
    } finally {
      this.opening.delete(conn.id);
    }
    if (replaced === null) conn.registered = false;
    // A lapse noticed while this open was on its way: it wrote the older generation, which a
    // sweep of that lapse removes (its registration, or its registry entry before it), and that
    // lapse's re-registration did not see this connection (in the hub only once this returns).
    // Another is owed; the next renewal runs it. (Found in a review, 2026-12-06.)
    else if (this.generation !== generation) this.lapses++;
    return replaced;
  }

  private registration(conn: Conn) {
    return { user: conn.user, connId: conn.id, device: conn.device, incarnation: this.incarnation, generation: this.generation };
  }

  async close(conn: Conn): Promise<void> {
    const opening = this.opening.get(conn.id);
    // its outcome is the open's caller's; here only its end matters
    if (opening) await opening.catch(() => {});
    if (!conn.registered) return;
    conn.registered = false;
    const unconfirmed = this.unconfirmed.delete(conn.id);
    try {
      await this.store.closeConn(conn.user, conn.id, this.incarnation);
    } catch {
      this.pendingClose.set(conn.id, { user: conn.user, connId: conn.id });
      return;
    }
    // the unconfirmed open's commands may still run after this close (sent on a link that was
    // dropped and reopened meanwhile): remove it once more at the next renewal (idempotent)
    if (unconfirmed) this.pendingClose.set(conn.id, { user: conn.user, connId: conn.id });
  }

  /** Renews the lease, then re-registers the connections when a lapse left that owed (see reregistration). */
  async renew(): Promise<void> {
    await this.renewLease();
    await this.reregistration();
  }

  /**
   * Writes the lease (one write at a time: the timer's, an open's and a test's share the one
   * in flight). Never waits for a re-registration: with thousands of connections that takes
   * one store call each, and a renewal held behind it let the lease lapse again meanwhile.
   */
  private renewLease(): Promise<void> {
    return (this.renewing ??= this.renewLeaseOnce().finally(() => (this.renewing = null)));
  }

  private async renewLeaseOnce(): Promise<void> {
    if (this.stopped) return;
    const sentAt = monoNow();
    const sentWallAt = Date.now();
    try {
      const { held, generation } = await this.store.renewLease(this.incarnation, this.ttlMs);
      this.leaseConfirmedAt = sentAt;
      this.leaseConfirmedWallAt = sentWallAt;
      // A new generation is a lapse too, though this renewal found the lease held: the one
      // that saw the lapse started the generation in the store, and its answer came later
      // than STORE_TIMEOUT_MS (Redis just back, or resuming from a pause). Counted on `held`
      // alone, the connections another node swept meanwhile stayed unregistered — offline to
      // their subscribers while open — until they reconnected.
      const lapsed = !held || generation !== this.generation;
      this.generation = generation;
      if (lapsed && this.leaseHeld) this.log.warn({ generation }, 'presence lease had lapsed; re-registering connections');
      if (lapsed) this.lapses++;
      this.leaseHeld = true;
    } catch (err) {
      if (this.leaseHeld) this.log.warn({ err: String(err) }, 'presence lease renewal failed');
      // The lease the last answered renewal wrote still stands until ttlMs after it was sent
      // (Redis counts from when it ran the renewal, later still), and connects need no more:
      // a registration the store takes is under that lease, and a lapse after it is caught by
      // the generation as between renewals. Dropping the lease at once made one failed
      // renewal turn connects away: a renewal timed out while the node was frozen (its
      // ioredis timer ran before the socket with its answer was read), or on a Redis busy
      // with a 100k ramp's backlog, and every connect then waited for a renewal of its own
      // and was closed 1013 when that one failed as well (README "The ramp alone").
      if (monoNow() - this.leaseConfirmedAt >= this.ttlMs || Date.now() - this.leaseConfirmedWallAt >= this.ttlMs) this.leaseHeld = false;
      return;
    }
    if (this.reregistered < this.lapses) void this.reregistration();
    try {
      await this.flushPendingCloses();
    } catch {
      // kept: the next renewal flushes them
    }
  }

  /**
   * The re-registration owed after lapses (one at a time; the renewals go on beside it). Owed
   * until one got through every connection: the renewal that saw the lapse also wrote the
   * lease, so the next one finds it held, and a re-registration that failed part-way (a store
   * timeout as the node came back from a freeze) would otherwise leave the rest swept offline
   * while they stay open (the node-pause scenario, CI run of 12963d3: 20 users offline for
   * their subscribers from the sweep at 7 s to the end). A lapse seen while one runs is owed
   * another: registrations written before it carry the older generation, which gets swept.
   */
  private reregistration(): Promise<void> {
    return (this.reregistering ??= this.reregisterOwed().finally(() => (this.reregistering = null)));
  }

  private async reregisterOwed(): Promise<void> {
    while (this.reregistered < this.lapses && this.leaseHeld && !this.stopped) {
      const covers = this.lapses;
      try {
        await this.reregister();
      } catch (err) {
        this.log.warn({ err: String(err) }, 'presence re-registration failed; the next renewal tries again');
        return;
      }
      this.reregistered = covers;
    }
  }

  /** After a lapse (Redis restarted, or other nodes swept us while cut off). */
  private async reregister(): Promise<void> {
    for (const conn of this.registered()) {
      if (!conn.registered || !conn.isOpen) continue;
      if ((await this.store.openConn(this.registration(conn), this.maxDevices, 'reregister')) === null) {
        // its device connected again (elsewhere) while this node's lease had lapsed and its
        // registration was swept: this one is the older connection, replaced (4409), not a
        // second live connection of the device. Found by test/model/presence-race.model.test.ts.
        conn.registered = false;
        this.closeReplaced(conn);
        continue;
      }
      // Closed while it was being written: its close's deregistration may have reached Redis
      // first, and this write would then leave a ghost that keeps the user online until the
      // node dies. Remove it again (idempotent). Found by test/model/presence-race.model.test.ts.
      if (!conn.registered || !conn.isOpen) await this.store.closeConn(conn.user, conn.id, this.incarnation);
    }
  }

  private async flushPendingCloses(): Promise<void> {
    for (const [id, p] of this.pendingClose) {
      await this.store.closeConn(p.user, p.connId, this.incarnation);
      this.pendingClose.delete(id);
    }
  }

  /** One sweep (the timer runs it every second): takes lapsed incarnations' connections offline; returns how many. */
  async sweepDead(): Promise<number> {
    if (this.stopped || !this.leaseHeld) return 0;
    let total = 0;
    try {
      const dead = await this.store.expiredLeases(10);
      for (const inc of dead) {
        if (inc === this.incarnation) continue;
        const n = await this.store.sweepIncarnation(inc, this.incarnation);
        total += n;
        // only a sweep that took connections offline: the one node that claimed the dead incarnation, once per node death
        if (n > 0) capturing?.sweep(inc, n);
        if (n > 0) this.log.info({ incarnation: inc, connections: n }, 'took a dead node incarnation\'s connections offline');
      }
    } catch {
      // the next sweep tries again
    }
    return total;
  }

  /** Deregisters everything on shutdown. */
  async shutdown(conns: Iterable<Conn>, deadlineMs: number): Promise<void> {
    this.stop();
    const work = (async () => {
      // 32 at a time: a store that does not answer costs STORE_TIMEOUT_MS per round, not per connection
      const list = [...conns];
      for (let i = 0; i < list.length; i += 32) await Promise.all(list.slice(i, i + 32).map((c) => this.close(c).catch(() => {})));
      await this.flushPendingCloses();
      await this.store.dropLease(this.incarnation);
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deadlineMs)));
    try {
      if ((await Promise.race([work, late])) === 'late') this.log.warn({ deadlineMs }, 'deregistration did not finish in time; other nodes will sweep this incarnation');
    } catch (err) {
      this.log.warn({ err: String(err) }, 'could not deregister on shutdown; other nodes will sweep this incarnation');
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- subscriptions ---------------------------------------------------------------

  /**
   * Current states, for a new subscription's first frames. (They go to that connection
   * alone, so they do not raise the `v` the watchers were all sent.)
   */
  states(users: readonly string[]) {
    return this.store.presence(users);
  }

  subscribe(conn: Conn, users: readonly string[]): void {
    conn.presenceSubs ??= new Map();
    for (const u of users) {
      if (!conn.presenceSubs.has(u)) conn.presenceSubs.set(u, 0);
      let w = this.watchers.get(u);
      if (!w) this.watchers.set(u, (w = { conns: new Set(), v: 0 }));
      w.conns.add(conn);
    }
  }

  unsubscribe(conn: Conn, users: Iterable<string>): void {
    if (!conn.presenceSubs) return;
    for (const u of [...users]) {
      conn.presenceSubs.delete(u);
      const w = this.watchers.get(u);
      if (!w) continue;
      w.conns.delete(conn);
      if (w.conns.size === 0) this.watchers.delete(u);
    }
  }

  dropConn(conn: Conn): void {
    if (conn.presenceSubs) this.unsubscribe(conn, conn.presenceSubs.keys());
    conn.presenceSubs = null;
  }

  /**
   * Whether a subscription's current-state frame for `user` may go out on `conn` (and
   * records its `v`): not when the connection was already sent a higher `v`. The state is
   * read on the command link while changes come on the bus, so a read answered before a
   * change can reach the node after it; sent as it is, it would show the older state with
   * a `v` that went back (found by test/model/presence-race.model.test.ts).
   */
  admitState(conn: Conn, user: string, v: number): boolean {
    const sent = conn.presenceSubs?.get(user);
    if (sent === undefined || v < sent) return false;
    conn.presenceSubs!.set(user, v);
    return true;
  }

  onChange(user: string, status: PresenceStatus, v: number, ts: number): void {
    const w = this.watchers.get(user);
    if (!w) return;
    if (v > w.v) w.v = v;
    // framed once for every watcher
    const frame = textFrame(encode.presence(user, status, v, ts));
    for (const c of w.conns) {
      // per connection, `v` only rises: a change its current-state frame already covered is not sent again
      const sent = c.presenceSubs?.get(user);
      if (sent === undefined || v <= sent) continue;
      c.presenceSubs!.set(user, v);
      c.send(frame);
    }
  }

  // ---- after the bus lost payloads ---------------------------------------------------

  /**
   * The bus may have lost presence changes and device replacements (`p`, `k`): re-read
   * the watched users' states (subscribers get any newer `v`) and the local users'
   * registrations (a local connection whose device registered another connection
   * meanwhile was replaced: it is closed 4409). Runs coalesce; a failed run is retried.
   */
  requestReconcile(): void {
    this.reconciles.request();
  }

  async reconcile(): Promise<void> {
    const watched = [...this.watchers.keys()];
    for (let i = 0; i < watched.length; i += RECONCILE_BATCH) {
      const batch = watched.slice(i, i + RECONCILE_BATCH);
      const states = await this.store.presence(batch);
      batch.forEach((u, j) => {
        const s = states[j]!;
        if (s.v > (this.watchers.get(u)?.v ?? Infinity)) this.onChange(u, s.status, s.v, s.ts);
      });
    }
    const byUser = new Map<string, Conn[]>();
    for (const c of this.registered()) {
      if (!c.registered || !c.isOpen) continue;
      const list = byUser.get(c.user);
      if (list) list.push(c);
      else byUser.set(c.user, [c]);
    }
    const users = [...byUser.keys()];
    for (let i = 0; i < users.length; i += RECONCILE_BATCH) {
      const batch = users.slice(i, i + RECONCILE_BATCH);
      const regs = await Promise.all(batch.map((u) => this.store.registrations(u)));
      batch.forEach((u, j) => {
        const devices = new Set(regs[j]!.values());
        for (const c of byUser.get(u)!) {
          if (!regs[j]!.has(c.id) && devices.has(c.device)) this.closeReplaced(c);
        }
      });
    }
  }
}
