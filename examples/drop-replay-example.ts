// An example of what `imstorm explore` found on a deliberately broken server (TEST_BUGS=drop_replay, in its
// serverEnv: a replay loses its first message), with the default budgets and `--faults cut`; kept as
// /tmp/s26/drop-replay-found.ts was written (2026-12-03, replacing the 2026-12-02 find, a dm's first
// message, which the server no longer reads from the log). It fails on purpose and is in no suite.
// Found by imstorm explore; replay it with
//   npx imstorm run ./examples/drop-replay-example.ts --env local
// (the scenario carries its own seed, so the run draws the same plan; faults are timed
// from the load's start, so a replay is close to, not identical with, the run that failed).
// Found with: imstorm explore --seed 31 --env local --server-env TEST_BUGS=drop_replay --faults cut --out /tmp/s26/drop-replay-found.ts
// fast-check replay of this case: imstorm explore --seed 31 --path 0:0:1:0:0:1:0:0:0:0:2:0:0 --server-env TEST_BUGS=drop_replay --faults cut
// Reproduced in 10 of 10 re-runs on the server it was found on.
// What was violated:
//   - lost: dm:explore1sjju1:explore1sjju2 seq 13 (epoch N4SjmUP8, cmid d0.14 from explore1sjju1, answered sent at t+1.045s) never reached member explore1sjju2 on device explore1sjju2/d0 (last connection node-1.59432002.8 ended at t+2.291s code 1000)
//   - lost: dm:explore1sjju0:explore1sjju2 seq 11 (epoch gezp8vtr, cmid d0.20 from explore1sjju2, answered sent at t+1.744s) never reached member explore1sjju2 on device explore1sjju2/d0 (last connection node-1.59432002.8 ended at t+2.291s code 1000)
import { defineScenario } from 'imstorm';

export default defineScenario({
  "name": "drop-replay-example",
  "description": "1 node(s), 3 users × 1 device(s) (3 devices), 1 dm(s) per user, 0 group(s) of 2, 23 msgs/s, churn 2/s, cmids counter, ack immediate, 1 acking ahead, 1 presence sub(s) a device, 2000 ms; 0 fault(s)",
  "proves": [
    "regression: lost held for this case once (found by imstorm explore, seed 31, path 0:0:1:0:0:1:0:0:0:0:2:0:0)"
  ],
  "seed": 2147483647,
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
    "users": 3,
    "devicesPerUser": 1,
    "dmsPerUser": 1,
    "groups": 0,
    "groupSize": 2,
    "sendRate": 23,
    "bodyBytes": 19,
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
