import { defineScenario } from '../harness/scenario/define.ts';

/**
 * Presence while devices come and go across nodes: every device drops about every 10 s and
 * comes back 0–4 s later (full jitter) on the *next* node, so a user's state flips often,
 * its registrations move between nodes, and each node both writes and hears the changes.
 * Presence is judged over the whole run, not only after the final sync (which reconnects
 * everyone and would hide a wrong offline or a stale online): whenever a user's real
 * state held for 1.5 s, every subscriber must show it; one `v` must name one state.
 */
export default defineScenario({
  name: 'presence-race',
  description: 'Three nodes, 60 users × 1 device, each subscribed to 6 others; every device drops about every 10 s and reconnects 0–4 s later on the next node; 20 s.',
  proves: [
    'presence is right over time: a user offline (or online) for 1.5 s is shown so by every subscriber on every node, with no final sync to hide a stale state',
    "each user's `v` rises and names one state (two frames with one v and different statuses fail)",
    'registrations that move between nodes leave no keys behind; messages keep flowing (nothing lost, order kept)',
  ],
  topology: { nodes: 3, redisBehindProxy: false, clientLinksBehindProxy: false, serverEnv: { PRESENCE_TTL_MS: 5000 } },
  workload: { users: 60, devicesPerUser: 1, dmsPerUser: 1, groups: 2, groupSize: 6, sendRate: 10, bodyBytes: 64, ack: 'batched', presenceSubs: 6, churnRate: 6, reconnect: { baseMs: 4000, capMs: 4000, attempts: 1000, rotate: true } },
  durationMs: 20_000,
  thresholds: ['checks.presence.checked > 500'],
  checks: { unseenWithinMs: 5000, presence: true, presenceSettleMs: 1500, leaks: true },
});
