import { defineScenario } from '../harness/scenario/define.ts';

/**
 * Presence while devices come and go across nodes: each user's d0 drops about every 10 s
 * and comes back 0–4 s later (full jitter) on the *next* node, and about every 20 s
 * connects again on the next node while its old connection is still open (a phone that
 * moved networks: same device id), so the server must close the old one 4409 across nodes
 * and its late close must not take the new one offline. From 2 s to 6 s each user's other
 * two devices visit as well: three devices against MAX_DEVICES 2, racing across nodes, so
 * one hello must be refused 4429 while a replacement at the limit must still be welcomed.
 * Presence is judged over the whole run, not only after the final sync (which reconnects
 * everyone and would hide a wrong offline or a stale online): whenever a user's real
 * state held for 1.5 s, every subscriber must show it; one `v` must name one state.
 */
export default defineScenario({
  name: 'presence-race',
  description: 'Three nodes, 40 users × 3 devices (MAX_DEVICES 2), each subscribed to 6 others; every d0 drops about every 10 s and reconnects 0–4 s later on the next node, and about every 20 s connects again on the next node with its old connection still open; d1 and d2 visit 2–6 s (three devices for two slots); 20 s.',
  proves: [
    'presence is right over time: a user offline (or online) for 1.5 s is shown so by every subscriber on every node, with no final sync to hide a stale state',
    "each user's `v` rises and names one state (two frames with one v and different statuses fail)",
    'a device that connects again on another node while its old connection is open gets the new one welcomed and the old one closed 4409 within 5 s, and the old close does not take the user offline',
    'at MAX_DEVICES a further device is refused 4429 and never welcomed beyond the limit, while a device replacing itself at the limit is welcomed',
    'registrations that move between nodes leave no keys behind; messages keep flowing (nothing lost, order kept)',
  ],
  topology: { nodes: 3, redisBehindProxy: false, clientLinksBehindProxy: false, serverEnv: { PRESENCE_TTL_MS: 5000, MAX_DEVICES: 2 } },
  workload: {
    users: 40,
    devicesPerUser: 3,
    dmsPerUser: 1,
    groups: 2,
    groupSize: 6,
    sendRate: 10,
    bodyBytes: 64,
    ack: 'batched',
    presenceSubs: 6,
    // over the d0 devices (the visitors neither churn nor replace)
    churnRate: 4,
    replaceRate: 2,
    reconnect: { baseMs: 4000, capMs: 4000, attempts: 1000, rotate: true },
    deviceGroups: [{ name: 'visitors', count: 80, mode: { kind: 'visit', at: 2_000, durationMs: 4_000 }, presenceSubs: 0 }],
  },
  durationMs: 20_000,
  thresholds: ['checks.presence.checked > 500'],
  checks: { unseenWithinMs: 5000, presence: true, presenceSettleMs: 1500, leaks: true },
});
