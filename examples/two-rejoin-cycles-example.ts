// An example of what `imstorm explore` found on the CORRECT server (2026-12-02, seed 2002, the
// last run of a 10-minute search): README Known limitations' "two leave-and-rejoin cycles".
// u0/d0's connection on node-1 gets its frames 577 ms late; meanwhile u0 leaves the group,
// joins it again and leaves again (membership churn 2/s), and the churn drops the connection
// with group messages of the earlier membership still in flight. At the next connect u0 is no
// member, and the store remembers only the last join and leave, so what was stored during the
// older membership is never replayed (`lost`). It fails on purpose and is in no suite until
// the store keeps every membership a device may still be owed. Written to
// /tmp/s20/found-correct-2002.ts and kept here as the example.
// Found by imstorm explore; replay it with
//   npx imstorm run ./examples/two-rejoin-cycles-example.ts
// (the scenario carries its own seed, so the run draws the same plan; faults are timed
// from the load's start, so a replay is close to, not identical with, the run that failed).
// Found with: imstorm explore --seed 2002 --env local --budget 10m --out /tmp/s20/found-correct-2002.ts
// fast-check replay of this case: imstorm explore --seed 2002 --path 100:1:11:2:0:4:3:3:2:2:2 (same --server-env, --guarantees)
// Reproduced in 8 of 10 re-runs on the server it was found on.
// What was violated:
//   - lost: g:x0206r79g0 seq 16 (epoch ohdpGRtt, cmid d0.19 from x0206r79u1, answered sent at t+2.563s) never reached member x0206r79u0 on device x0206r79u0/d0 (last connection node-1.f0ec8526.xw ended at t+3.979s code 1000)
//   - lost: g:x0206r79g0 seq 17 (epoch ohdpGRtt, cmid d0.20 from x0206r79u1, answered sent at t+2.576s) never reached member x0206r79u0 on device x0206r79u0/d0 (last connection node-1.f0ec8526.xw ended at t+3.979s code 1000)
import { defineScenario } from 'imstorm';

export default defineScenario({
  "name": "two-rejoin-cycles-example",
  "description": "2 node(s), 2 users × 1 device(s) (2 devices), 1 dm(s) per user, 1 group(s) of 6, 12 msgs/s, churn 3/s, cmids counter, ack batched, 1 presence sub(s) a device, 2 membership changes/s, 2000 ms; 1 fault(s): toxic latency downstream {\"latency\":577,\"jitter\":54} on client-link:node-1 at 1500 ms for 2200 ms",
  "proves": [
    "regression: lost held for this case once (found by imstorm explore, seed 2002, path 100:1:11:2:0:4:3:3:2:2:2)"
  ],
  "seed": 12,
  "topology": {
    "nodes": 2,
    "redisBehindProxy": true,
    "clientLinksBehindProxy": true,
    "serverEnv": {
      "PRESENCE_TTL_MS": 3000,
      "STORE_TIMEOUT_MS": 1000,
      "SEND_RATE": 200,
      "SEND_BURST": 400
    }
  },
  "workload": {
    "users": 2,
    "devicesPerUser": 1,
    "dmsPerUser": 1,
    "groups": 1,
    "groupSize": 6,
    "sendRate": 12,
    "bodyBytes": 24,
    "ack": "batched",
    "churnRate": 3,
    "cmids": "counter",
    "presenceSubs": 1,
    "failover": true,
    "reconnect": {
      "baseMs": 50,
      "capMs": 500,
      "attempts": 100,
      "rotate": false
    }
  },
  "durationMs": 2000,
  "faults": [
    {
      "kind": "toxic",
      "at": 1500,
      "duration": 2200,
      "link": "client-link:node-1",
      "toxic": {
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
        "attributes": {
          "latency": 577,
          "jitter": 54
        }
      }
    }
  ],
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
