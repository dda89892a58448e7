// An example of what `imstorm explore` writes (README "Exploring: imstorm explore"): found on
// a deliberately broken server (TEST_BUGS=skip_dedupe, in its serverEnv), so it fails on
// purpose; it is in no suite. Written to /tmp/s19x/skip-dedupe-default.ts and kept here as the example.
// Found by imstorm explore; replay it with
//   npx imstorm run ./examples/skip-dedupe-example.ts
// (the scenario carries its own seed, so the run draws the same plan; faults are timed
// from the load's start, so a replay is close to, not identical with, the run that failed).
// Found with: imstorm explore --seed 21 --env local --server-env TEST_BUGS=skip_dedupe --out /tmp/s19x/skip-dedupe-default.ts
// fast-check replay of this case: imstorm explore --seed 21 --path 2:1:1:0:0:0:0:0:0:0:1:0:1:0 (same --server-env, --guarantees)
// Reproduced in 10 of 10 re-runs on the server it was found on.
// What was violated:
//   - duplicate: dm:x78ddr2iu0:x78ddr2iu1 epoch m2ugB7J4: cmid d0.2 from x78ddr2iu1 has 2 seqs: 1 (received by x78ddr2iu0/d0 on node-1.d3132727.3gz at t+0.215s), 4 (answered sent to x78ddr2iu1/d0 at t+0.236s)
//   - duplicate: dm:x78ddr2iu0:x78ddr2iu1 epoch m2ugB7J4: cmid d0.81 from x78ddr2iu0 has 2 seqs: 100 (received by x78ddr2iu0/d0 on node-1.d3132727.3hs at t+7.575s), 101 (answered sent to x78ddr2iu0/d0 at t+7.629s)
import { defineScenario } from 'imstorm';

export default defineScenario({
  "name": "skip-dedupe-example",
  "description": "1 node(s), 2 users × 1 device(s) (2 devices), 1 dm(s) per user, 1 group(s) of 2, 22 msgs/s, churn 3/s, cmids counter, ack immediate, 1 presence sub(s) a device, 0.5 membership changes/s, 2000 ms; 1 fault(s): toxic latency downstream {\"latency\":50,\"jitter\":0} on client-link:node-1 at 0 ms for 200 ms",
  "proves": [
    "regression: duplicate held for this case once (found by imstorm explore, seed 21, path 2:1:1:0:0:0:0:0:0:0:1:0:1:0)"
  ],
  "seed": 0,
  "topology": {
    "nodes": 1,
    "redisBehindProxy": true,
    "clientLinksBehindProxy": true,
    "serverEnv": {
      "PRESENCE_TTL_MS": 3000,
      "STORE_TIMEOUT_MS": 1000,
      "SEND_RATE": 200,
      "SEND_BURST": 400,
      "TEST_BUGS": "skip_dedupe"
    }
  },
  "workload": {
    "users": 2,
    "devicesPerUser": 1,
    "dmsPerUser": 1,
    "groups": 1,
    "groupSize": 2,
    "sendRate": 22,
    "bodyBytes": 963,
    "ack": "immediate",
    "churnRate": 3,
    "cmids": "counter",
    "presenceSubs": 1,
    "failover": false,
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
      "at": 0,
      "duration": 200,
      "link": "client-link:node-1",
      "toxic": {
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
        "attributes": {
          "latency": 50,
          "jitter": 0
        }
      }
    }
  ],
  "membership": {
    "changesPerSec": 0.5
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
