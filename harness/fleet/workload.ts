import { z } from 'zod';
import type { Population } from '../model/facts.ts';
import { Rng } from './rng.ts';
import { recordedPlan, recordedSchema, type RecordedStep } from './recorded.ts';

/**
 * A workload profile: who exists, who talks to whom, how fast, how much churn. It is
 * turned into a plan (population + per-device settings) deterministically from the seed.
 */
/**
 * Body sizes a device draws from (bytes, UTF-8; every body also carries its intended send
 * time, so sizes below ~24 bytes are padded up to that header).
 */
export const bodySizeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), bytes: z.number().int().min(16).max(16_384) }),
  z.object({ kind: z.literal('uniform'), min: z.number().int().min(16).max(16_384), max: z.number().int().min(16).max(16_384) }).refine((b) => b.min <= b.max, { message: 'min must not exceed max (swap them)' }),
  /** median and sigma of the log of the size, clipped to [16, max]: most bodies small, a long tail of big ones (as real chat) */
  z.object({ kind: z.literal('lognormal'), median: z.number().int().min(16).max(16_384), sigma: z.number().positive().max(4), max: z.number().int().min(16).max(16_384).default(16_384) }),
  /** one of `sizes`, chosen with probability proportional to its weight */
  z.object({ kind: z.literal('weighted'), sizes: z.array(z.object({ bytes: z.number().int().min(16).max(16_384), weight: z.number().positive() })).min(1) }),
]);
export type BodySize = z.infer<typeof bodySizeSchema>;

/**
 * How a device acks (PROTOCOL.md `ack`, cumulative): `immediate` (every message), `batched`
 * (every 500 ms), `never`; `late` (what it holds, `delayMs` after it got it, as an app that
 * acks when a message was shown); `ahead` (`by` above what it holds, as a buggy client: the
 * server must clamp it to the head, so the messages after it still reach the device; every
 * 500 ms, or with `once` only with the first message it gets in each conversation on each
 * connection, holding everything after it unacked until the connection ends).
 */
export const ackModeSchema = z.union([
  z.enum(['immediate', 'batched', 'never']),
  z.object({ kind: z.literal('late'), delayMs: z.number().int().min(1).max(60_000) }),
  z.object({ kind: z.literal('ahead'), by: z.number().int().min(1).max(1_000_000), once: z.boolean().optional() }),
]);
export type AckMode = z.infer<typeof ackModeSchema>;

/**
 * How a device reads, timed from the start of the load: `reads` (always); `pause` (stops
 * reading its socket at `at` for `durationMs`, then resumes: the node must cut it 4413 once
 * its unsent bytes pass SLOW_CONSUMER_BYTES, not buffer for ever); `throttle` (reads at most
 * `bytesPerSec` from `at` for `durationMs`); `leave` (closes at `at`, once synced, and never
 * comes back: an uninstalled app; only devices other than a user's d0 are taken, so the
 * user's other devices stay); `visit` (a device beyond the user's usual ones, e.g. one more
 * phone past MAX_DEVICES: away at the connect, it connects at `at` — a refusal, 4429, retried
 * with its backoff — and leaves for good `durationMs` later; only devices other than d0 are taken).
 */
export const clientModeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('reads') }),
  z.object({ kind: z.literal('pause'), at: z.number().int().nonnegative(), durationMs: z.number().int().positive() }),
  z.object({ kind: z.literal('throttle'), at: z.number().int().nonnegative(), durationMs: z.number().int().positive(), bytesPerSec: z.number().int().min(1024) }),
  z.object({ kind: z.literal('leave'), at: z.number().int().nonnegative() }),
  z.object({ kind: z.literal('visit'), at: z.number().int().nonnegative(), durationMs: z.number().int().positive() }),
]);
export type ClientMode = z.infer<typeof clientModeSchema>;

/**
 * A device group: `count` devices, or a `share` of all devices, that behave alike. Devices
 * not taken by any group follow the workload's flat fields (its `sendRate` and `churnRate`
 * are then theirs alone). Each field left out takes the workload's value, except `sendRate`
 * and `churnRate` (0: a group sends or churns only when told to).
 */
