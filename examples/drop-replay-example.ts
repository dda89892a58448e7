// An example of what `imstorm explore` found on a deliberately broken server (TEST_BUGS=drop_replay, in its
// serverEnv: a replay loses its first message), with the default budgets; kept as /tmp/s21/drop-replay-found.ts
// was written. It fails on purpose and is in no suite.
// Found by imstorm explore; replay it with
//   npx imstorm run ./examples/drop-replay-example.ts --env local
// (the scenario carries its own seed, so the run draws the same plan; faults are timed
// from the load's start, so a replay is close to, not identical with, the run that failed).
// Found with: imstorm explore --seed 31 --env local --server-env TEST_BUGS=drop_replay --out /tmp/s21/drop-replay-found.ts
// fast-check replay of this case: imstorm explore --seed 31 --path 0:0:0:0:0:0:0:0:0:0:0:0:0 (same --server-env, --guarantees)
// Reproduced in 10 of 10 re-runs on the server it was found on.
// What was violated:
//   - lost: dm:xeca6r18u0:xeca6r18u1 seq 1 (epoch -EIQTB4h, cmid xeca6r18u1.d0.1 from xeca6r18u1, answered sent at t+0.091s) never reached member xeca6r18u0 on device xeca6r18u0/d0 (last connection node-1.2a60e088.8z ended at t+2.172s code 1000)
//   - lost: dm:xeca6r18u0:xeca6r18u1 seq 1 (epoch -EIQTB4h, cmid xeca6r18u1.d0.1 from xeca6r18u1, answered sent at t+0.091s) never reached member xeca6r18u1 on device xeca6r18u1/d0 (last connection node-1.2a60e088.90 ended at t+2.174s code 1000)
import { defineScenario } from 'imstorm';

export default defineScenario({
  "name": "drop-replay-example",
  "description": "1 node(s), 2 users × 1 device(s) (2 devices), 1 dm(s) per user, 0 group(s) of 2, 5 msgs/s, churn 0/s, cmids unique, ack batched, 2000 ms; 0 fault(s)",
  "proves": [
    "regression: lost held for this case once (found by imstorm explore, seed 31, path 0:0:0:0:0:0:0:0:0:0:0:0:0)"
  ],
  "seed": 2122295425,
  "topology": {
    "nodes": 1,
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
    "groups": 0,
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
