import { defineScenario } from '../harness/scenario/define.ts';

/**
 * Found by `imstorm explore --env local --seed 61 --faults cut --runs 3` on the correct server
 * (2026-12-02: search run 3, 50 devices and 4 cuts, `inflight` in 2 of 2 re-runs; shrunk in
 * 61 s to 4 devices; fast-check replay `--seed 61 --path 2:8 --faults cut`). A harness bug,
 * not the server's.
 *
 * The ack-ahead device u0/d1 acks at 1.3 s, while node-1's Redis link is cut (0.9-2.9 s): the
 * node answers `ok` and clamps it to what the device holds (5), and its cursor write waits for
 * Redis. The device's connection drops; its next one, at 3.2 s, starts from cursor 0 (the write
 * has not landed) and gets 1..25 again; the client-link cut at 3.2 s opens an in-flight window
 * in which that connection's view counted 1..26 as unacked. The write lands; the connection
 * after resumes from cursor 5. The device had acked 1..5 (on its earlier connection), so that
 * was no loss, but `inflight` failed it 5 of 5 runs: "seqs 1..5 were taken as delivered without
 * an ack". A device's window now counts as unacked only what is above the highest ack it wrote
 * on any connection (harness/fleet/sim-client.ts ackedEver), and an ack above what it held
 * covers what may already have been stored when it was handled (harness/checks/inflight.ts).
 * Since: PASS 5 of 5.
 */

export default defineScenario({
  "name": "ack-before-redis-cut",
  "description": "1 node(s), 2 users × 2 device(s) (4 devices), 2 dm(s) per user, 0 group(s) of 4, 11 msgs/s (×2 from 3300 ms for 300 ms), churn 1/s, cmids counter, ack immediate, 1 acking ahead, 3600 ms; 4 fault(s): cut client-link:node-1 at 0 ms for 500 ms; cut redis-link:node-1 at 900 ms for 2000 ms; cut client-link:node-1 at 3200 ms for 1000 ms; cut client-link:node-1 at 1800 ms for 200 ms",
  "proves": [
    "an ack a device wrote while its node's Redis link was down is its ack: when that cursor write lands after the device's next connection began from the old cursor, a later cursor past those seqs loses nothing, and what the device held above its acks comes again (inflight, lost)"
  ],
  "seed": 2147483638,
  "topology": {
    "nodes": 1,
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
    "devicesPerUser": 2,
    "dmsPerUser": 2,
    "groups": 0,
    "groupSize": 4,
    "sendRate": 11,
    "bodyBytes": 17,
    "ack": "immediate",
    "churnRate": 1,
    "cmids": "counter",
    "presenceSubs": 0,
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
        "durationMs": 3299,
        "target": 1
      },
      {
        "durationMs": 1,
        "target": 2
      },
      {
        "durationMs": 299,
        "target": 2
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
  "durationMs": 3600,
  "faults": [
    {
      "kind": "cut",
      "at": 0,
      "duration": 500,
      "link": "client-link:node-1"
    },
    {
      "kind": "cut",
      "at": 900,
      "duration": 2000,
      "link": "redis-link:node-1"
    },
    {
      "kind": "cut",
      "at": 3200,
      "duration": 1000,
      "link": "client-link:node-1"
    },
    {
      "kind": "cut",
      "at": 1800,
      "duration": 200,
      "link": "client-link:node-1"
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
