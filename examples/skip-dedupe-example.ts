// An example of what `imstorm explore` writes (README "Exploring: imstorm explore"): found on
// a deliberately broken server (TEST_BUGS=skip_dedupe, in its serverEnv), so it fails on
// purpose; it is in no suite. Written to scenarios/found/ and kept here as the example.
// Found by imstorm explore; replay it with
//   npx imstorm run ./examples/skip-dedupe-example.ts
// (the scenario carries its own seed, so the run draws the same plan; faults are timed
// from the load's start, so a replay is close to, not identical with, the run that failed).
// Found with: imstorm explore --seed 21 --env local --budget 4m --shrink-budget 4m --repeat 3 --min-fails 2 --confirm 10 --server-env TEST_BUGS=skip_dedupe --out scenarios/found/skip-dedupe-example.ts
// fast-check replay of this case: imstorm explore --seed 21 --path 2:1:1:1:1:2:2:2 (same --server-env, --guarantees)
// Reproduced in 10 of 10 re-runs on the server it was found on.
// What was violated:
//   - duplicate: g:xc013r1fg2 epoch R2Nzf6Wa: cmid d0.1 from xc013r1fu0 has 2 seqs: 1 (received by xc013r1fu0/d0 on node-1.533bfd5f.1l4 at t+0.398s), 4 (answered sent to xc013r1fu0/d0 at t+0.402s)
//   - duplicate: dm:xc013r1fu0:xc013r1fu1 epoch -EBJzDDL: cmid d0.2 from xc013r1fu0 has 2 seqs: 1 (received by xc013r1fu0/d0 on node-1.533bfd5f.1l4 at t+0.399s), 2 (answered sent to xc013r1fu0/d0 at t+0.402s)
import { defineScenario } from 'imstorm';

export default defineScenario({
  "name": "skip-dedupe-example",
  "description": "1 node(s), 2 users × 2 device(s) (4 devices), 1 dm(s) per user, 3 group(s) of 4, 22 msgs/s, churn 3/s, cmids counter, ack immediate, 1 presence sub(s) a device, 0.5 membership changes/s, 2200 ms; 1 fault(s): toxic reset_peer downstream {\"timeout\":500} on client-link:node-1 at 0 ms for 200 ms",
  "proves": [
    "regression: duplicate held for this case once (found by imstorm explore, seed 21, path 2:1:1:1:1:2:2:2)"
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
    "devicesPerUser": 2,
    "dmsPerUser": 1,
    "groups": 3,
    "groupSize": 4,
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
  "durationMs": 2200,
  "faults": [
    {
      "kind": "toxic",
      "at": 0,
      "duration": 200,
      "link": "client-link:node-1",
      "toxic": {
        "type": "reset_peer",
        "stream": "downstream",
        "toxicity": 1,
        "attributes": {
          "timeout": 500
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
