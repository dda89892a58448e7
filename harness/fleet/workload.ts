import { z } from 'zod';
import type { Population } from '../model/facts.ts';
import { Rng } from './rng.ts';

/**
 * A workload profile: who exists, who talks to whom, how fast, how much churn. It is
 * turned into a plan (population + per-device settings) deterministically from the seed.
 */
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
  presenceSubs: string[];
  seed: number;
  /** part of every cmid this device makes (repeated runs on one store must not reuse cmids) */
  tag?: string;
  /** client-side liveness timeout (workload `liveness`), when this device has one */
  livenessMs?: number;
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
        presenceSubs: [...new Set(subs)],
        seed: rng.int(0xffffffff),
        ...(w.liveness && livenessRng.next() < w.liveness.share ? { livenessMs: w.liveness.timeoutMs } : {}),
      });
    }
  }
  return {
    population: {
      users: users.map((u) => ({ user: u, devices: Array.from({ length: w.devicesPerUser }, (_, d) => `d${d}`) })),
      convs: [...convMembers].map(([conv, members]) => ({ conv, members })),
    },
    devices,
    groups,
  };
}