export const deviceGroupSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'lowercase letters, digits and -, starting with a letter'),
    count: z.number().int().positive().optional(),
    share: z.number().positive().max(1).optional(),
    /** messages per second over the group's devices (open loop, shaped by `stages`) */
    sendRate: z.number().nonnegative().max(1_000_000).default(0),
    /** which of its conversations a device sends into */
    sendTo: z.enum(['any', 'dms', 'groups']).default('any'),
    /**
     * the users of its devices are also members of the first `memberOf` chat groups (from
     * their creation): puts a group's devices, e.g. heavy senders and slow readers, in the
     * same busy conversations
     */
    memberOf: z.number().int().min(0).max(100_000).default(0),
    body: bodySizeSchema.optional(),
    ack: ackModeSchema.optional(),
    presenceSubs: z.number().int().min(0).max(1000).optional(),
    /** disconnects per second over the group's devices (each reconnects with backoff) */
    churnRate: z.number().nonnegative().default(0),
    mode: clientModeSchema.default({ kind: 'reads' }),
    /**
     * slowed on purpose (a `pause` or `throttle` mode, or a toxic on its links): its
     * deliveries are measured apart as `latency.sendToDeliveredSlow`, so
     * `latency.sendToDelivered` is everyone else's
     */
    slow: z.boolean().default(false),
  })
  .refine((g) => (g.count === undefined) !== (g.share === undefined), { message: 'give exactly one of count (devices) or share (a fraction of all devices)' });
export type DeviceGroup = z.infer<typeof deviceGroupSchema>;

/**
 * k6-style stages of the open-loop send rate: each ramps linearly from the previous stage's
 * `target` (the first from 0) to its own over `durationMs`; `target` multiplies every
 * device's send rate (1 = the rate the workload states). Their durations must add up to the
 * scenario's `durationMs` (a `--duration` override scales them).
 */
export const stageSchema = z.object({ durationMs: z.number().int().positive(), target: z.number().min(0).max(100) });
export type Stage = z.infer<typeof stageSchema>;

