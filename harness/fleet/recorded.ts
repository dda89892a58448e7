// A recorded plan: a workload that is not drawn from rates and a seed but replays what
// devices did, step by step, at their recorded times (issue 12). `imstorm replay` builds
// one from a capture (harness/replay/plan.ts); a scenario saved with --save-as carries it
// as data (a plan file beside it, recorded-file.ts), so a replay IS a scenario and
// `imstorm run ./file.ts` runs it again.
import { z } from 'zod';
import type { DevicePlan, GroupPlan, Plan } from './workload.ts';

const at = z.number().nonnegative();
/** One thing a device does, `at` ms after the load starts. */
export const recordedStep = z.discriminatedUnion('op', [
  /** a send with the recorded cmid and body size (the body carries its intended time, as every fleet body) */
  z.object({ op: z.literal('send'), at, conv: z.string(), cmid: z.string(), bytes: z.number().int().min(1).max(1_000_000) }),
  /** an ack of at most `seq`: never above what the device holds on this run (a replay's seqs may differ) */
  z.object({ op: z.literal('ack'), at, conv: z.string(), seq: z.number().int().nonnegative() }),
  z.object({ op: z.literal('history'), at, conv: z.string(), after: z.number().int().nonnegative().optional(), before: z.number().int().nonnegative().optional(), limit: z.number().int().min(1).max(100).optional() }),
  /** the device closed its connection (1000: a close frame; anything else: the socket dropped) and stays away until its next `connect` */
  z.object({ op: z.literal('drop'), at, code: z.number().int() }),
  /** the device connects again (after its own drop, or after the server closed it) */
  z.object({ op: z.literal('connect'), at }),
  /** a read mark (`read` frame) of at most `seq`: never above the highest seq the device saw on this run */
  z.object({ op: z.literal('read'), at, conv: z.string(), seq: z.number().int().nonnegative() }),
  /** a send through HTTP (POST /v1/messages) with the device's token: same cmid and body size, answered like a `send` */
  z.object({ op: z.literal('http-send'), at, conv: z.string(), cmid: z.string(), bytes: z.number().int().min(1).max(1_000_000) }),
  /** presence subscriptions on the connection open then (a device subscribes again after a reconnect only where the capture shows it) */
  z.object({ op: z.literal('presence.sub'), at, users: z.array(z.string()).min(1) }),
  z.object({ op: z.literal('presence.unsub'), at, users: z.array(z.string()).min(1) }),
]);
export type RecordedStep = z.infer<typeof recordedStep>;

export const recordedDevice = z.object({
  user: z.string(),
  device: z.string(),
  /** the node (1-based) its first recorded connection was on: it connects there */
  node: z.number().int().min(1),
  /** what the device was subscribed to when the replay's window began: subscribed at its first connection only */
  presenceSubs: z.array(z.string()).default([]),
  steps: z.array(recordedStep),
});

/**
 * A group membership change at its recorded time, made by the orchestrator as the
 * scenario's membership churn makes its changes (harness/fleet/membership-churn.ts): an add
 * (POST …/members) or a removal (DELETE …/members/:user) asked by `by` (the owner, or the
 * user itself).
 */
export const recordedMemberChange = z.object({ at, group: z.string(), user: z.string(), op: z.enum(['join', 'leave']), by: z.string() });
export type RecordedMemberChange = z.infer<typeof recordedMemberChange>;

export const recordedSchema = z.object({
  /** where it was recorded (a capture directory), for people */
  source: z.string(),
  /** groups with their members when the replay's window began */
  groups: z.array(z.object({ id: z.string(), owner: z.string(), members: z.array(z.string()).min(1) })),
  /** joins and leaves during the window, in time order */
  membership: z.array(recordedMemberChange).default([]),
  /** dm conversations seen (their members are in their ids) */
  dms: z.array(z.string()),
  devices: z.array(recordedDevice).min(1, 'a recorded plan needs at least one device'),
});
export type Recorded = z.infer<typeof recordedSchema>;

/** The fleet plan of a recorded workload: its users, conversations and devices, each with its steps. */
export function recordedPlan(r: Recorded, seed: number): Plan {
  const users = new Map<string, Set<string>>();
  for (const d of r.devices) (users.get(d.user) ?? users.set(d.user, new Set()).get(d.user)!).add(d.device);
  const convMembers = new Map<string, string[]>();
  for (const g of r.groups) convMembers.set(`g:${g.id}`, g.members);
  for (const dm of r.dms) convMembers.set(dm, dm.slice(3).split(':'));
  const convsOf = (user: string) => [...convMembers].filter(([, m]) => m.includes(user)).map(([c]) => c);
  const devices: DevicePlan[] = r.devices.map((d, i) => ({
    user: d.user,
    device: d.device,
    convs: convsOf(d.user),
    sendRate: 0,
    churnRate: 0,
    presenceSubs: d.presenceSubs,
    seed: (seed + i * 7919) >>> 0,
    node: d.node,
    script: d.steps,
  }));
  // users a conversation names that have no recorded device (outside CAPTURE_SAMPLE) still exist
  for (const members of convMembers.values()) for (const u of members) if (!users.has(u)) users.set(u, new Set());
  const groups: GroupPlan[] = r.groups.map((g) => ({ id: g.id, owner: g.owner, members: g.members }));
  return {
    population: {
      users: [...users].map(([user, devs]) => ({ user, devices: [...devs] })),
      convs: [...convMembers].map(([conv, members]) => ({ conv, members })),
    },
    devices,
    groups,
  };
}
