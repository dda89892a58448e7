// In-process server nodes over the in-memory seams (server/store/memory): the real Hub,
// Presence and Bus, with connections on an in-memory socket. For unit and property tests
// of the delivery core; the integration suites run the same code against real Redis.
import { pino } from 'pino';
import { Bus } from '../../server/bus/bus.ts';
import { Hub } from '../../server/delivery/hub.ts';
import { recordAck } from '../../server/gateway/conn-acks.ts';
import { Conn, type ClientSocket } from '../../server/gateway/connection.ts';
import { createMetrics } from '../../server/observability/metrics.ts';
import { Presence } from '../../server/presence/presence.ts';
import { decodeServerFrame, encode, type ServerFrame } from '../../server/protocol/server-frames.ts';
import { MemoryBroker, type MemoryBusLink } from '../../server/store/memory/memory-bus.ts';
import { MemoryStore, type MemoryStoreOptions } from '../../server/store/memory/memory-store.ts';
import type { ConversationLog } from '../../server/store/log.ts';
import type { GroupStore } from '../../server/store/groups.ts';

const silent = pino({ level: 'silent' });
// one registry's worth of series per node would pile up across thousands of cases
const sharedMetrics = createMetrics({ connections: () => 0, unsentBytes: () => 0, channels: () => 0, framesOut: () => 0 });

/** A socket that keeps what the server wrote, decoded through the server's own codec. */
export class MemorySocket implements ClientSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: ServerFrame[] = [];
  closeCode: number | null = null;
  onClosed: (() => void) | null = null;

  send(data: string | Buffer, _opts: { binary: boolean }, cb?: (err?: Error) => void): void {
    this.frames.push(decodeServerFrame(data.toString()));
    if (cb) queueMicrotask(() => cb());
  }
  close(code: number): void {
    if (this.readyState >= 2) return;
    this.closeCode = code;
    this.terminate();
  }
  terminate(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => this.onClosed?.());
  }
  ping(): void {}
  /** the core tests drive the hub, not the gateway's reading: nothing to pause */
  pause(): void {}
  resume(): void {}
}

export interface SimConn {
  conn: Conn;
  socket: MemorySocket;
  node: SimNode;
}

let connSeq = 0;

export class SimNode {
  readonly name: string;
  readonly hub: Hub;
  readonly presence: Presence;
  readonly bus: Bus;
  readonly link: MemoryBusLink;
  readonly incarnation: string;
  private readonly store: MemoryStore;

  constructor(name: string, store: MemoryStore, broker: MemoryBroker, opts: { backlogLimit?: number; presenceTtlMs?: number; log?: ConversationLog; groups?: GroupStore } = {}) {
    this.name = name;
    this.store = store;
    this.incarnation = `${name}.${++connSeq}`;
    this.link = broker.link(name);
    this.hub = new Hub({ log: opts.log ?? store, cursors: store, groups: opts.groups ?? store }, silent, sharedMetrics, { backlogLimit: opts.backlogLimit ?? 500, slowConsumerBytes: 1 << 20 });
    this.presence = new Presence(store, silent, this.incarnation, opts.presenceTtlMs ?? 30_000, 10, () => this.hub.conns.values());
    this.bus = new Bus(this.link, silent, this.incarnation, 2000, {
      message: (conv, epoch, seq, frame) => this.hub.onMessage(conv, epoch, seq, frame),
      join: (conv, user, at) => this.hub.onJoin(conv, user, at),
      leave: (conv, user, at) => this.hub.onLeave(conv, user, at),
      presence: (user, status, v, ts) => this.presence.onChange(user, status, v, ts),
      read: (user, conv, seq, origin) => this.hub.onRead(user, conv, seq, origin),
      kick: (_user, connId, code) => this.hub.conns.get(connId)?.closeNow(code),
      kickUser: (user, device) => {
        for (const c of this.hub.connsOf(user)) if (device === null || c.device === device) c.closeNow(4401);
      },
      busDown: () => this.hub.onBusDown(),
      resync: (reason) => {
        this.hub.requestResync(reason);
        this.presence.requestReconcile();
      },
    });
  }