export const workloadSchema = z.object({
  users: z.number().int().min(2).max(1_000_000),
  devicesPerUser: z.number().int().min(1).max(10).default(1),
  /** dm conversations per user (each pairs it with another user) */
  dmsPerUser: z.number().int().min(0).max(50).default(1),
  groups: z.number().int().min(0).max(100_000).default(0),
  groupSize: z.number().int().min(2).max(1000).default(5),
  /** messages per second over the whole fleet (open loop: a Poisson process per sender) */
  sendRate: z.number().nonnegative().max(1_000_000).default(10),
  bodyBytes: z.number().int().min(16).max(16_384).default(64),
  ack: z.enum(['immediate', 'batched', 'never']).default('batched'),
  /** disconnects per second over the whole fleet; a dropped device reconnects with backoff */
  churnRate: z.number().nonnegative().default(0),
  /**
   * replacements per second over the devices no group took: a welcomed device opens a new
   * connection on the next node while its current one stays open and unread by the app (a
   * phone that switched networks, same device id). PROTOCOL.md: the server closes the old one
   * 4409, across nodes, and its late close must not take the new one offline. Needs other
   * nodes to go to (reconnect.rotate or failover).
   */
  replaceRate: z.number().nonnegative().default(0),
  /** presence subscriptions per device (to random other users) */
  presenceSubs: z.number().int().min(0).max(1000).default(0),
  /**
   * How devices make their cmids: `unique` (user, device and a counter: never shared), or
   * `counter` (the device name and a number from 1, as many real clients do: different
   * senders then reuse the same cmids in one conversation, and only the sender tells them
   * apart — PROTOCOL.md keys dedupe by (conversation, sender, cmid))
   */
  cmids: z.enum(['unique', 'counter']).default('unique'),
  /** a device whose connection closes before its welcome reconnects to the next node (failover), else always to its own */
  failover: z.boolean().default(false),
  /**
   * Client-side liveness, as mobile and web clients have: a connection that hears nothing
   * (no frame, no WebSocket ping) for `timeoutMs`, or is not welcomed within it, is dropped
   * and the device reconnects (with `failover`, to the next node). `share` of the devices
   * (seeded) have it; the rest wait for the server whatever happens, as a naive client does.
   */
  liveness: z
    .object({
      timeoutMs: z.number().int().min(200, 'liveness.timeoutMs must be at least 200 ms (the server pings every HEARTBEAT_MS)'),
      share: z.number().min(0).max(1).default(1),
    })
    .optional(),
  reconnect: z
    .object({
      baseMs: z.number().int().min(1).default(100),
      capMs: z.number().int().min(1).default(5000),
      attempts: z.number().int().min(1).default(50),
      /** after a welcomed connection closes, the device comes back on the next node (a user's devices move across nodes) */
      rotate: z.boolean().default(false),
    })
    .default({ baseMs: 100, capMs: 5000, attempts: 50, rotate: false }),
  /** shape of the send rate over the load phase (absent: the full rate from the start to the end) */
  stages: z.array(stageSchema).min(1).max(100).optional(),
  /** device groups that behave differently from the flat fields above (absent: every device follows them) */
  deviceGroups: z.array(deviceGroupSchema).max(32).optional(),
  /**
   * A recorded plan (`imstorm replay`, harness/fleet/recorded.ts): the devices, their
   * conversations and what each did when, instead of rates drawn from the seed. The flat
   * rates are then unused; `ack` should be `never` (the recorded acks are the steps).
   */
  recorded: recordedSchema.optional(),
}).superRefine((w, ctx) => {
  if (w.recorded && (w.deviceGroups?.length || w.stages)) ctx.addIssue({ code: 'custom', path: ['recorded'], message: 'a recorded plan replays what devices did: drop deviceGroups and stages' });
  const names = new Set<string>();
  for (const [i, g] of (w.deviceGroups ?? []).entries()) {
    if (names.has(g.name)) ctx.addIssue({ code: 'custom', path: ['deviceGroups', i, 'name'], message: `"${g.name}" names two device groups: give each its own name` });
    names.add(g.name);
    if ((g.mode.kind === 'leave' || g.mode.kind === 'visit') && w.devicesPerUser < 2) ctx.addIssue({ code: 'custom', path: ['deviceGroups', i, 'mode'], message: `a ${g.mode.kind} group takes devices other than d0, so the user keeps one: set devicesPerUser to 2 or more` });
  }
  if (w.replaceRate > 0 && !w.reconnect.rotate && !w.failover) ctx.addIssue({ code: 'custom', path: ['replaceRate'], message: 'a replacement opens the new connection on the next node: set reconnect.rotate (or failover) so devices know the other nodes' });
  const shares = (w.deviceGroups ?? []).reduce((a, g) => a + (g.share ?? 0), 0);
  if (shares > 1 + 1e-9) ctx.addIssue({ code: 'custom', path: ['deviceGroups'], message: `the groups' shares add up to ${shares.toFixed(3)}: at most 1 (all devices)` });
});
export type Workload = z.infer<typeof workloadSchema>;

/** One simulated device and what it does. */
export interface DevicePlan {
  user: string;
  device: string;
  /** conversations this device may send into */
  convs: string[];
  /** this device's share of the fleet's send rate (msgs/s) */
  sendRate: number;
  /** this device's share of the churn rate (disconnects/s) */
  churnRate: number;
  /** this device's share of the replace rate (new connections on the next node while the old one is open, per second) */
  replaceRate?: number;
  presenceSubs: string[];
  seed: number;
  /** part of every cmid this device makes (repeated runs on one store must not reuse cmids) */
  tag?: string;
  /** client-side liveness timeout (workload `liveness`), when this device has one */
  livenessMs?: number;
  /** the node (1-based) it connects to (a recorded plan), instead of one by its index */
  node?: number;
  /** what it does when (a recorded plan): replaces the open-loop sends and churn */
  script?: RecordedStep[];
  /** its device group (workload.deviceGroups), when it has one; the fields below then override the workload's */
  group?: string;
  ack?: AckMode;
  body?: BodySize;
  mode?: ClientMode;
}

export interface GroupPlan {
  id: string;
  owner: string;
  members: string[];
}

export interface Plan {
  population: Population;
  devices: DevicePlan[];
  groups: GroupPlan[];
}

export function userName(i: number, prefix: string): string {
  return `${prefix}u${i}`;
}

