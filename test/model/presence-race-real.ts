// The real side of the presence race tests (issue 11, "Presence races"): two server nodes
// on one real Redis with a short PRESENCE_TTL_MS, reused across runs; each run gets fresh
// users, so runs never see each other's presence. The actions a schedule is made of —
// connect, close, replace a device, pause and resume a node (SIGSTOP/SIGCONT), subscribe —
// and what the clients observed (presence frames, closes) for the checks.
import { Client, type Frame } from '../helpers/client.ts';
import { uid } from '../helpers/ids.ts';
import { startNode, type NodeHandle } from '../helpers/nodes.ts';
import { killAll, sleep, waitUntil } from '../helpers/procs.ts';
import { rawCommand, type RedisHandle } from '../helpers/redis.ts';
import { token } from '../helpers/tokens.ts';
import { keys } from '../../server/store/keys.ts';
import { readyz } from '../../harness/protocol-model/world.ts';

/** The nodes' PRESENCE_TTL_MS: short, so a lapse (a node paused past it) costs about a second. */
export const PRESENCE_TTL_MS = 200;
/** How often a node renews its lease and sweeps dead ones (server/presence/presence.ts: ttl/3, at most 1 s). */
export const SWEEP_MS = Math.min(1000, Math.max(50, Math.floor(PRESENCE_TTL_MS / 3)));
/** A lapse pauses at least this long (the lease runs out at most PRESENCE_TTL_MS after it), and until the other node swept the lease. */
export const LAPSE_PAUSE_MS = PRESENCE_TTL_MS + SWEEP_MS;
/** How much longer than LAPSE_PAUSE_MS a lapse may wait for the sweep. */
export const SWEEP_WAIT_MS = 5000;
/** A pause this short never lapses it (the lease still has at least TTL − SWEEP_MS to run). */
export const SHORT_PAUSE_MS = Math.floor(SWEEP_MS / 2);
/**
 * Presence must be right this long after the last action (PROTOCOL.md guarantee 4: within
 * PRESENCE_TTL_MS plus one sweep), plus CONVERGE_SLACK_MS for a loaded machine; every node is
 * running by then.
 */
export const CONVERGE_SLACK_MS = 300;
export const CONVERGE_MS = PRESENCE_TTL_MS + SWEEP_MS + CONVERGE_SLACK_MS;
/** Right presence must stay right this long (a deregistration or a renewal after the last step lands within it). */
export const STABLE_MS = SWEEP_MS + 200;
/** A replaced connection must close 4409 this long after the new one's welcome, or after its own node resumed when that was later. */
export const REPLACE_CLOSE_MS = CONVERGE_MS;

/** A run broke a property the tests check (not a harness failure). */
export class RaceViolation extends Error {
  override name = 'RaceViolation';
}

export interface RaceWorld {
  nodes: NodeHandle[];
  redisPort: number;
  bugs: string;
  /** kills n1 (n0 is shared: see startRaceNode) */
  close(): Promise<void>;
}

/**
 * A node on `redis` (shared by every world of a file), with TEST_BUGS when given. A file
 * starts one correct n0 that every world shares (a node start takes 1–3 s on this machine)
 * and, per world, an n1: correct, or running the variant a control tries. Each deliberate
 * bug then lives on n1 alone, as in a cluster half-way through a bad rollout.
 */
export async function startRaceNode(redis: RedisHandle, bugs = ''): Promise<NodeHandle> {
  const env: Record<string, string | number> = { PRESENCE_TTL_MS };
  if (bugs) env.TEST_BUGS = bugs;
  try {
    return await startNode({ redisUrl: redis.url, env });
  } catch (err) {
    await killAll();
    throw err;
  }
}

export function raceWorld(redis: RedisHandle, n0: NodeHandle, n1: NodeHandle, bugs = ''): RaceWorld {
  return {
    nodes: [n0, n1],
    redisPort: redis.port,
    bugs,
    async close() {
      Client.terminateAll();
      for (const n of [n0, n1]) if (n.paused) n.resume();
      await n1.kill();
    },
  };
}

/** One line of a run's timeline, ms from the run's start. */
export interface Event {
  at: number;
  text: string;
}

export interface DeviceState {
  /** `A/d0`: user letter and device, as schedules print them */
  key: string;
  user: string;
  device: string;
  /** the device's current connection (the latest one opened), once welcomed */
  client: Client | undefined;
  node: number | undefined;
}

export interface Subscriber {
  name: string;
  node: number;
  client: Client;
  /** position in client.received from which presence frames count (after the sub's ok) */
  from: number;
}

/** A run: fresh users A and B (A with two devices), their devices, the subscribers watching them. */
export class RaceRun {
  readonly world: RaceWorld;
  readonly t0 = Date.now();
  readonly users: Record<'A' | 'B', string> = { A: uid('pa'), B: uid('pb') };
  readonly devices: DeviceState[];
  readonly subscribers: Subscriber[] = [];
  readonly timeline: Event[] = [];
  private readonly opened: Client[] = [];

  constructor(world: RaceWorld) {
    this.world = world;
    this.devices = [
      ['A', 'd0'],
      ['A', 'd1'],
      ['B', 'd0'],
    ].map(([u, d]) => ({ key: `${u}/${d}`, user: this.users[u as 'A' | 'B'], device: d!, client: undefined, node: undefined }));
  }

  get watched(): string[] {
    return [this.users.A, this.users.B];
  }

  /** `A` or `B` for a user id of this run (for readable messages). */
  letter(user: string): string {
    return user === this.users.A ? 'A' : user === this.users.B ? 'B' : user;
  }

  ms(at = Date.now()): number {
    return at - this.t0;
  }

