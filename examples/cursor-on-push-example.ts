// Found by imstorm explore; replay it with
//   npx imstorm run ./examples/cursor-on-push-example.ts
// (the scenario carries its own seed, so the run draws the same plan; faults are timed
// from the load's start, so a replay is close to, not identical with, the run that failed).
// Found with: imstorm explore --seed 2 --env local --budget 4m --shrink-budget 4m --server-env TEST_BUGS=cursor_on_push --out scenarios/found/cursor-on-push-example.ts
// fast-check replay of this case: imstorm explore --seed 2 --path 0:0:0:0 (same --server-env, --guarantees)
// Reproduced in 8 of 10 re-runs on the server it was found on.
// What was violated:
//   - lost: dm:x8425r26u0:x8425r26u1 seq 369 (epoch q9kthfyI, cmid d0.369 from x8425r26u1, answered sent at t+0.721s) never reached member x8425r26u1 on device x8425r26u1/d0 (last connection node-1.7064cfba.em ended at t+2.640s code 1000)
import { defineScenario } from 'imstorm';

export default defineScenario({
  "name": "cursor-on-push-example",
  "description": "1 node(s), 2 users × 1 device(s) (2 devices), 1 dm(s) per user, 0 group(s) of 2, 80 msgs/s (×8 from 100 ms for 600 ms), churn 2/s, cmids counter, ack immediate, 1 acking ahead, 1 presence sub(s) a device, 2500 ms; 0 fault(s)",
  "proves": [
    "regression: lost held for this case once (found by imstorm explore, seed 2, path 0:0:0:0)"
  ],
  "seed": 11,
  "topology": {
    "nodes": 1,
    "redisBehindProxy": true,
    "clientLinksBehindProxy": true,
    "serverEnv": {
      "PRESENCE_TTL_MS": 3000,
      "STORE_TIMEOUT_MS": 1000,
      "SEND_RATE": 200,
      "SEND_BURST": 400,
      "TEST_BUGS": "cursor_on_push"
    }
  },
  "workload": {
    "users": 2,
    "devicesPerUser": 1,
    "dmsPerUser": 1,
    "groups": 0,
    "groupSize": 2,
    "sendRate": 80,
    "bodyBytes": 23,
    "ack": "immediate",
    "churnRate": 2,
    "cmids": "counter",
    "presenceSubs": 1,
    "failover": false,
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
        "durationMs": 99,
        "target": 1
      },
      {
        "durationMs": 1,
        "target": 8
      },
      {
        "durationMs": 599,
        "target": 8
      },
      {
        "durationMs": 1,
        "target": 1
      },
      {
        "durationMs": 1799,
        "target": 1
      }
    ],
    "deviceGroups": [
      {
        "name": "ack-ahead",
        "count": 1,
        "sendRate": 0,
        "ack": {
          "kind": "ahead",
          "by": 3
        }
      }
    ]
  },
  "durationMs": 2500,
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
