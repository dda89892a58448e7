// An example of what `imstorm explore` found on a deliberately broken server (TEST_BUGS=lose_leaves, in its
// serverEnv: the bus loses every leave), with the default budgets; kept as /tmp/s21/lose-leaves-found.ts was
// written. It fails on purpose and is in no suite.
// Found by imstorm explore; replay it with
//   npx imstorm run ./examples/lose-leaves-example.ts --env local
// (the scenario carries its own seed, so the run draws the same plan; faults are timed
// from the load's start, so a replay is close to, not identical with, the run that failed).
// Found with: imstorm explore --seed 41 --env local --server-env TEST_BUGS=lose_leaves --out /tmp/s21/lose-leaves-found.ts
// fast-check replay of this case: imstorm explore --seed 41 --path 8:0:0:0:1:1:0:0:0:0:0:3:0:1:0 (same --server-env, --guarantees)
// Reproduced in 10 of 10 re-runs on the server it was found on.
// What was violated:
//   - unexpected: g:x14aar22g0 seq 4 (epoch 3XySoluz, cmid x14aar22u1.d0.5 from x14aar22u1, stored after t+1.893s) reached x14aar22u0/d0 on node-1.e8fba3bb.ec at t+1.898s (live), but x14aar22u0 was not a member then (left at t+1.435s)
//   - unexpected: g:x14aar22g0 seq 5 (epoch 3XySoluz, cmid x14aar22u1.d0.6 from x14aar22u1, stored after t+2.138s) reached x14aar22u0/d0 on node-1.e8fba3bb.ec at t+2.144s (live), but x14aar22u0 was not a member then (left at t+1.435s)
import { defineScenario } from 'imstorm';

export default defineScenario({
  "name": "lose-leaves-example",
  "description": "1 node(s), 2 users × 1 device(s) (2 devices), 1 dm(s) per user, 1 group(s) of 2, 5 msgs/s, churn 0/s, cmids unique, ack batched, 1 membership changes/s, 2000 ms; 0 fault(s)",
  "proves": [
    "regression: unexpected held for this case once (found by imstorm explore, seed 41, path 8:0:0:0:1:1:0:0:0:0:0:3:0:1:0)"
  ],
  "seed": 2134958711,
  "topology": {
    "nodes": 1,
    "redisBehindProxy": true,
    "clientLinksBehindProxy": true,
    "serverEnv": {
      "PRESENCE_TTL_MS": 3000,
      "STORE_TIMEOUT_MS": 1000,
      "SEND_RATE": 200,
      "SEND_BURST": 400,
      "TEST_BUGS": "lose_leaves"
    }
  },
  "workload": {
    "users": 2,
    "devicesPerUser": 1,
    "dmsPerUser": 1,
    "groups": 1,
    "groupSize": 2,
    "sendRate": 5,
    "bodyBytes": 16,
    "ack": "batched",
    "churnRate": 0,
    "cmids": "unique",
    "presenceSubs": 0,
    "failover": false,
    "reconnect": {
      "baseMs": 50,
      "capMs": 500,
      "attempts": 100,
      "rotate": false
    }
  },
  "durationMs": 2000,
  "faults": [],
  "membership": {
    "changesPerSec": 1
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