  note(text: string, at = Date.now()): void {
    this.timeline.push({ at: this.ms(at), text });
  }

  device(key: string): DeviceState {
    const d = this.devices.find((x) => x.key === key);
    if (!d) throw new Error(`no device ${key}`);
    return d;
  }

  private async open(node: number, user: string, device: string): Promise<Client> {
    const c = await Client.connect(this.world.nodes[node]!.wsUrl);
    this.opened.push(c);
    await c.hello(await token({ sub: user, dev: device }), 15_000);
    return c;
  }

  /** A watcher on `node` subscribed to A and B, with their first states received. */
  async subscribe(name: string, node: number): Promise<string> {
    const client = await this.open(node, uid('pw'), 'w');
    const ok = await client.request({ t: 'presence.sub', users: this.watched }, 15_000);
    if (ok.t !== 'ok') throw new Error(`subscriber ${name}: presence.sub answered ${JSON.stringify(ok)}`);
    const from = client.received.findIndex((r) => r.frame === ok);
    this.subscribers.push({ name, node, client, from });
    for (const u of this.watched) await client.waitFor((f, r) => r.index > from && f.t === 'presence' && f.user === u, 15_000);
    return `${name} subscribed on n${node}`;
  }

  /** Opens the device on `node`; a device already open there is replaced (its older connection must close 4409). */
  async connect(key: string, node: number): Promise<string> {
    const d = this.device(key);
    const old = d.client?.isOpen ? d.client : undefined;
    const oldNode = d.node;
    let c: Client;
    try {
      c = await this.open(node, d.user, d.device);
    } catch (err) {
      // refused (e.g. 1013 while the store was unreachable): the device stays as it was
      return `refused: ${err instanceof Error ? err.message.slice(0, 160) : String(err)}`;
    }
    d.client = c;
    d.node = node;
    if (!old) return `welcome on n${node}`;
    // PROTOCOL.md Connect 5: the older connection closes 4409, also on another node (once
    // that node runs again, when it is paused)
    // (the bound counts from when that node runs again)
    const oldHandle = this.world.nodes[oldNode!]!;
    await waitUntil(() => !oldHandle.paused, { what: `n${oldNode} resumed`, timeoutMs: LAPSE_PAUSE_MS + SWEEP_WAIT_MS + 1000, intervalMs: 10 });
    let closed;
    try {
      closed = await old.waitClose(REPLACE_CLOSE_MS);
    } catch {
      throw new RaceViolation(`${key}: its older connection (on n${oldNode}) was not closed within ${REPLACE_CLOSE_MS} ms of the replace's welcome on n${node} (and of n${oldNode} running)`);
    }
    if (closed.code !== 4409) throw new RaceViolation(`${key}: its older connection (on n${oldNode}) closed ${closed.code} ${closed.reason} after the replace, not 4409`);
    return `welcome on n${node}; the older one closed 4409 at +${this.ms(closed.at)} ms`;
  }

  async close(key: string): Promise<string> {
    const d = this.device(key);
    const c = d.client;
    if (!c?.isOpen) return 'already closed';
    c.close(1000);
    const closed = await c.waitClose(20_000);
    return `closed ${closed.code}`;
  }

  pause(node: number): string {
    this.world.nodes[node]!.pause();
    return 'SIGSTOP';
  }

  /**
   * Resumes `node` at least `forMs` after its pause; for a lapse, not before the other node
   * swept its lease (gone from the lease set: on a loaded machine the sweep can come later
   * than the TTL arithmetic says, and a resume before it would be no lapse at all).
   */
  async resume(node: number, pausedAt: number, forMs: number, lapse: boolean): Promise<string> {
    await sleep(Math.max(0, pausedAt + forMs - Date.now()));
    const n = this.world.nodes[node]!;
    let swept = '';
    if (lapse) {
      const deadline = Date.now() + SWEEP_WAIT_MS;
      const mine = (members: unknown) => Array.isArray(members) && members.some((m) => String(m).startsWith(`${n.nodeId}.`));
      while (mine(await rawCommand(this.world.redisPort, ['ZRANGE', keys.leases(), '0', '-1']))) {
        if (Date.now() > deadline) throw new Error(`n${node}'s lease was not swept within ${forMs + SWEEP_WAIT_MS} ms of its pause (is the other node sweeping?)`);
        await sleep(10);
      }
      swept = ', its lease swept';
    }
    n.resume();
    return `SIGCONT after ${Date.now() - pausedAt} ms${swept}`;
  }

  /** Whether `user` has a welcomed connection its client still holds open: the truth presence must converge to. */
  online(user: string): boolean {
    return this.devices.some((d) => d.user === user && d.client?.isOpen === true);
  }

  /** Presence frames a subscriber received for `user`, in arrival order. */
  framesOf(s: Subscriber, user: string): Array<{ frame: Frame; at: number }> {
    return s.client.received.filter((r) => r.index > s.from && r.frame.t === 'presence' && r.frame.user === user).map((r) => ({ frame: r.frame, at: r.at }));
  }

  /** Closes everything this run opened and makes sure no node is left paused. */
  async teardown(): Promise<void> {
    for (const n of this.world.nodes) if (n.paused) n.resume();
    for (const c of this.opened) c.terminate();
    await sleep(20);
  }
}

/** Both nodes running and ready (a failed run may have left one paused). */
export async function readyWorld(w: RaceWorld): Promise<void> {
  for (const n of w.nodes) {
    if (n.paused) n.resume();
    if (!n.running) throw new Error(`${n.nodeId} is not running: ${n.tail(20)}`);
    await waitUntil(async () => (await readyz(n)) === 200, { what: `${n.nodeId} ready for the next run`, timeoutMs: 20_000, intervalMs: 25 });
  }
}