  /**
   * The gateway's sequence after a valid hello (server/gateway/gateway.ts onHello):
   * register, take over the device, welcome, connect sync. Resolves once synced.
   */
  async connect(user: string, device: string, presenceSubs: readonly string[] = []): Promise<SimConn> {
    const socket = new MemorySocket();
    const conn = new Conn(`${this.name}.c${++connSeq}`, socket, Date.now());
    conn.identity = { user, device, admin: false, expMs: Date.now() + 3_600_000 };
    socket.onClosed = () => void this.onClose(conn);
    const replaced = await this.presence.open(conn);
    if (replaced === null) throw new Error(`${user}/${device}: too many devices`);
    for (const id of replaced) this.hub.conns.get(id)?.closeNow(4409);
    for (const other of this.hub.connsOf(user)) if (other !== conn && other.device === device) other.closeNow(4409);
    conn.state = 'open';
    this.hub.addConn(conn);
    socket.send(encode.welcome({ user, device, conn: conn.id, node: this.name, heartbeatMs: 25_000, maxBodyBytes: 16_384 }), { binary: false });
    if (presenceSubs.length) {
      this.presence.subscribe(conn, presenceSubs);
      const states = await this.presence.states(presenceSubs);
      presenceSubs.forEach((u, i) => {
        if (this.presence.admitState(conn, u, states[i]!.v)) conn.send(encode.presence(u, states[i]!.status, states[i]!.v, states[i]!.ts));
      });
    }
    await this.hub.syncOnConnect(conn);
    return { conn, socket, node: this };
  }

  /** The gateway's close handling (onClose): flush acks, leave the hub, deregister. */
  private async onClose(conn: Conn): Promise<void> {
    if (conn.state === 'closed') return;
    const wasOpen = conn.state === 'open';
    conn.state = 'closed';
    if (wasOpen) {
      const acks = conn.acks?.take();
      this.hub.removeConn(conn);
      this.presence.dropConn(conn);
      if (acks) await this.store.advanceCursors(conn.user, conn.device, acks).catch(() => {});
    }
    await this.presence.close(conn);
  }

  /** The gateway's `ack` (clamped to the head, coalesced until the connection closes). */
  async ack(c: SimConn, conv: string, seq: number): Promise<void> {
    const mark = await this.hub.clampToHead(c.conn, conv, seq);
    recordAck(c.conn, conv, mark);
  }
}

/** A cluster of simulated nodes sharing one in-memory store and bus. */
export function simCluster(
  nodes: number,
  opts: MemoryStoreOptions & { autoBus?: boolean; backlogLimit?: number; presenceTtlMs?: number; wrapLog?: (log: ConversationLog) => ConversationLog; wrapGroups?: (groups: GroupStore) => GroupStore } = {},
) {
  const broker = new MemoryBroker({ auto: opts.autoBus ?? true });
  const store = new MemoryStore(broker, opts);
  const list = Array.from({ length: nodes }, (_, i) => new SimNode(`n${i + 1}`, store, broker, { backlogLimit: opts.backlogLimit, presenceTtlMs: opts.presenceTtlMs, log: opts.wrapLog?.(store), groups: opts.wrapGroups?.(store) }));
  return { store, broker, nodes: list };
}

/** Lets every queued promise, microtask and immediate run (the in-memory store answers at once). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/**
 * A log whose `states` the test can hold: while held, a read waits, either before it reads
 * the store (`before`: its answer is what the store holds when released) or after (`after`:
 * its answer is what the store held when it was asked, delivered late).
 */
export function heldStates(when: 'before' | 'after') {
  let gate: Promise<void> | null = null;
  let open: () => void = () => {};
  let waiting = 0;
  const wait = async () => {
    if (!gate) return;
    waiting++;
    await gate;
  };
  const wrapLog = (log: ConversationLog): ConversationLog =>
    new Proxy(log, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== 'states') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: Parameters<ConversationLog['states']>) => {
          if (when === 'before') await wait();
          const answer = await target.states(...args);
          if (when === 'after') await wait();
          return answer;
        };
      },
    });
  return {
    wrapLog,
    hold: () => void (gate = new Promise<void>((r) => (open = r))),
    release: () => {
      gate = null;
      open();
    },
    waiting: () => waiting,
  };
}
