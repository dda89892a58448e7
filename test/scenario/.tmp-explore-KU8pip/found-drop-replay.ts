// Found by imstorm explore; replay it with
//   npx imstorm run ./test/scenario/.tmp-explore-KU8pip/found-drop-replay.ts
// (the scenario carries its own seed, so the run draws the same plan; faults are timed
// from the load's start, so a replay is close to, not identical with, the run that failed).
// Found with: imstorm explore --seed 3 --env local --budget 30s --shrink-budget 25s --repeat 1 --confirm 2 --server-env TEST_BUGS=drop_replay --out /work/main/test/scenario/.tmp-explore-KU8pip/found-drop-replay.ts
// fast-check replay of this case: imstorm explore --seed 3 --path 0:0:0 --server-env TEST_BUGS=drop_replay
// Reproduced in 2 of 2 re-runs on the server it was found on.
// What was violated:
//   - lost: dm:explore15apu0:explore15apu1 seq 1 (epoch gKheTupm, cmid explore15apu0.d0.1 from explore15apu0, answered sent at t+0.405s) never reached member explore15apu0 on device explore15apu0/d0 (last connection node-1.3ebc7d5c.1 ended at t+5.270s code 1000)
//   - lost: dm:explore15apu0:explore15apu1 seq 1 (epoch gKheTupm, cmid explore15apu0.d0.1 from explore15apu0, answered sent at t+0.405s) never reached member explore15apu1 on device explore15apu1/d0 (last connection node-2.eb6e0cc5.1 ended at t+5.272s code 1000)
import { defineScenario } from 'imstorm';

export default defineScenario({
  "name": "found-drop-replay",
  "description": "2 node(s), 2 users × 1 device(s) (2 devices), 1 dm(s) per user, 2 group(s) of 3, 7 msgs/s (×5 from 1000 ms for 1800 ms), churn 0/s, cmids unique, ack batched, 1 presence sub(s) a device, 2 membership changes/s, 4000 ms; 0 fault(s)",
  "proves": [
    "regression: lost held for this case once (found by imstorm explore, seed 3, path 0:0:0)"
  ],
  "seed": 1107753521,
  "topology": {
    "nodes": 2,
    "redisBehindProxy": true,
    "clientLinksBehindProxy": true,
    "serverEnv": {
      "PRESENCE_TTL_MS": 3000,
      "STORE_TIMEOUT_MS": 1000,
      "SEND_RATE": 200,
      "SEND_BURST": 400,
      "TEST_BUGS": "drop_replay"
    }
  },
  "workload": {
    "users": 2,
    "devicesPerUser": 1,
    "dmsPerUser": 1,
    "groups": 2,
    "groupSize": 3,
    "sendRate": 7,
    "bodyBytes": 395,
    "ack": "batched",
    "churnRate": 0,
    "cmids": "unique",
    "presenceSubs": 1,
    "failover": true,
    "reconnect": {
      "baseMs": 50,
      "capMs": 500,
      "attempts": 100,
      "rotate": false
    },
    "stages": [
      {
        "durationMs": 1,
        "target": 1
      },
      {
        "durationMs": 999,
        "target": 1
      },
      {
        "durationMs": 1,
        "target": 5
      },
      {
        "durationMs": 1799,
        "target": 5
      },
      {
        "durationMs": 1,
        "target": 1
      },
      {
        "durationMs": 1199,
        "target": 1
      }
    ]
  },
  "durationMs": 4000,
  "faults": [],
  "membership": {
    "changesPerSec": 2
  },
  "checks": {
    "unseenWithinMs": 5000,
    "presence": false,
    "presenceSettleMs": 2000,
    "leaks": false,
    "storms": 1,
    "leakPerConnection": {
      "maxBytes": 512,
      "minConnections": 2000
    }
  }
});