export function planWorkload(w: Workload, seed: number, prefix: string): Plan {
  // recorded ids are kept as they were: the recording names its users and conversations
  if (w.recorded) return recordedPlan(w.recorded, seed);
  const rng = new Rng(seed);
  const users = Array.from({ length: w.users }, (_, i) => userName(i, prefix));
  const convMembers = new Map<string, string[]>();
  const convsOf = new Map<string, Set<string>>(users.map((u) => [u, new Set()]));
  const add = (conv: string, members: string[]) => {
    if (convMembers.has(conv)) return;
    convMembers.set(conv, members);
    for (const m of members) convsOf.get(m)!.add(conv);
  };
  for (let i = 0; i < w.users; i++) {
    for (let k = 0; k < w.dmsPerUser; k++) {
      // ring neighbours at seeded distances: everyone gets about dmsPerUser·2 dms, no hot spots
      const j = (i + 1 + rng.int(Math.max(1, w.users - 1))) % w.users;
      if (j === i) continue;
      const [a, b] = users[i]! < users[j]! ? [users[i]!, users[j]!] : [users[j]!, users[i]!];
      add(`dm:${a}:${b}`, [a, b]);
    }
  }
  const groups: GroupPlan[] = [];
  for (let g = 0; g < w.groups; g++) {
    const size = Math.min(w.groupSize, w.users);
    const start = rng.int(w.users);
    const members = Array.from({ length: size }, (_, k) => users[(start + k) % w.users]!);
    const id = `${prefix}g${g}`;
    groups.push({ id, owner: members[0]!, members });
    add(`g:${id}`, members);
  }
  const deviceCount = w.users * w.devicesPerUser;
  const senders = users.filter((u) => convsOf.get(u)!.size > 0).length * w.devicesPerUser;
  const devices: DevicePlan[] = [];
  // a stream of its own, so plans without liveness stay what they were for a seed
  const livenessRng = new Rng(seed ^ 0x1d7e55);
  for (const user of users) {
    const convs = [...convsOf.get(user)!];
    for (let d = 0; d < w.devicesPerUser; d++) {
      const subs = Array.from({ length: Math.min(w.presenceSubs, w.users - 1) }, () => users[rng.int(w.users)]!).filter((u) => u !== user);
      devices.push({
        user,
        device: `d${d}`,
        convs,
        sendRate: convs.length && senders ? w.sendRate / senders : 0,
        churnRate: w.churnRate / deviceCount,
        ...(w.replaceRate > 0 ? { replaceRate: w.replaceRate / deviceCount } : {}),
        presenceSubs: [...new Set(subs)],
        seed: rng.int(0xffffffff),
        ...(w.liveness && livenessRng.next() < w.liveness.share ? { livenessMs: w.liveness.timeoutMs } : {}),
      });
    }
  }
  if (w.deviceGroups?.length) applyDeviceGroups(w, devices, users, seed, groups, convMembers);
  return {
    population: {
      users: users.map((u) => ({ user: u, devices: Array.from({ length: w.devicesPerUser }, (_, d) => `d${d}`) })),
      convs: [...convMembers].map(([conv, members]) => ({ conv, members })),
    },
    devices,
    groups,
  };
}

/**
 * Gives each device group its devices and settings, from a generator of its own (a plan
 * without groups is what it always was). Devices are drawn at random from those no earlier
 * group took; a leave or visit group draws only devices other than d0. Send, churn and replace rates are then
 * split within each group, and the flat ones over the devices no group took.
 */
