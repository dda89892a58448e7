import { defineScenario, type ScenarioInput } from '../harness/scenario/define.ts';

/**
 * Clients that behave as real apps do, next to well-behaved ones (workload device groups):
 * devices that never ack (every reconnect replays what they hold again), ack late, ack
 * ahead of what they hold (the server must clamp to the head: PROTOCOL.md `ack`), stop
 * reading for a while, and leave for good while the user's other device stays. Senders
 * number their cmids from 1, so they reuse each other's in one conversation. The send rate
 * ramps up, holds and ramps down (stages). Control: TEST_BUGS=ack_past_head (an ack above
 * the head is stored as the cursor) fails `lost`, naming the message and the ack-ahead device.
 */
const base = {
  description: 'Two nodes, 40 users × 2 devices in dms and 4 groups; groups that never ack, ack late, ack ahead, stop reading, or leave for good, among normal devices; the send rate ramps up, holds and ramps down.',
  proves: [
    'a device that never acks or acks late gets everything, again after each reconnect, with order kept and one seq per (sender, cmid)',
    'an ack above what a device holds is clamped to the head: after its reconnects the device still gets every message stored after that ack (`lost`)',
    "a device that stops reading for 4 s gets everything once it reads again; other devices' deliveries are not held up",
    "a device that leaves for good is owed only what was stored while it was there; its user's other device stays online and gets everything",
  ],
  topology: { nodes: 2, redisBehindProxy: false, clientLinksBehindProxy: false, serverEnv: { PRESENCE_TTL_MS: 5000, SEND_RATE: 200, SEND_BURST: 400 } },
  workload: {
    users: 40,
    devicesPerUser: 2,
    dmsPerUser: 1,
    groups: 4,
    groupSize: 8,
    sendRate: 30,
    bodyBytes: 96,
    ack: 'batched',
    presenceSubs: 2,
    cmids: 'counter',
    failover: true,
    // a dropped device stays away 0–600 ms before its first retry: messages arrive meanwhile
    reconnect: { baseMs: 600, capMs: 2000, attempts: 30 },
    deviceGroups: [
      { name: 'never-ack', count: 8, ack: 'never', sendRate: 6, churnRate: 1, body: { kind: 'lognormal', median: 80, sigma: 1 } },
      { name: 'late-ack', count: 8, ack: { kind: 'late', delayMs: 1500 }, sendRate: 6, churnRate: 1 },
      { name: 'ack-ahead', count: 10, ack: { kind: 'ahead', by: 50 }, sendRate: 6, churnRate: 2.5 },
      { name: 'stop-reading', count: 6, mode: { kind: 'pause', at: 5_000, durationMs: 4_000 }, sendRate: 0, slow: true },
      { name: 'leavers', count: 6, mode: { kind: 'leave', at: 8_000 }, sendRate: 3, body: { kind: 'weighted', sizes: [{ bytes: 64, weight: 8 }, { bytes: 2048, weight: 1 }] } },
    ],
  },
  faults: [],
  thresholds: ['throughput.sent.total > 400', 'latency.sendToSent.p99 < 2000', 'latency.sendToDelivered.p99 < 3000'],
  checks: { unseenWithinMs: 5000, presence: true, leaks: true },
} satisfies Omit<ScenarioInput, 'name' | 'durationMs'>;

export default defineScenario({
  ...base,
  name: 'misbehaving-clients',
  durationMs: 18_000,
  workload: { ...base.workload, stages: [{ durationMs: 3_000, target: 1 }, { durationMs: 12_000, target: 1 }, { durationMs: 3_000, target: 0.3 }] },
});

/** Realistic size: 400 users, a minute of load. */
export const misbehavingClientsFull = defineScenario({
  ...base,
  name: 'misbehaving-clients-full',
  description: 'Two nodes, 400 users × 2 devices in dms and 40 groups for 60 s; ten times the ci groups that never ack, ack late, ack ahead, stop reading, or leave for good, among normal devices; the send rate ramps up, holds and ramps down.',
  durationMs: 60_000,
  workload: {
    ...base.workload,
    users: 400,
    groups: 40,
    sendRate: 150,
    // ten times the devices; churn ×5 and rates ×6, so a busy 2-core machine keeps up (×10 churn: send→sent p99 3.3 s)
    deviceGroups: base.workload.deviceGroups.map((g) => ({ ...g, count: g.count * 10, sendRate: g.sendRate * 6, churnRate: (g.churnRate ?? 0) * 5 })),
    stages: [{ durationMs: 10_000, target: 1 }, { durationMs: 40_000, target: 1 }, { durationMs: 10_000, target: 0.3 }],
  },
  thresholds: ['throughput.sent.total > 5000', 'latency.sendToSent.p99 < 3000', 'latency.sendToDelivered.p99 < 5000'],
});
