// Found by imstorm explore; replay it with
//   npx imstorm run ./examples/cursor-on-push-example.ts
// (the scenario carries its own seed, so the run draws the same plan; faults are timed
// from the load's start, so a replay is close to, not identical with, the run that failed).
// Found with: imstorm explore --seed 111 --env local --server-env TEST_BUGS=cursor_on_push --out scenarios/found/cursor-on-push-example.ts
// fast-check replay of this case: imstorm explore --seed 111 --path 2:1:0:1:3:0:2:0:0:0:1:0:0:2:2:0:1:0:0:0:1:1:3:0:1:0 --server-env TEST_BUGS=cursor_on_push
// Reproduced in 10 of 10 re-runs on the server it was found on.
// What was violated:
//   - inflight: explore197wu0/d0 held dm:explore197wu0:explore197wu1 seqs 1..2 (epoch 9FgJvV_K) unacked on node-1.7a3d3e70.0 when w1 (pause redis at 100 ms) began at t+0.153s; its next connection node-1.7a3d3e70.2 resumed at t+1.198s from cursor 6, but since the window the device had acked nothing there: seqs 1..2 were taken as delivered without an ack (a device that had not kept them would never get them)
//   - inflight: explore197wu1/d0 held dm:explore197wu0:explore197wu1 seqs 1..2 (epoch 9FgJvV_K) unacked on node-1.7a3d3e70.1 when w1 (pause redis at 100 ms) began at t+0.153s; its next connection node-1.7a3d3e70.3 resumed at t+1.951s from cursor 8, but since the window the device had acked nothing there: seqs 1..2 were taken as delivered without an ack (a device that had not kept them would never get them)
import { defineScenario } from 'imstorm';

export default defineScenario({
  "name": "cursor-on-push-example",
  "description": "1 node(s), 2 users × 1 device(s) (2 devices), 1 dm(s) per user, 0 group(s) of 2, 5 msgs/s (×2 from 0 ms for 200 ms), churn 0.5/s, cmids unique, ack never, 1 presence sub(s) a device, 2000 ms; 1 fault(s): pause redis at 100 ms for 200 ms",
  "proves": [
    "regression: inflight held for this case once (found by imstorm explore, seed 111, path 2:1:0:1:3:0:2:0:0:0:1:0:0:2:2:0:1:0:0:0:1:1:3:0:1:0)"
  ],
  "seed": 2101658604,
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
    "sendRate": 5,
    "bodyBytes": 16,
    "ack": "never",
    "churnRate": 0.5,
    "cmids": "unique",
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
        "target": 2
      },
      {
        "durationMs": 199,
        "target": 2
      },
      {
        "durationMs": 1,
        "target": 1
      },
      {
        "durationMs": 1799,
        "target": 1
      }
    ]
  },
  "durationMs": 2000,
  "faults": [
    {
      "kind": "pause",
      "at": 100,
      "duration": 200,
      "target": "redis"
    }
  ],
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