function applyDeviceGroups(w: Workload, devices: DevicePlan[], users: string[], seed: number, groups: GroupPlan[], convMembers: Map<string, string[]>): void {
  const rng = new Rng((seed ^ 0x67727073) >>> 0);
  const free = new Set(devices);
  const members: DevicePlan[][] = [];
  for (const [i, g] of w.deviceGroups!.entries()) {
    const want = g.count ?? Math.max(1, Math.round(g.share! * devices.length));
    const pool = [...free].filter((d) => (g.mode.kind !== 'leave' && g.mode.kind !== 'visit') || d.device !== 'd0');
    if (pool.length < want) {
      throw new Error(
        `workload.deviceGroups[${i}] ("${g.name}") wants ${want} devices but only ${pool.length} are left${g.mode.kind === 'leave' || g.mode.kind === 'visit' ? ' that are not a user\'s d0' : ''} (${devices.length} in all, ${devices.length - free.size} taken by earlier groups): lower its count or share, or add users`,
      );
    }
    for (let k = pool.length - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      [pool[k], pool[j]] = [pool[j]!, pool[k]!];
    }
    const taken = pool.slice(0, want);
    for (const d of taken) free.delete(d);
    members.push(taken);
  }
  const split = (list: DevicePlan[], sendRate: number, churnRate: number, replaceRate = 0) => {
    const senders = list.filter((d) => d.convs.length > 0).length;
    for (const d of list) {
      d.sendRate = d.convs.length && senders ? sendRate / senders : 0;
      d.churnRate = list.length ? churnRate / list.length : 0;
      if (replaceRate > 0) d.replaceRate = list.length ? replaceRate / list.length : 0;
      else delete d.replaceRate;
    }
  };
  // memberOf: users join chat groups before anything else is decided by their conversations
  const devicesOf = new Map<string, DevicePlan[]>();
  for (const d of devices) devicesOf.set(d.user, [...(devicesOf.get(d.user) ?? []), d]);
  for (const [i, g] of w.deviceGroups!.entries()) {
    if (g.memberOf > groups.length) throw new Error(`workload.deviceGroups[${i}] ("${g.name}").memberOf is ${g.memberOf} but the workload has ${groups.length} chat groups (workload.groups): lower memberOf or add groups`);
    for (const gp of groups.slice(0, g.memberOf)) {
      const conv = `g:${gp.id}`;
      for (const d of members[i]!) {
        if (gp.members.includes(d.user)) continue;
        gp.members.push(d.user);
        const listed = convMembers.get(conv)!;
        if (listed !== gp.members) listed.push(d.user);
        for (const other of devicesOf.get(d.user)!) if (!other.convs.includes(conv)) other.convs.push(conv);
      }
    }
  }
  split([...free], w.sendRate, w.churnRate, w.replaceRate);
  for (const [i, g] of w.deviceGroups!.entries()) {
    const list = members[i]!;
    for (const d of list) {
      d.group = g.name;
      if (g.sendTo !== 'any') d.convs = d.convs.filter((c) => c.startsWith(g.sendTo === 'dms' ? 'dm:' : 'g:'));
      if (g.ack !== undefined) d.ack = g.ack;
      if (g.body !== undefined) d.body = g.body;
      if (g.mode.kind !== 'reads') d.mode = g.mode;
      if (g.presenceSubs !== undefined) {
        const subs = Array.from({ length: Math.min(g.presenceSubs, users.length - 1) }, () => users[rng.int(users.length)]!).filter((u) => u !== d.user);
        d.presenceSubs = [...new Set(subs)];
      }
    }
    split(list, g.sendRate, g.churnRate);
  }
}

/** When a client mode's timed part is over, ms into the load (0 for `reads`). */
export function modeEndMs(m: ClientMode): number {
  return m.kind === 'pause' || m.kind === 'throttle' || m.kind === 'visit' ? m.at + m.durationMs : m.kind === 'leave' ? m.at : 0;
}

/** The clients (`user/device`) of the device groups marked `slow`. */
export function slowClients(plan: Plan, w: Workload): Set<string> {
  const slow = new Set((w.deviceGroups ?? []).filter((g) => g.slow).map((g) => g.name));
  return new Set(plan.devices.filter((d) => d.group !== undefined && slow.has(d.group)).map((d) => `${d.user}/${d.device}`));
}

/** The send-rate multiplier `ms` into the load phase (1 without stages; 0 after the last). */
export function stageTarget(stages: readonly Stage[] | undefined, ms: number): number {
  if (!stages?.length) return 1;
  let from = 0;
  let start = 0;
  for (const st of stages) {
    if (ms < start + st.durationMs) return from + ((st.target - from) * (ms - start)) / st.durationMs;
    from = st.target;
    start += st.durationMs;
  }
  return 0;
}

/** A body size drawn from `b`. */
export function drawBodySize(b: BodySize, rng: Rng): number {
  switch (b.kind) {
    case 'fixed':
      return b.bytes;
    case 'uniform':
      return b.min + rng.int(b.max - b.min + 1);
    case 'lognormal': {
      // Box–Muller: one standard normal from two uniforms
      const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
      return Math.max(16, Math.min(b.max, Math.round(b.median * Math.exp(b.sigma * z))));
    }
    case 'weighted': {
      const total = b.sizes.reduce((a, x) => a + x.weight, 0);
      let r = rng.next() * total;
      for (const x of b.sizes) if ((r -= x.weight) < 0) return x.bytes;
      return b.sizes[b.sizes.length - 1]!.bytes;
    }
  }
}
