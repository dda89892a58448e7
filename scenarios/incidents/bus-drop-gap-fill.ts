// Frozen by `imstorm replay reports/captures/incident-bus-drop` on 2026-12-02: the recorded devices and
// their steps (workload.recorded) are data in bus-drop-gap-fill.plan.json beside this file, checked when it
// is loaded; the faults are below. Run it with `npx imstorm run ./<this file>`.
import { defineScenario, loadRecorded } from 'imstorm';

export default defineScenario({
  "name": "bus-drop-gap-fill",
  "description": "replay of the capture in reports/captures/incident-bus-drop: 16 devices, 3 groups, 16 dms",
  "proves": [
    "the recorded devices, sends, acks, history requests, reconnects and faults, replayed against this build, keep every delivery guarantee"
  ],
  "topology": {
    "nodes": 2,
    "redisBehindProxy": true,
    "clientLinksBehindProxy": true,
    "serverEnv": {},
    "volatileRedis": false,
    "nodeEnv": {},
    "fleetPerNode": false
  },
  "workload": {
    "users": 16,
    "devicesPerUser": 1,
    "dmsPerUser": 0,
    "groups": 0,
    "groupSize": 5,
    "sendRate": 0,
    "bodyBytes": 64,
    "ack": "never",
    "churnRate": 0,
    "replaceRate": 0,
    "presenceSubs": 0,
    "cmids": "unique",
    "failover": false,
    "reconnect": {"baseMs":100,"capMs":5000,"attempts":50,"rotate":false},
    "recorded": loadRecorded(new URL("./bus-drop-gap-fill.plan.json", import.meta.url))
  },
  "durationMs": 10278,
  "faults": [{"kind":"bus-drop","at":2221,"target":"node-2"}],
  "thresholds": [],
  "checks": {
    "unseenWithinMs": 5000,
    "presence": true,
    "presenceSettleMs": 2000,
    "leaks": false,
    "storms": 1,
    "leakPerConnection": {"maxBytes":512,"minConnections":2000}
  }
});
