// The model of PROTOCOL.md's message semantics that the model-based protocol tests
// (protocol.model.test.ts) compare a real cluster against: each conversation's log (seq,
// sender, cmid, body), dedupe by (conversation, sender, cmid), group membership as join and
// leave seqs, and each device's cursor as a range [lo, hi] (acks are coalesced and written
// about once a second, so only a graceful close confirms that a cursor reached the store).
// Pure data and functions: no sockets here, so what the model predicts can be read alone.

export interface Entry {
  seq: number;
  from: string;
  cmid: string;
  body: string;
}

/** One membership of a user: messages with join < seq ≤ left (left -1: still a member). */
export interface Membership {
  join: number;
  left: number;
}

export interface ConvModel {
  id: string;
  kind: 'dm' | 'group';
  /** log[seq - 1] */
  log: Entry[];
  /** `${sender}\n${cmid}` → seq */
  dedupe: Map<string, number>;
  /** every membership of each user, oldest first (a dm's two users: one from 0, never left) */
  members: Map<string, Membership[]>;
}

export interface DeviceModel {
  key: string;
  user: string;
  device: string;
  /** per conv: a cursor value the store certainly holds (a graceful close flushed it) */
  lo: Map<string, number>;
  /** per conv: the highest cursor the device's acks asked for, clamped to the head */
  hi: Map<string, number>;
  /**
   * convs whose acks may be lost: a connection of the device ended on a killed node, or
   * closed on one cut from Redis, before its coalesced acks were written (PROTOCOL.md lets
   * an unhealthy node lose them). The stored cursor is then anywhere in [lo, hi] until an
   * ack at hi or above is written (a later Ack command asking for at least hi).
   */
  unsure: Set<string>;
  /** the open connection, when there is one */
  conn: { node: number; start: Map<string, number> } | undefined;
}

/** A send answered `unavailable`/`internal`: PROTOCOL.md says its outcome is unknown until a retry with the same cmid answers. */
export interface Uncertain {
  conv: string;
  sender: string;
  cmid: string;
  body: string;
}

export interface NodeModel {
  up: boolean;
  /** its Redis link is cut (only the relayed node) */
  cut: boolean;
}

export interface Model {
  users: string[];
  group: string;
  convs: ConvModel[];
  devices: DeviceModel[];
  nodes: NodeModel[];
  uncertain: Uncertain[];
  /** which node's Redis link goes through the relay */
  relayed: number;
  /** the epoch each conversation first showed; it must never change (no Redis data is lost here) */
  epochs: Map<string, string>;
}

export const head = (c: ConvModel): number => c.log.length;

export function conv(m: Model, id: string): ConvModel {
  const c = m.convs.find((x) => x.id === id);
  if (!c) throw new Error(`model: no conversation ${id}`);
  return c;
}

export const healthy = (m: Model, node: number): boolean => m.nodes[node]!.up && !m.nodes[node]!.cut;

export function isMemberNow(c: ConvModel, user: string): boolean {
  const ms = c.members.get(user);
  return !!ms?.length && ms.at(-1)!.left < 0;
}

/** Was `user` a member when seq `s` was stored? */
export function memberAt(c: ConvModel, user: string, s: number): boolean {
  return (c.members.get(user) ?? []).some((ms) => ms.join < s && (ms.left < 0 || s <= ms.left));
}

/** The store's view of the user's latest membership (server ConvState join/left): join -1 = never a member. */
export function lastMembership(c: ConvModel, user: string): Membership {
  return c.members.get(user)?.at(-1) ?? { join: -1, left: -1 };
}

/**
 * Where delivery of `c` starts for a device whose stored cursor is `own` (PROTOCOL.md
 * "Connect" 6: a join sets the cursor to the head at that join; never past the head): in
 * the first of the user's memberships, oldest first, that still owes the device something
 * (guarantee 1: every membership's messages, each from its join point) — or, when none
 * does, where the latest one starts, clamped as above.
 */
export function startFor(c: ConvModel, user: string, own: number): number {
  const ms = c.members.get(user) ?? [];
  for (const m of ms.slice(0, -1)) {
    const from = Math.max(own, m.join);
    if (from < Math.min(m.left, head(c))) return from;
  }
  const last = ms.at(-1) ?? { join: -1, left: -1 };
  return Math.min(head(c), Math.max(own, last.join));
}

/** The join points of the user's memberships after the one `from` lies in: where a backlog's later `conv` frames may start. */
export function laterJoins(c: ConvModel, user: string, from: number): number[] {
  return (c.members.get(user) ?? []).map((m) => m.join).filter((j) => j > from);
}

/**
 * The cursor GET /v1/conversations lists for a device whose stored cursor is `own`: never
 * below the latest join (an earlier membership still owed is replayed at connect, not listed).
 */
export function listedCursor(c: ConvModel, user: string, own: number): number {
  return Math.min(head(c), Math.max(own, lastMembership(c, user).join));
}

/** Where the replay of `c` ends for `user`: the head, or the head when it left. */
export function endFor(c: ConvModel, user: string): number {
  const { left } = lastMembership(c, user);
  return left >= 0 ? left : head(c);
}

/** The seqs a connection that started `c` after `start` must receive, in order. */
export function expectedSeqs(c: ConvModel, user: string, start: number): number[] {
  const out: number[] = [];
  for (let s = start + 1; s <= head(c); s++) if (memberAt(c, user, s)) out.push(s);
  return out;
}

export function newModel(opts: { users: string[]; group: string; dmId: string; devices: Array<[user: string, device: string]>; nodes: number; relayed: number }): Model {
  const [u0, u1] = opts.users as [string, string];
  const dmConv: ConvModel = { id: opts.dmId, kind: 'dm', log: [], dedupe: new Map(), members: new Map([[u0, [{ join: 0, left: -1 }]], [u1, [{ join: 0, left: -1 }]]]) };
  // created by u0 with u1 listed: both join at seq 0
  const groupConv: ConvModel = { id: `g:${opts.group}`, kind: 'group', log: [], dedupe: new Map(), members: new Map([[u0, [{ join: 0, left: -1 }]], [u1, [{ join: 0, left: -1 }]]]) };
  return {
    users: opts.users,
    group: opts.group,
    convs: [dmConv, groupConv],
    devices: opts.devices.map(([user, device]) => ({ key: `${user}/${device}`, user, device, lo: new Map(), hi: new Map(), unsure: new Set(), conn: undefined })),
    nodes: Array.from({ length: opts.nodes }, () => ({ up: true, cut: false })),
    uncertain: [],
    relayed: opts.relayed,
    epochs: new Map(),
  };
}

export const cursorLo = (d: DeviceModel, c: string): number => d.lo.get(c) ?? 0;
export const cursorHi = (d: DeviceModel, c: string): number => d.hi.get(c) ?? 0;

/** The device's connection ended where its unwritten acks may be lost: each conv with acks above what is confirmed becomes unsure. */
export function acksMayBeLost(m: Model, d: DeviceModel): void {
  for (const c of m.convs) if (cursorHi(d, c.id) > cursorLo(d, c.id)) d.unsure.add(c.id);
}

/** The body every send of (sender, cmid) carries, so a message names who sent it and why. */
export const bodyOf = (sender: string, cmid: string): string => `${sender} says ${cmid}`;
