import { defineScenario } from '../harness/scenario/define.ts';

/**
 * Found by `imstorm explore --env local --budget 10m --seed 1901` on the correct server
 * (2026-12-02; search run 46 after 283 s, 9 devices and 2 faults shrunk in 602 s to the 4
 * devices and 1 fault below; `lost` in 10 of 10 re-runs; fast-check replay `--seed 1901
 * --path 45:2:3:1:2:2:2:2:1:3:1:1:2:7:7:8:7:7` on the shrink order of that day).
 *
 * node-1 is paused (SIGSTOP) for the first 800 ms: the devices on it drop and reconnect
 * there once it resumes. Meanwhile a group message is stored while u1 is a member, and
 * the membership churn makes u1 leave that group and join it again before u1/d0 is back.
 * The connect sync started u1/d0 at the new join point, so the message stored during the
 * earlier membership never reached it (`lost`, every run). The server now replays a
 * connecting device's part of the earlier membership first (its cursor up to the leave
 * point), then goes on from the new join (server/delivery/cursor.ts owedAfter),
 * also when the re-join's bus event reaches the resumed node while
 * the device's connect sync reads, as here (test/core/membership.test.ts).
 */
export default defineScenario({
  "name": "rejoin-while-away",
  "description": "2 node(s), 2 users × 2 device(s) (4 devices), 1 dm(s) per user, 2 group(s) of 2, 14 msgs/s, churn 3/s, cmids counter, ack immediate, 1 presence sub(s) a device, 2 membership changes/s, 2000 ms; 1 fault(s): pause node-1 at 0 ms for 800 ms",
  "proves": [
    "a device that is away while its user leaves a group and joins it again gets, at its next connect, what was stored during the earlier membership (guarantee 1), then from the new join point"
  ],
  "seed": 1340886230,
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
    "devicesPerUser": 2,
    "dmsPerUser": 1,
    "groups": 2,
    "groupSize": 2,
    "sendRate": 14,
    "bodyBytes": 716,
    "ack": "immediate",
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
      "kind": "pause",
      "at": 0,
      "duration": 800,
      "target": "node-1"
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
