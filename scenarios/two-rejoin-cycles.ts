import { defineScenario } from '../harness/scenario/define.ts';

/**
 * Found by `imstorm explore --env local --budget 10m --seed 2002` on the correct server
 * (2026-12-02; search run 101 at 598 s — `lost`, 8 of 8 re-runs — 4 devices shrunk in 606 s
 * to 2 devices and 1 fault; fast-check replay `--seed 2002 --path 100:1:11:2:0:4:3:3:2:2:2`
 * on the shrink order of that day).
 *
 * u0/d0's connection on node-1 gets its frames 577 ms late; meanwhile u0 leaves the group,
 * joins it again and leaves again (membership churn 2/s), and the churn drops the connection
 * with group messages of the first membership still in flight. At the next connect u0 is no
 * member, and the store remembered only the last join and leave, so what was stored during
 * the older membership was never replayed (`lost`: g0 seqs 16 and 17). The store now keeps
 * every ended membership (up to MEMBERSHIPS_KEPT) and delivery walks them
 * (server/delivery/cursor.ts owedAfter; test/core/membership.test.ts "several leave-and-join
 * cycles").
 */

export default defineScenario({
  "name": "two-rejoin-cycles",
  "description": "2 node(s), 2 users × 1 device(s) (2 devices), 1 dm(s) per user, 1 group(s) of 6, 12 msgs/s, churn 3/s, cmids counter, ack batched, 1 presence sub(s) a device, 2 membership changes/s, 2000 ms; 1 fault(s): toxic latency downstream {\"latency\":577,\"jitter\":54} on client-link:node-1 at 1500 ms for 2200 ms",
  "proves": [
    "a device away across two leave-and-join cycles of its user gets, at its next connect, what was stored during each membership and nothing between (lost, unexpected)"
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
