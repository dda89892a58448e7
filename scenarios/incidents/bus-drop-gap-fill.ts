// Frozen by `imstorm replay reports/captures/incident-bus-drop` on 2026-12-02: the recorded devices,
// their steps (workload.recorded) and the faults as data. Run it with `npx imstorm run ./<this file>`.
import { defineScenario } from 'imstorm';

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
    "nodeEnv": {}
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
    "presenceSubs": 0,
    "cmids": "unique",
    "failover": false,
    "reconnect": {"baseMs":100,"capMs":5000,"attempts":50,"rotate":false},
    "recorded": {
      "source": "reports/captures/incident-bus-drop",
      "groups": [
        {
          "id": "incidentbusdrop7g0",
          "owner": "incidentbusdrop7u2",
          "members": [
            "incidentbusdrop7u2",
            "incidentbusdrop7u3",
            "incidentbusdrop7u4",
            "incidentbusdrop7u5",
            "incidentbusdrop7u6",
            "incidentbusdrop7u7"
          ]
        },
        {
          "id": "incidentbusdrop7g1",
          "owner": "incidentbusdrop7u9",
          "members": [
            "incidentbusdrop7u9",
            "incidentbusdrop7u10",
            "incidentbusdrop7u11",
            "incidentbusdrop7u12",
            "incidentbusdrop7u13",
            "incidentbusdrop7u14"
          ]
        },
        {
          "id": "incidentbusdrop7g2",
          "owner": "incidentbusdrop7u11",
          "members": [
            "incidentbusdrop7u11",
            "incidentbusdrop7u12",
            "incidentbusdrop7u13",
            "incidentbusdrop7u14",
            "incidentbusdrop7u15",
            "incidentbusdrop7u0"
          ]
        }
      ],
      "dms": [
        "dm:incidentbusdrop7u14:incidentbusdrop7u6",
        "dm:incidentbusdrop7u11:incidentbusdrop7u4",
        "dm:incidentbusdrop7u1:incidentbusdrop7u2",
        "dm:incidentbusdrop7u10:incidentbusdrop7u5",
        "dm:incidentbusdrop7u13:incidentbusdrop7u9",
        "dm:incidentbusdrop7u1:incidentbusdrop7u6",
        "dm:incidentbusdrop7u10:incidentbusdrop7u11",
        "dm:incidentbusdrop7u12:incidentbusdrop7u9",
        "dm:incidentbusdrop7u11:incidentbusdrop7u13",
        "dm:incidentbusdrop7u0:incidentbusdrop7u3",
        "dm:incidentbusdrop7u11:incidentbusdrop7u5",
        "dm:incidentbusdrop7u11:incidentbusdrop7u7",
        "dm:incidentbusdrop7u13:incidentbusdrop7u8",
        "dm:incidentbusdrop7u1:incidentbusdrop7u8",
        "dm:incidentbusdrop7u12:incidentbusdrop7u3",
        "dm:incidentbusdrop7u10:incidentbusdrop7u15"
      ],
      "devices": [
        {
          "user": "incidentbusdrop7u0",
          "device": "d0",
          "node": 1,
          "presenceSubs": [],
          "steps": [
            {
              "op": "send",
              "at": 655,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.1",
              "bytes": 64
            },
            {"op":"send","at":710,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.2","bytes":64},
            {"op":"ack","at":1040,"conv":"g:incidentbusdrop7g2","seq":5},
            {"op":"ack","at":1040,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":1},
            {"op":"send","at":1169,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.3","bytes":64},
            {
              "op": "send",
              "at": 1261,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.4",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1516,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.5",
              "bytes": 64
            },
            {"op":"ack","at":1537,"conv":"g:incidentbusdrop7g2","seq":7},
            {"op":"ack","at":1539,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":3},
            {"op":"send","at":1539,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.6","bytes":64},
            {
              "op": "send",
              "at": 1643,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.7",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1664,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.8",
              "bytes": 64
            },
            {"op":"send","at":1742,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.9","bytes":64},
            {"op":"send","at":1742,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.10","bytes":64},
            {
              "op": "send",
              "at": 1788,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.11",
              "bytes": 64
            },
            {"op":"send","at":1885,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.12","bytes":64},
            {
              "op": "send",
              "at": 2000,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.13",
              "bytes": 64
            },
            {"op":"ack","at":2040,"conv":"g:incidentbusdrop7g2","seq":12},
            {"op":"ack","at":2040,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":8},
            {"op":"send","at":2262,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.14","bytes":64},
            {"op":"send","at":2367,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.15","bytes":64},
            {
              "op": "send",
              "at": 2474,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.16",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2486,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.17",
              "bytes": 64
            },
            {"op":"ack","at":2549,"conv":"g:incidentbusdrop7g2","seq":15},
            {"op":"ack","at":2549,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":13},
            {"op":"send","at":3046,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.18","bytes":64},
            {"op":"ack","at":3073,"conv":"g:incidentbusdrop7g2","seq":17},
            {"op":"send","at":3310,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.19","bytes":64},
            {"op":"send","at":3407,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.20","bytes":64},
            {"op":"ack","at":3591,"conv":"g:incidentbusdrop7g2","seq":23},
            {"op":"send","at":3991,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.21","bytes":64},
            {"op":"ack","at":4084,"conv":"g:incidentbusdrop7g2","seq":27},
            {"op":"ack","at":4085,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":14},
            {"op":"ack","at":4558,"conv":"g:incidentbusdrop7g2","seq":29},
            {
              "op": "send",
              "at": 4581,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.22",
              "bytes": 64
            },
            {"op":"send","at":4801,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.23","bytes":64},
            {"op":"ack","at":5060,"conv":"g:incidentbusdrop7g2","seq":34},
            {"op":"ack","at":5060,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":16},
            {"op":"send","at":5239,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.24","bytes":64},
            {
              "op": "send",
              "at": 5423,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.25",
              "bytes": 64
            },
            {"op":"send","at":5589,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.26","bytes":64},
            {"op":"ack","at":5669,"conv":"g:incidentbusdrop7g2","seq":37},
            {"op":"ack","at":5669,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":17},
            {"op":"send","at":5669,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.27","bytes":64},
            {"op":"send","at":5846,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u0.d0.28","bytes":64},
            {"op":"ack","at":6159,"conv":"g:incidentbusdrop7g2","seq":39},
            {
              "op": "send",
              "at": 6159,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u0.d0.29",
              "bytes": 64
            },
            {"op":"ack","at":6421,"conv":"g:incidentbusdrop7g2","seq":49},
            {"op":"ack","at":6421,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":19},
            {"op":"drop","at":6449,"code":1000},
            {"op":"connect","at":6557},
            {"op":"drop","at":8273,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u2",
          "device": "d0",
          "node": 1,
          "presenceSubs": [],
          "steps": [
            {"op":"ack","at":563,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":1},
            {"op":"ack","at":586,"conv":"g:incidentbusdrop7g0","seq":2},
            {
              "op": "send",
              "at": 654,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u2.d0.1",
              "bytes": 64
            },
            {"op":"send","at":829,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.2","bytes":64},
            {
              "op": "send",
              "at": 955,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u2.d0.3",
              "bytes": 64
            },
            {"op":"ack","at":1050,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":4},
            {"op":"ack","at":1050,"conv":"g:incidentbusdrop7g0","seq":8},
            {"op":"send","at":1437,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.4","bytes":64},
            {
              "op": "send",
              "at": 1503,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u2.d0.5",
              "bytes": 64
            },
            {"op":"send","at":1511,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.6","bytes":64},
            {"op":"ack","at":1551,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":7},
            {"op":"ack","at":1551,"conv":"g:incidentbusdrop7g0","seq":10},
            {
              "op": "send",
              "at": 1793,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u2.d0.7",
              "bytes": 64
            },
            {"op":"ack","at":2054,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":9},
            {"op":"ack","at":2054,"conv":"g:incidentbusdrop7g0","seq":13},
            {
              "op": "send",
              "at": 2222,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u2.d0.8",
              "bytes": 64
            },
            {"op":"send","at":2261,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.9","bytes":64},
            {
              "op": "send",
              "at": 2367,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u2.d0.10",
              "bytes": 64
            },
            {"op":"ack","at":2568,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":12},
            {"op":"ack","at":2568,"conv":"g:incidentbusdrop7g0","seq":17},
            {"op":"send","at":3004,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.11","bytes":64},
            {"op":"ack","at":3074,"conv":"g:incidentbusdrop7g0","seq":19},
            {"op":"send","at":3191,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.12","bytes":64},
            {
              "op": "send",
              "at": 3455,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u2.d0.13",
              "bytes": 64
            },
            {"op":"send","at":3592,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.14","bytes":64},
            {"op":"ack","at":3592,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":13},
            {"op":"ack","at":3592,"conv":"g:incidentbusdrop7g0","seq":24},
            {"op":"send","at":3801,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.15","bytes":64},
            {
              "op": "send",
              "at": 3834,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u2.d0.16",
              "bytes": 64
            },
            {"op":"ack","at":4097,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":14},
            {"op":"ack","at":4097,"conv":"g:incidentbusdrop7g0","seq":30},
            {"op":"send","at":4173,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.17","bytes":64},
            {
              "op": "send",
              "at": 4393,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u2.d0.18",
              "bytes": 64
            },
            {"op":"ack","at":4575,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":15},
            {"op":"ack","at":4575,"conv":"g:incidentbusdrop7g0","seq":32},
            {"op":"send","at":4697,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.19","bytes":64},
            {"op":"send","at":4822,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.20","bytes":64},
            {"op":"send","at":4991,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.21","bytes":64},
            {"op":"ack","at":5075,"conv":"g:incidentbusdrop7g0","seq":38},
            {"op":"ack","at":5670,"conv":"g:incidentbusdrop7g0","seq":40},
            {
              "op": "send",
              "at": 5846,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u2.d0.22",
              "bytes": 64
            },
            {"op":"send","at":6062,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u2.d0.23","bytes":64},
            {"op":"ack","at":6229,"conv":"g:incidentbusdrop7g0","seq":42},
            {"op":"ack","at":6422,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":16},
            {"op":"ack","at":6422,"conv":"g:incidentbusdrop7g0","seq":44},
            {"op":"drop","at":6436,"code":1000},
            {"op":"connect","at":6496},
            {"op":"drop","at":8273,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u4",
          "device": "d0",
          "node": 1,
          "presenceSubs": [],
          "steps": [
            {
              "op": "send",
              "at": 250,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.1",
              "bytes": 64
            },
            {"op":"send","at":457,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u4.d0.2","bytes":64},
            {"op":"send","at":497,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u4.d0.3","bytes":64},
            {"op":"ack","at":597,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":1},
            {"op":"ack","at":597,"conv":"g:incidentbusdrop7g0","seq":2},
            {"op":"send","at":597,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u4.d0.4","bytes":64},
            {
              "op": "send",
              "at": 710,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.5",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 758,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.6",
              "bytes": 64
            },
            {"op":"ack","at":1056,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":3},
            {"op":"ack","at":1056,"conv":"g:incidentbusdrop7g0","seq":8},
            {"op":"ack","at":1552,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":4},
            {"op":"ack","at":1552,"conv":"g:incidentbusdrop7g0","seq":10},
            {
              "op": "send",
              "at": 1555,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.7",
              "bytes": 64
            },
            {"op":"send","at":1702,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u4.d0.8","bytes":64},
            {
              "op": "send",
              "at": 1884,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.9",
              "bytes": 64
            },
            {"op":"ack","at":2054,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":6},
            {"op":"ack","at":2054,"conv":"g:incidentbusdrop7g0","seq":13},
            {"op":"ack","at":2569,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":7},
            {"op":"ack","at":2569,"conv":"g:incidentbusdrop7g0","seq":17},
            {
              "op": "send",
              "at": 2757,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.10",
              "bytes": 64
            },
            {"op":"ack","at":3074,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":8},
            {"op":"ack","at":3074,"conv":"g:incidentbusdrop7g0","seq":19},
            {
              "op": "send",
              "at": 3521,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.11",
              "bytes": 64
            },
            {"op":"ack","at":3609,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":10},
            {"op":"ack","at":3609,"conv":"g:incidentbusdrop7g0","seq":24},
            {"op":"send","at":3676,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u4.d0.12","bytes":64},
            {
              "op": "send",
              "at": 3765,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.13",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3857,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.14",
              "bytes": 64
            },
            {"op":"ack","at":4097,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":13},
            {"op":"ack","at":4097,"conv":"g:incidentbusdrop7g0","seq":30},
            {"op":"ack","at":4579,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":15},
            {"op":"ack","at":4579,"conv":"g:incidentbusdrop7g0","seq":32},
            {
              "op": "send",
              "at": 4581,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.15",
              "bytes": 64
            },
            {"op":"send","at":5038,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u4.d0.16","bytes":64},
            {"op":"ack","at":5078,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":17},
            {"op":"ack","at":5079,"conv":"g:incidentbusdrop7g0","seq":38},
            {"op":"send","at":5361,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u4.d0.17","bytes":64},
            {
              "op": "send",
              "at": 5670,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u4.d0.18",
              "bytes": 64
            },
            {"op":"ack","at":5802,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":20},
            {"op":"ack","at":5802,"conv":"g:incidentbusdrop7g0","seq":40},
            {"op":"send","at":6229,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u4.d0.19","bytes":64},
            {"op":"ack","at":6229,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":21},
            {"op":"ack","at":6229,"conv":"g:incidentbusdrop7g0","seq":42},
            {"op":"ack","at":6422,"conv":"g:incidentbusdrop7g0","seq":44},
            {"op":"drop","at":6436,"code":1000},
            {"op":"connect","at":6495},
            {"op":"drop","at":8273,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u6",
          "device": "d0",
          "node": 1,
          "presenceSubs": [],
          "steps": [
            {
              "op": "send",
              "at": 218,
              "conv": "dm:incidentbusdrop7u14:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.1",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 538,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.2",
              "bytes": 64
            },
            {"op":"ack","at":598,"conv":"dm:incidentbusdrop7u14:incidentbusdrop7u6","seq":2},
            {"op":"ack","at":598,"conv":"g:incidentbusdrop7g0","seq":2},
            {"op":"ack","at":598,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":1},
            {"op":"ack","at":1056,"conv":"g:incidentbusdrop7g0","seq":8},
            {"op":"ack","at":1056,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":2},
            {"op":"ack","at":1552,"conv":"g:incidentbusdrop7g0","seq":10},
            {"op":"send","at":1562,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u6.d0.3","bytes":64},
            {
              "op": "send",
              "at": 1573,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.4",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1990,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.5",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2030,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.6",
              "bytes": 64
            },
            {"op":"ack","at":2055,"conv":"dm:incidentbusdrop7u14:incidentbusdrop7u6","seq":4},
            {"op":"ack","at":2055,"conv":"g:incidentbusdrop7g0","seq":13},
            {"op":"ack","at":2055,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":5},
            {
              "op": "send",
              "at": 2069,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.7",
              "bytes": 64
            },
            {"op":"send","at":2310,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u6.d0.8","bytes":64},
            {
              "op": "send",
              "at": 2412,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.9",
              "bytes": 64
            },
            {"op":"ack","at":2584,"conv":"g:incidentbusdrop7g0","seq":17},
            {"op":"ack","at":2584,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":9},
            {
              "op": "send",
              "at": 2965,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.10",
              "bytes": 64
            },
            {"op":"ack","at":3074,"conv":"g:incidentbusdrop7g0","seq":19},
            {"op":"ack","at":3074,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":10},
            {
              "op": "send",
              "at": 3271,
              "conv": "dm:incidentbusdrop7u14:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.11",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3353,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.12",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3510,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.13",
              "bytes": 64
            },
            {"op":"ack","at":3609,"conv":"dm:incidentbusdrop7u14:incidentbusdrop7u6","seq":5},
            {"op":"ack","at":3610,"conv":"g:incidentbusdrop7g0","seq":24},
            {"op":"ack","at":3610,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":12},
            {
              "op": "send",
              "at": 4009,
              "conv": "dm:incidentbusdrop7u14:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.14",
              "bytes": 64
            },
            {"op":"ack","at":4097,"conv":"dm:incidentbusdrop7u14:incidentbusdrop7u6","seq":9},
            {"op":"ack","at":4097,"conv":"g:incidentbusdrop7g0","seq":30},
            {"op":"ack","at":4097,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":15},
            {"op":"send","at":4133,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u6.d0.15","bytes":64},
            {
              "op": "send",
              "at": 4303,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.16",
              "bytes": 64
            },
            {"op":"ack","at":4579,"conv":"g:incidentbusdrop7g0","seq":32},
            {"op":"ack","at":4579,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":16},
            {"op":"ack","at":5079,"conv":"g:incidentbusdrop7g0","seq":38},
            {"op":"ack","at":5079,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":17},
            {
              "op": "send",
              "at": 5412,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.17",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5445,
              "conv": "dm:incidentbusdrop7u14:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u6.d0.18",
              "bytes": 64
            },
            {"op":"ack","at":5802,"conv":"dm:incidentbusdrop7u14:incidentbusdrop7u6","seq":10},
            {"op":"ack","at":5802,"conv":"g:incidentbusdrop7g0","seq":40},
            {"op":"ack","at":5802,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":19},
            {"op":"send","at":5802,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u6.d0.19","bytes":64},
            {"op":"ack","at":6237,"conv":"g:incidentbusdrop7g0","seq":42},
            {"op":"ack","at":6423,"conv":"g:incidentbusdrop7g0","seq":44},
            {"op":"ack","at":6423,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":20},
            {"op":"drop","at":6436,"code":1000},
            {"op":"connect","at":6557},
            {"op":"drop","at":8273,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u8",
          "device": "d0",
          "node": 1,
          "presenceSubs": [],
          "steps": [
            {
              "op": "send",
              "at": 998,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.1",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1295,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.2",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1314,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.3",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1390,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.4",
              "bytes": 64
            },
            {"op":"ack","at":1552,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":4},
            {"op":"ack","at":1552,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":1},
            {
              "op": "send",
              "at": 1719,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.5",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1834,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.6",
              "bytes": 64
            },
            {"op":"ack","at":2055,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":5},
            {
              "op": "send",
              "at": 2478,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.7",
              "bytes": 64
            },
            {"op":"ack","at":2584,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":5},
            {
              "op": "send",
              "at": 2639,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.8",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2745,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.9",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3017,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.10",
              "bytes": 64
            },
            {"op":"ack","at":3074,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":7},
            {"op":"ack","at":3074,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":6},
            {
              "op": "send",
              "at": 3371,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.11",
              "bytes": 64
            },
            {"op":"ack","at":3610,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":8},
            {"op":"ack","at":3610,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":7},
            {
              "op": "send",
              "at": 4123,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.12",
              "bytes": 64
            },
            {"op":"ack","at":4579,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":9},
            {"op":"ack","at":4579,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":8},
            {
              "op": "send",
              "at": 4829,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.13",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 4937,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.14",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 4957,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.15",
              "bytes": 64
            },
            {"op":"ack","at":5081,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":10},
            {"op":"ack","at":5081,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":10},
            {
              "op": "send",
              "at": 5185,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.16",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5219,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u8.d0.17",
              "bytes": 64
            },
            {"op":"ack","at":5803,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":13},
            {"op":"ack","at":5803,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":12},
            {"op":"ack","at":6423,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":14},
            {"op":"drop","at":6435,"code":1000},
            {"op":"connect","at":6545},
            {"op":"drop","at":8273,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u12",
          "device": "d0",
          "node": 1,
          "presenceSubs": [],
          "steps": [
            {
              "op": "send",
              "at": 477,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u12.d0.1",
              "bytes": 64
            },
            {"op":"ack","at":598,"conv":"g:incidentbusdrop7g1","seq":2},
            {"op":"send","at":954,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u12.d0.2","bytes":64},
            {"op":"send","at":955,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u12.d0.3","bytes":64},
            {"op":"ack","at":1056,"conv":"g:incidentbusdrop7g1","seq":7},
            {"op":"ack","at":1059,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":1},
            {"op":"ack","at":1059,"conv":"g:incidentbusdrop7g2","seq":5},
            {"op":"send","at":1252,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u12.d0.4","bytes":64},
            {"op":"ack","at":1552,"conv":"g:incidentbusdrop7g1","seq":10},
            {"op":"ack","at":1552,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":2},
            {"op":"ack","at":1552,"conv":"g:incidentbusdrop7g2","seq":8},
            {"op":"send","at":1945,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u12.d0.5","bytes":64},
            {"op":"ack","at":2055,"conv":"g:incidentbusdrop7g1","seq":11},
            {"op":"ack","at":2055,"conv":"g:incidentbusdrop7g2","seq":12},
            {"op":"ack","at":2055,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":1},
            {"op":"ack","at":2584,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":3},
            {"op":"ack","at":2584,"conv":"g:incidentbusdrop7g2","seq":15},
            {"op":"ack","at":2584,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":2},
            {"op":"send","at":2758,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u12.d0.6","bytes":64},
            {"op":"send","at":2920,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u12.d0.7","bytes":64},
            {
              "op": "send",
              "at": 3017,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u12.d0.8",
              "bytes": 64
            },
            {"op":"ack","at":3074,"conv":"g:incidentbusdrop7g1","seq":14},
            {"op":"ack","at":3126,"conv":"g:incidentbusdrop7g2","seq":18},
            {
              "op": "send",
              "at": 3249,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u12.d0.9",
              "bytes": 64
            },
            {"op":"ack","at":3610,"conv":"g:incidentbusdrop7g1","seq":17},
            {"op":"ack","at":3610,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":5},
            {"op":"ack","at":3610,"conv":"g:incidentbusdrop7g2","seq":23},
            {
              "op": "send",
              "at": 3765,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u12.d0.10",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3942,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u12.d0.11",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3991,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u12.d0.12",
              "bytes": 64
            },
            {"op":"ack","at":4111,"conv":"g:incidentbusdrop7g1","seq":19},
            {"op":"ack","at":4111,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":7},
            {"op":"ack","at":4111,"conv":"g:incidentbusdrop7g2","seq":27},
            {"op":"ack","at":4111,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":3},
            {"op":"send","at":4123,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u12.d0.13","bytes":64},
            {
              "op": "send",
              "at": 4133,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u12.d0.14",
              "bytes": 64
            },
            {"op":"ack","at":4601,"conv":"g:incidentbusdrop7g1","seq":23},
            {"op":"ack","at":4602,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":8},
            {"op":"ack","at":4602,"conv":"g:incidentbusdrop7g2","seq":29},
            {"op":"ack","at":4602,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":4},
            {"op":"send","at":5017,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u12.d0.15","bytes":64},
            {"op":"ack","at":5101,"conv":"g:incidentbusdrop7g1","seq":27},
            {"op":"ack","at":5101,"conv":"g:incidentbusdrop7g2","seq":34},
            {"op":"send","at":5202,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u12.d0.16","bytes":64},
            {"op":"send","at":5267,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u12.d0.17","bytes":64},
            {
              "op": "send",
              "at": 5328,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u12.d0.18",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5373,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u12.d0.19",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5495,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u12.d0.20",
              "bytes": 64
            },
            {"op":"ack","at":5803,"conv":"g:incidentbusdrop7g1","seq":28},
            {"op":"ack","at":5803,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":10},
            {"op":"ack","at":5803,"conv":"g:incidentbusdrop7g2","seq":37},
            {"op":"ack","at":5803,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":6},
            {"op":"send","at":6061,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u12.d0.21","bytes":64},
            {"op":"send","at":6230,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u12.d0.22","bytes":64},
            {"op":"ack","at":6230,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":11},
            {"op":"ack","at":6230,"conv":"g:incidentbusdrop7g2","seq":39},
            {"op":"ack","at":6423,"conv":"g:incidentbusdrop7g1","seq":31},
            {"op":"ack","at":6423,"conv":"g:incidentbusdrop7g2","seq":49},
            {"op":"ack","at":6423,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":7},
            {"op":"drop","at":6433,"code":1000},
            {"op":"connect","at":6490},
            {"op":"drop","at":8273,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u14",
          "device": "d0",
          "node": 1,
          "presenceSubs": [],
          "steps": [
            {"op":"send","at":348,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u14.d0.1","bytes":64},
            {
              "op": "send",
              "at": 424,
              "conv": "dm:incidentbusdrop7u14:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u14.d0.2",
              "bytes": 64
            },
            {"op":"ack","at":598,"conv":"g:incidentbusdrop7g1","seq":2},
            {"op":"ack","at":599,"conv":"dm:incidentbusdrop7u14:incidentbusdrop7u6","seq":2},
            {"op":"ack","at":1060,"conv":"g:incidentbusdrop7g1","seq":7},
            {"op":"ack","at":1060,"conv":"g:incidentbusdrop7g2","seq":5},
            {"op":"ack","at":1552,"conv":"g:incidentbusdrop7g1","seq":10},
            {"op":"ack","at":1552,"conv":"g:incidentbusdrop7g2","seq":8},
            {
              "op": "send",
              "at": 1569,
              "conv": "dm:incidentbusdrop7u14:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u14.d0.3",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1933,
              "conv": "dm:incidentbusdrop7u14:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u14.d0.4",
              "bytes": 64
            },
            {"op":"send","at":1980,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u14.d0.5","bytes":64},
            {"op":"ack","at":2055,"conv":"g:incidentbusdrop7g1","seq":11},
            {"op":"ack","at":2055,"conv":"dm:incidentbusdrop7u14:incidentbusdrop7u6","seq":4},
            {"op":"ack","at":2055,"conv":"g:incidentbusdrop7g2","seq":12},
            {"op":"ack","at":2584,"conv":"g:incidentbusdrop7g2","seq":15},
            {"op":"send","at":2794,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u14.d0.6","bytes":64},
            {"op":"send","at":2817,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u14.d0.7","bytes":64},
            {"op":"send","at":3046,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u14.d0.8","bytes":64},
            {"op":"ack","at":3126,"conv":"g:incidentbusdrop7g1","seq":14},
            {"op":"ack","at":3126,"conv":"g:incidentbusdrop7g2","seq":18},
            {"op":"send","at":3163,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u14.d0.9","bytes":64},
            {
              "op": "send",
              "at": 3551,
              "conv": "dm:incidentbusdrop7u14:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u14.d0.10",
              "bytes": 64
            },
            {"op":"ack","at":3610,"conv":"g:incidentbusdrop7g1","seq":17},
            {"op":"ack","at":3610,"conv":"dm:incidentbusdrop7u14:incidentbusdrop7u6","seq":5},
            {"op":"ack","at":3610,"conv":"g:incidentbusdrop7g2","seq":23},
            {"op":"send","at":3906,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u14.d0.11","bytes":64},
            {
              "op": "send",
              "at": 3920,
              "conv": "dm:incidentbusdrop7u14:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u14.d0.12",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3942,
              "conv": "dm:incidentbusdrop7u14:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u14.d0.13",
              "bytes": 64
            },
            {"op":"send","at":3944,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u14.d0.14","bytes":64},
            {"op":"send","at":4020,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u14.d0.15","bytes":64},
            {"op":"ack","at":4111,"conv":"g:incidentbusdrop7g1","seq":19},
            {"op":"ack","at":4111,"conv":"dm:incidentbusdrop7u14:incidentbusdrop7u6","seq":9},
            {"op":"ack","at":4111,"conv":"g:incidentbusdrop7g2","seq":27},
            {"op":"send","at":4172,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u14.d0.16","bytes":64},
            {"op":"send","at":4218,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u14.d0.17","bytes":64},
            {"op":"send","at":4481,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u14.d0.18","bytes":64},
            {"op":"send","at":4595,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u14.d0.19","bytes":64},
            {"op":"ack","at":4602,"conv":"g:incidentbusdrop7g1","seq":23},
            {"op":"ack","at":4602,"conv":"g:incidentbusdrop7g2","seq":29},
            {"op":"send","at":5046,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u14.d0.20","bytes":64},
            {"op":"ack","at":5101,"conv":"g:incidentbusdrop7g1","seq":27},
            {"op":"ack","at":5101,"conv":"g:incidentbusdrop7g2","seq":34},
            {"op":"ack","at":5845,"conv":"g:incidentbusdrop7g1","seq":28},
            {"op":"ack","at":5845,"conv":"dm:incidentbusdrop7u14:incidentbusdrop7u6","seq":10},
            {"op":"ack","at":5845,"conv":"g:incidentbusdrop7g2","seq":37},
            {"op":"send","at":5845,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u14.d0.21","bytes":64},
            {"op":"send","at":5847,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u14.d0.22","bytes":64},
            {"op":"send","at":6064,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u14.d0.23","bytes":64},
            {"op":"send","at":6158,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u14.d0.24","bytes":64},
            {"op":"ack","at":6159,"conv":"g:incidentbusdrop7g2","seq":39},
            {"op":"ack","at":6423,"conv":"g:incidentbusdrop7g1","seq":31},
            {"op":"ack","at":6423,"conv":"g:incidentbusdrop7g2","seq":49},
            {"op":"drop","at":6496,"code":1000},
            {"op":"connect","at":6557},
            {"op":"drop","at":8267,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u10",
          "device": "d0",
          "node": 1,
          "presenceSubs": [],
          "steps": [
            {
              "op": "send",
              "at": 441,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u11",
              "cmid": "incidentbusdrop7u10.d0.1",
              "bytes": 64
            },
            {"op":"ack","at":599,"conv":"g:incidentbusdrop7g1","seq":2},
            {"op":"ack","at":599,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":2},
            {"op":"ack","at":1060,"conv":"g:incidentbusdrop7g1","seq":7},
            {"op":"ack","at":1060,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":3},
            {"op":"ack","at":1060,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u11","seq":1},
            {
              "op": "send",
              "at": 1073,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u10.d0.2",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1382,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u10.d0.3",
              "bytes": 64
            },
            {"op":"ack","at":1552,"conv":"g:incidentbusdrop7g1","seq":10},
            {"op":"ack","at":1552,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":6},
            {"op":"ack","at":2055,"conv":"g:incidentbusdrop7g1","seq":11},
            {"op":"ack","at":2055,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":7},
            {
              "op": "send",
              "at": 2141,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u10.d0.4",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2170,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u10.d0.5",
              "bytes": 64
            },
            {"op":"ack","at":2585,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":10},
            {"op":"ack","at":2585,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u11","seq":2},
            {"op":"ack","at":2585,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":1},
            {
              "op": "send",
              "at": 2640,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u10.d0.6",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2686,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u10.d0.7",
              "bytes": 64
            },
            {"op":"ack","at":3126,"conv":"g:incidentbusdrop7g1","seq":14},
            {"op":"ack","at":3126,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":12},
            {"op":"ack","at":3126,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":4},
            {"op":"send","at":3364,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u10.d0.8","bytes":64},
            {
              "op": "send",
              "at": 3406,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u10.d0.9",
              "bytes": 64
            },
            {"op":"send","at":3407,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u10.d0.10","bytes":64},
            {
              "op": "send",
              "at": 3437,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u10.d0.11",
              "bytes": 64
            },
            {"op":"ack","at":3610,"conv":"g:incidentbusdrop7g1","seq":17},
            {"op":"ack","at":3610,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":13},
            {"op":"ack","at":3610,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":6},
            {"op":"ack","at":4111,"conv":"g:incidentbusdrop7g1","seq":19},
            {
              "op": "send",
              "at": 4272,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u10.d0.12",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 4545,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u10.d0.13",
              "bytes": 64
            },
            {"op":"ack","at":4602,"conv":"g:incidentbusdrop7g1","seq":23},
            {"op":"ack","at":4602,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":14},
            {"op":"ack","at":4602,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u11","seq":4},
            {"op":"ack","at":4602,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":9},
            {"op":"ack","at":5102,"conv":"g:incidentbusdrop7g1","seq":27},
            {"op":"ack","at":5102,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":10},
            {
              "op": "send",
              "at": 5192,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u10.d0.14",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5479,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u10.d0.15",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5489,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u10.d0.16",
              "bytes": 64
            },
            {"op":"ack","at":5845,"conv":"g:incidentbusdrop7g1","seq":28},
            {"op":"ack","at":5845,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":15},
            {"op":"ack","at":5845,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":13},
            {
              "op": "send",
              "at": 5845,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u10.d0.17",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 6230,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u10.d0.18",
              "bytes": 64
            },
            {"op":"ack","at":6230,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":16},
            {"op":"ack","at":6423,"conv":"g:incidentbusdrop7g1","seq":31},
            {"op":"ack","at":6423,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":20},
            {"op":"ack","at":6423,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u11","seq":5},
            {"op":"ack","at":6423,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":14},
            {"op":"drop","at":6435,"code":1000},
            {"op":"connect","at":6596},
            {"op":"drop","at":8273,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u1",
          "device": "d0",
          "node": 2,
          "presenceSubs": [],
          "steps": [
            {
              "op": "send",
              "at": 336,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u1.d0.1",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 440,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u1.d0.2",
              "bytes": 64
            },
            {"op":"ack","at":629,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":1},
            {"op":"ack","at":630,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":2},
            {
              "op": "send",
              "at": 815,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u1.d0.3",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1012,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u1.d0.4",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1013,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u1.d0.5",
              "bytes": 64
            },
            {"op":"ack","at":1146,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":6},
            {
              "op": "send",
              "at": 1198,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u1.d0.6",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1611,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u1.d0.7",
              "bytes": 64
            },
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":7},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":3},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":1},
            {
              "op": "send",
              "at": 1667,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u1.d0.8",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1886,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u1.d0.9",
              "bytes": 64
            },
            {"op":"ack","at":2140,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":9},
            {"op":"ack","at":2140,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":6},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":5},
            {
              "op": "send",
              "at": 2270,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u1.d0.10",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2367,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u2",
              "cmid": "incidentbusdrop7u1.d0.11",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2445,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u1.d0.12",
              "bytes": 64
            },
            {"op":"ack","at":2668,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":12},
            {"op":"ack","at":2668,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":9},
            {
              "op": "send",
              "at": 2668,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u1.d0.13",
              "bytes": 64
            },
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":10},
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":7},
            {"op":"ack","at":3668,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":13},
            {"op":"ack","at":3668,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":12},
            {
              "op": "send",
              "at": 3764,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u1.d0.14",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3882,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u1.d0.15",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3990,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u1.d0.16",
              "bytes": 64
            },
            {"op":"ack","at":4169,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":14},
            {"op":"ack","at":4170,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":15},
            {
              "op": "send",
              "at": 4295,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u1.d0.17",
              "bytes": 64
            },
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":15},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":16},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":8},
            {
              "op": "send",
              "at": 4787,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u1.d0.18",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5144,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u1.d0.19",
              "bytes": 64
            },
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":17},
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":11},
            {
              "op": "send",
              "at": 5260,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u1.d0.20",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5371,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u1.d0.21",
              "bytes": 64
            },
            {"op":"ack","at":5788,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":19},
            {"op":"ack","at":5788,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":12},
            {
              "op": "send",
              "at": 5968,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u1.d0.22",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5968,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u6",
              "cmid": "incidentbusdrop7u1.d0.23",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5968,
              "conv": "dm:incidentbusdrop7u1:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u1.d0.24",
              "bytes": 64
            },
            {"op":"ack","at":6252,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u2","seq":16},
            {"op":"ack","at":6252,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u6","seq":20},
            {"op":"ack","at":6252,"conv":"dm:incidentbusdrop7u1:incidentbusdrop7u8","seq":14},
            {"op":"drop","at":6437,"code":1000},
            {"op":"connect","at":6615},
            {"op":"drop","at":8278,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u3",
          "device": "d0",
          "node": 2,
          "presenceSubs": [],
          "steps": [
            {"op":"ack","at":630,"conv":"g:incidentbusdrop7g0","seq":3},
            {"op":"send","at":814,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u3.d0.1","bytes":64},
            {"op":"send","at":815,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u3.d0.2","bytes":64},
            {"op":"send","at":931,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u3.d0.3","bytes":64},
            {
              "op": "send",
              "at": 1015,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.4",
              "bytes": 64
            },
            {"op":"ack","at":1146,"conv":"g:incidentbusdrop7g0","seq":8},
            {"op":"ack","at":1146,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":2},
            {"op":"ack","at":1623,"conv":"g:incidentbusdrop7g0","seq":11},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":4},
            {
              "op": "send",
              "at": 1700,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.5",
              "bytes": 64
            },
            {"op":"send","at":1703,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u3.d0.6","bytes":64},
            {"op":"ack","at":2141,"conv":"g:incidentbusdrop7g0","seq":14},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":8},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":1},
            {
              "op": "send",
              "at": 2269,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.7",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2366,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.8",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2519,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.9",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2536,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.10",
              "bytes": 64
            },
            {"op":"ack","at":2689,"conv":"g:incidentbusdrop7g0","seq":17},
            {"op":"ack","at":2689,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":13},
            {"op":"ack","at":2689,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":2},
            {"op":"ack","at":3153,"conv":"g:incidentbusdrop7g0","seq":20},
            {"op":"send","at":3425,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u3.d0.11","bytes":64},
            {"op":"ack","at":3668,"conv":"g:incidentbusdrop7g0","seq":24},
            {
              "op": "send",
              "at": 3668,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.12",
              "bytes": 64
            },
            {"op":"ack","at":4170,"conv":"g:incidentbusdrop7g0","seq":30},
            {"op":"ack","at":4170,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":14},
            {"op":"ack","at":4170,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":3},
            {
              "op": "send",
              "at": 4555,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.13",
              "bytes": 64
            },
            {"op":"ack","at":4655,"conv":"g:incidentbusdrop7g0","seq":32},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":16},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":4},
            {"op":"send","at":4736,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u3.d0.14","bytes":64},
            {"op":"ack","at":5156,"conv":"g:incidentbusdrop7g0","seq":38},
            {
              "op": "send",
              "at": 5434,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.15",
              "bytes": 64
            },
            {"op":"send","at":5649,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u3.d0.16","bytes":64},
            {"op":"ack","at":5788,"conv":"g:incidentbusdrop7g0","seq":40},
            {"op":"ack","at":5788,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":17},
            {"op":"ack","at":5788,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":6},
            {
              "op": "send",
              "at": 6250,
              "conv": "dm:incidentbusdrop7u0:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.17",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 6250,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u3",
              "cmid": "incidentbusdrop7u3.d0.18",
              "bytes": 64
            },
            {"op":"ack","at":6250,"conv":"g:incidentbusdrop7g0","seq":42},
            {"op":"ack","at":6421,"conv":"g:incidentbusdrop7g0","seq":44},
            {"op":"ack","at":6421,"conv":"dm:incidentbusdrop7u0:incidentbusdrop7u3","seq":19},
            {"op":"ack","at":6421,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u3","seq":7},
            {"op":"drop","at":6438,"code":1000},
            {"op":"connect","at":6502},
            {"op":"drop","at":8278,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u5",
          "device": "d0",
          "node": 2,
          "presenceSubs": [],
          "steps": [
            {
              "op": "send",
              "at": 349,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.1",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 413,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.2",
              "bytes": 64
            },
            {"op":"send","at":580,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u5.d0.3","bytes":64},
            {"op":"ack","at":630,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":2},
            {"op":"ack","at":630,"conv":"g:incidentbusdrop7g0","seq":3},
            {
              "op": "send",
              "at": 734,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.4",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 887,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.5",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1145,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.6",
              "bytes": 64
            },
            {"op":"ack","at":1145,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":4},
            {"op":"ack","at":1145,"conv":"g:incidentbusdrop7g0","seq":8},
            {"op":"ack","at":1145,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u5","seq":1},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":6},
            {"op":"ack","at":1623,"conv":"g:incidentbusdrop7g0","seq":11},
            {
              "op": "send",
              "at": 1887,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.7",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1905,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.8",
              "bytes": 64
            },
            {"op":"send","at":2101,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u5.d0.9","bytes":64},
            {"op":"send","at":2123,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u5.d0.10","bytes":64},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":7},
            {"op":"ack","at":2141,"conv":"g:incidentbusdrop7g0","seq":14},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u5","seq":2},
            {
              "op": "send",
              "at": 2171,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.11",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2248,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.12",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2490,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.13",
              "bytes": 64
            },
            {"op":"ack","at":2689,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":10},
            {"op":"ack","at":2689,"conv":"g:incidentbusdrop7g0","seq":17},
            {"op":"ack","at":2689,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u5","seq":4},
            {"op":"send","at":2689,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u5.d0.14","bytes":64},
            {
              "op": "send",
              "at": 2888,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.15",
              "bytes": 64
            },
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":12},
            {"op":"ack","at":3153,"conv":"g:incidentbusdrop7g0","seq":20},
            {"op":"send","at":3625,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u5.d0.16","bytes":64},
            {"op":"ack","at":3668,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":13},
            {"op":"ack","at":3668,"conv":"g:incidentbusdrop7g0","seq":24},
            {"op":"ack","at":4170,"conv":"g:incidentbusdrop7g0","seq":30},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":14},
            {"op":"ack","at":4655,"conv":"g:incidentbusdrop7g0","seq":32},
            {"op":"send","at":4719,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u5.d0.17","bytes":64},
            {"op":"ack","at":5156,"conv":"g:incidentbusdrop7g0","seq":38},
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u5","seq":5},
            {"op":"send","at":5343,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u5.d0.18","bytes":64},
            {
              "op": "send",
              "at": 5360,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.19",
              "bytes": 64
            },
            {"op":"ack","at":5788,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":15},
            {"op":"ack","at":5788,"conv":"g:incidentbusdrop7g0","seq":40},
            {"op":"ack","at":5788,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u5","seq":6},
            {
              "op": "send",
              "at": 6250,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.20",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 6250,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u5.d0.21",
              "bytes": 64
            },
            {"op":"ack","at":6250,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":17},
            {"op":"ack","at":6250,"conv":"g:incidentbusdrop7g0","seq":42},
            {"op":"ack","at":6422,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u5","seq":20},
            {"op":"ack","at":6422,"conv":"g:incidentbusdrop7g0","seq":44},
            {"op":"drop","at":6438,"code":1000},
            {"op":"connect","at":6618},
            {"op":"drop","at":8278,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u9",
          "device": "d0",
          "node": 2,
          "presenceSubs": [],
          "steps": [
            {"op":"send","at":211,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u9.d0.1","bytes":64},
            {
              "op": "send",
              "at": 351,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.2",
              "bytes": 64
            },
            {"op":"ack","at":631,"conv":"g:incidentbusdrop7g1","seq":2},
            {"op":"ack","at":631,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":2},
            {"op":"ack","at":631,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":1},
            {"op":"send","at":734,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u9.d0.3","bytes":64},
            {"op":"send","at":930,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u9.d0.4","bytes":64},
            {"op":"send","at":957,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u9.d0.5","bytes":64},
            {"op":"ack","at":1146,"conv":"g:incidentbusdrop7g1","seq":7},
            {
              "op": "send",
              "at": 1146,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.6",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1322,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.7",
              "bytes": 64
            },
            {"op":"send","at":1322,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u9.d0.8","bytes":64},
            {"op":"ack","at":1623,"conv":"g:incidentbusdrop7g1","seq":10},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":3},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":2},
            {
              "op": "send",
              "at": 1719,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.9",
              "bytes": 64
            },
            {"op":"ack","at":2141,"conv":"g:incidentbusdrop7g1","seq":11},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":5},
            {
              "op": "send",
              "at": 2265,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.10",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2631,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.11",
              "bytes": 64
            },
            {"op":"ack","at":2690,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":3},
            {"op":"ack","at":3153,"conv":"g:incidentbusdrop7g1","seq":14},
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":7},
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":4},
            {
              "op": "send",
              "at": 3381,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.12",
              "bytes": 64
            },
            {"op":"ack","at":3668,"conv":"g:incidentbusdrop7g1","seq":17},
            {"op":"ack","at":3668,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":9},
            {"op":"ack","at":3668,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":5},
            {"op":"send","at":4108,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u9.d0.13","bytes":64},
            {
              "op": "send",
              "at": 4169,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.14",
              "bytes": 64
            },
            {"op":"ack","at":4169,"conv":"g:incidentbusdrop7g1","seq":19},
            {"op":"ack","at":4169,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":11},
            {"op":"ack","at":4169,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":7},
            {
              "op": "send",
              "at": 4393,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.15",
              "bytes": 64
            },
            {"op":"ack","at":4655,"conv":"g:incidentbusdrop7g1","seq":23},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":12},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":8},
            {"op":"ack","at":5156,"conv":"g:incidentbusdrop7g1","seq":27},
            {
              "op": "send",
              "at": 5175,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.16",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5243,
              "conv": "dm:incidentbusdrop7u12:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.17",
              "bytes": 64
            },
            {"op":"ack","at":5788,"conv":"g:incidentbusdrop7g1","seq":28},
            {"op":"ack","at":5788,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":14},
            {"op":"ack","at":5788,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":10},
            {"op":"send","at":5875,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u9.d0.18","bytes":64},
            {
              "op": "send",
              "at": 6250,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u9.d0.19",
              "bytes": 64
            },
            {"op":"send","at":6250,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u9.d0.20","bytes":64},
            {"op":"ack","at":6250,"conv":"g:incidentbusdrop7g1","seq":30},
            {"op":"ack","at":6250,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":15},
            {"op":"ack","at":6250,"conv":"dm:incidentbusdrop7u12:incidentbusdrop7u9","seq":11},
            {"op":"ack","at":6422,"conv":"g:incidentbusdrop7g1","seq":31},
            {"op":"ack","at":6422,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":18},
            {"op":"drop","at":6438,"code":1000},
            {"op":"connect","at":6502},
            {"op":"drop","at":8278,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u11",
          "device": "d0",
          "node": 2,
          "presenceSubs": [],
          "steps": [
            {"op":"ack","at":631,"conv":"g:incidentbusdrop7g1","seq":2},
            {"op":"ack","at":631,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":1},
            {"op":"ack","at":631,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u11","seq":1},
            {"op":"ack","at":1152,"conv":"g:incidentbusdrop7g1","seq":7},
            {"op":"ack","at":1152,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":3},
            {"op":"ack","at":1152,"conv":"g:incidentbusdrop7g2","seq":5},
            {"op":"ack","at":1152,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":1},
            {"op":"ack","at":1152,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u5","seq":1},
            {
              "op": "send",
              "at": 1535,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u11.d0.1",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 1580,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u11.d0.2",
              "bytes": 64
            },
            {"op":"ack","at":1623,"conv":"g:incidentbusdrop7g1","seq":10},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":5},
            {"op":"ack","at":1623,"conv":"g:incidentbusdrop7g2","seq":8},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":2},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":3},
            {
              "op": "send",
              "at": 1977,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u11.d0.3",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2114,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u11.d0.4",
              "bytes": 64
            },
            {"op":"ack","at":2141,"conv":"g:incidentbusdrop7g1","seq":11},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":6},
            {"op":"ack","at":2141,"conv":"g:incidentbusdrop7g2","seq":12},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u5","seq":2},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":4},
            {
              "op": "send",
              "at": 2229,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u11.d0.5",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2330,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u11",
              "cmid": "incidentbusdrop7u11.d0.6",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2559,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u11.d0.7",
              "bytes": 64
            },
            {"op":"ack","at":2690,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":7},
            {"op":"ack","at":2690,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u11","seq":2},
            {"op":"ack","at":2690,"conv":"g:incidentbusdrop7g2","seq":15},
            {"op":"ack","at":2690,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":3},
            {"op":"ack","at":2690,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u5","seq":4},
            {"op":"ack","at":2690,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":6},
            {"op":"ack","at":3153,"conv":"g:incidentbusdrop7g1","seq":14},
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":8},
            {"op":"ack","at":3153,"conv":"g:incidentbusdrop7g2","seq":20},
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":7},
            {
              "op": "send",
              "at": 3308,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u11.d0.8",
              "bytes": 64
            },
            {"op":"send","at":3534,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u11.d0.9","bytes":64},
            {
              "op": "send",
              "at": 3667,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u11.d0.10",
              "bytes": 64
            },
            {"op":"ack","at":3667,"conv":"g:incidentbusdrop7g1","seq":17},
            {"op":"ack","at":3667,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":10},
            {"op":"ack","at":3667,"conv":"g:incidentbusdrop7g2","seq":24},
            {"op":"ack","at":3667,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":4},
            {"op":"ack","at":3668,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":8},
            {"op":"send","at":4009,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u11.d0.11","bytes":64},
            {
              "op": "send",
              "at": 4025,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u11.d0.12",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 4147,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u11",
              "cmid": "incidentbusdrop7u11.d0.13",
              "bytes": 64
            },
            {"op":"ack","at":4168,"conv":"g:incidentbusdrop7g1","seq":19},
            {"op":"ack","at":4168,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":14},
            {"op":"ack","at":4168,"conv":"g:incidentbusdrop7g2","seq":27},
            {"op":"ack","at":4168,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":11},
            {
              "op": "send",
              "at": 4269,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u11",
              "cmid": "incidentbusdrop7u11.d0.14",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 4383,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u11.d0.15",
              "bytes": 64
            },
            {"op":"ack","at":4655,"conv":"g:incidentbusdrop7g1","seq":23},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":16},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u11","seq":4},
            {"op":"ack","at":4655,"conv":"g:incidentbusdrop7g2","seq":32},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":5},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":12},
            {"op":"send","at":4718,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u11.d0.16","bytes":64},
            {
              "op": "send",
              "at": 4779,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u11.d0.17",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 4788,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u11.d0.18",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 4913,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u11.d0.19",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5085,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u11.d0.20",
              "bytes": 64
            },
            {"op":"ack","at":5156,"conv":"g:incidentbusdrop7g1","seq":27},
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":17},
            {"op":"ack","at":5156,"conv":"g:incidentbusdrop7g2","seq":34},
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":7},
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u5","seq":5},
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":13},
            {
              "op": "send",
              "at": 5229,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u11.d0.21",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5311,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u5",
              "cmid": "incidentbusdrop7u11.d0.22",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5326,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u11.d0.23",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5428,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u11.d0.24",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5447,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u4",
              "cmid": "incidentbusdrop7u11.d0.25",
              "bytes": 64
            },
            {"op":"ack","at":5789,"conv":"g:incidentbusdrop7g1","seq":28},
            {"op":"ack","at":5789,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":20},
            {"op":"ack","at":5789,"conv":"g:incidentbusdrop7g2","seq":37},
            {"op":"ack","at":5789,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":8},
            {"op":"ack","at":5789,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u5","seq":6},
            {"op":"ack","at":5789,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":14},
            {
              "op": "send",
              "at": 5875,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u11",
              "cmid": "incidentbusdrop7u11.d0.26",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 6233,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u11.d0.27",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 6249,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u11.d0.28",
              "bytes": 64
            },
            {"op":"ack","at":6252,"conv":"g:incidentbusdrop7g1","seq":30},
            {"op":"ack","at":6252,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u4","seq":21},
            {"op":"ack","at":6252,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u11","seq":5},
            {"op":"ack","at":6252,"conv":"g:incidentbusdrop7g2","seq":42},
            {"op":"ack","at":6252,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":10},
            {"op":"ack","at":6252,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":15},
            {"op":"ack","at":6422,"conv":"g:incidentbusdrop7g1","seq":31},
            {"op":"ack","at":6422,"conv":"g:incidentbusdrop7g2","seq":49},
            {"op":"ack","at":6422,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":12},
            {"op":"drop","at":6438,"code":1000},
            {"op":"connect","at":6562},
            {"op":"drop","at":8278,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u13",
          "device": "d0",
          "node": 2,
          "presenceSubs": [],
          "steps": [
            {
              "op": "send",
              "at": 446,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u13.d0.1",
              "bytes": 64
            },
            {"op":"ack","at":631,"conv":"g:incidentbusdrop7g1","seq":2},
            {"op":"ack","at":631,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":2},
            {
              "op": "send",
              "at": 631,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u13.d0.2",
              "bytes": 64
            },
            {"op":"send","at":767,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u13.d0.3","bytes":64},
            {"op":"send","at":886,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u13.d0.4","bytes":64},
            {"op":"ack","at":1153,"conv":"g:incidentbusdrop7g1","seq":7},
            {"op":"ack","at":1153,"conv":"g:incidentbusdrop7g2","seq":5},
            {"op":"ack","at":1153,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":1},
            {"op":"send","at":1313,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u13.d0.5","bytes":64},
            {"op":"ack","at":1623,"conv":"g:incidentbusdrop7g1","seq":10},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":3},
            {"op":"ack","at":1623,"conv":"g:incidentbusdrop7g2","seq":8},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":2},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":4},
            {
              "op": "send",
              "at": 1770,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u13.d0.6",
              "bytes": 64
            },
            {"op":"ack","at":2141,"conv":"g:incidentbusdrop7g1","seq":11},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":5},
            {"op":"ack","at":2141,"conv":"g:incidentbusdrop7g2","seq":12},
            {"op":"ack","at":2690,"conv":"g:incidentbusdrop7g2","seq":15},
            {"op":"ack","at":2690,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":3},
            {"op":"ack","at":2690,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":5},
            {
              "op": "send",
              "at": 2944,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u13.d0.7",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3118,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u13.d0.8",
              "bytes": 64
            },
            {"op":"ack","at":3153,"conv":"g:incidentbusdrop7g1","seq":14},
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":7},
            {"op":"ack","at":3153,"conv":"g:incidentbusdrop7g2","seq":20},
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":7},
            {
              "op": "send",
              "at": 3533,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u13.d0.9",
              "bytes": 64
            },
            {"op":"ack","at":3668,"conv":"g:incidentbusdrop7g1","seq":17},
            {"op":"ack","at":3668,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":9},
            {"op":"ack","at":3682,"conv":"g:incidentbusdrop7g2","seq":24},
            {"op":"ack","at":3683,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":4},
            {"op":"ack","at":3683,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":8},
            {
              "op": "send",
              "at": 3881,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u13.d0.10",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 4062,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u13.d0.11",
              "bytes": 64
            },
            {"op":"ack","at":4170,"conv":"g:incidentbusdrop7g1","seq":19},
            {"op":"ack","at":4170,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":11},
            {"op":"ack","at":4170,"conv":"g:incidentbusdrop7g2","seq":27},
            {
              "op": "send",
              "at": 4238,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u13.d0.12",
              "bytes": 64
            },
            {"op":"send","at":4582,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u13.d0.13","bytes":64},
            {"op":"ack","at":4655,"conv":"g:incidentbusdrop7g1","seq":23},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":12},
            {"op":"ack","at":4655,"conv":"g:incidentbusdrop7g2","seq":32},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":5},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":9},
            {"op":"send","at":4779,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u13.d0.14","bytes":64},
            {"op":"ack","at":5156,"conv":"g:incidentbusdrop7g1","seq":27},
            {"op":"ack","at":5156,"conv":"g:incidentbusdrop7g2","seq":34},
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":7},
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":10},
            {"op":"send","at":5191,"conv":"g:incidentbusdrop7g1","cmid":"incidentbusdrop7u13.d0.15","bytes":64},
            {
              "op": "send",
              "at": 5233,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u13.d0.16",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5337,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u8",
              "cmid": "incidentbusdrop7u13.d0.17",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 5650,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u13.d0.18",
              "bytes": 64
            },
            {"op":"ack","at":5789,"conv":"g:incidentbusdrop7g1","seq":28},
            {"op":"ack","at":5789,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":14},
            {"op":"ack","at":5789,"conv":"g:incidentbusdrop7g2","seq":37},
            {"op":"ack","at":5789,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":8},
            {"op":"ack","at":5789,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u8","seq":13},
            {
              "op": "send",
              "at": 5789,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u13.d0.19",
              "bytes": 64
            },
            {"op":"send","at":5934,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u13.d0.20","bytes":64},
            {
              "op": "send",
              "at": 5944,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u13",
              "cmid": "incidentbusdrop7u13.d0.21",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 6123,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u13.d0.22",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 6123,
              "conv": "dm:incidentbusdrop7u13:incidentbusdrop7u9",
              "cmid": "incidentbusdrop7u13.d0.23",
              "bytes": 64
            },
            {"op":"ack","at":6251,"conv":"g:incidentbusdrop7g1","seq":30},
            {"op":"ack","at":6251,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":15},
            {"op":"ack","at":6251,"conv":"g:incidentbusdrop7g2","seq":42},
            {"op":"ack","at":6252,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":10},
            {"op":"ack","at":6423,"conv":"g:incidentbusdrop7g1","seq":31},
            {"op":"ack","at":6423,"conv":"dm:incidentbusdrop7u13:incidentbusdrop7u9","seq":18},
            {"op":"ack","at":6423,"conv":"g:incidentbusdrop7g2","seq":49},
            {"op":"ack","at":6423,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u13","seq":12},
            {"op":"drop","at":6501,"code":1000},
            {"op":"connect","at":6562},
            {"op":"drop","at":8277,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u7",
          "device": "d0",
          "node": 2,
          "presenceSubs": [],
          "steps": [
            {"op":"ack","at":722,"conv":"g:incidentbusdrop7g0","seq":3},
            {
              "op": "send",
              "at": 931,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.1",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 958,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.2",
              "bytes": 64
            },
            {"op":"ack","at":1153,"conv":"g:incidentbusdrop7g0","seq":8},
            {
              "op": "send",
              "at": 1538,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.3",
              "bytes": 64
            },
            {"op":"ack","at":1623,"conv":"g:incidentbusdrop7g0","seq":11},
            {"op":"ack","at":1623,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":3},
            {"op":"ack","at":2141,"conv":"g:incidentbusdrop7g0","seq":14},
            {"op":"ack","at":2141,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":4},
            {
              "op": "send",
              "at": 2141,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.4",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 2469,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.5",
              "bytes": 64
            },
            {"op":"ack","at":2690,"conv":"g:incidentbusdrop7g0","seq":17},
            {"op":"ack","at":2690,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":6},
            {"op":"send","at":2805,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u7.d0.6","bytes":64},
            {
              "op": "send",
              "at": 2855,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.7",
              "bytes": 64
            },
            {"op":"send","at":3117,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u7.d0.8","bytes":64},
            {"op":"ack","at":3153,"conv":"g:incidentbusdrop7g0","seq":20},
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":7},
            {"op":"send","at":3281,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u7.d0.9","bytes":64},
            {
              "op": "send",
              "at": 3350,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.10",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3601,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.11",
              "bytes": 64
            },
            {
              "op": "send",
              "at": 3666,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.12",
              "bytes": 64
            },
            {"op":"ack","at":3667,"conv":"g:incidentbusdrop7g0","seq":24},
            {"op":"ack","at":3667,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":8},
            {"op":"send","at":3881,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u7.d0.13","bytes":64},
            {
              "op": "send",
              "at": 3901,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.14",
              "bytes": 64
            },
            {"op":"send","at":3909,"conv":"g:incidentbusdrop7g0","cmid":"incidentbusdrop7u7.d0.15","bytes":64},
            {"op":"ack","at":4170,"conv":"g:incidentbusdrop7g0","seq":30},
            {"op":"ack","at":4170,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":11},
            {
              "op": "send",
              "at": 4317,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.16",
              "bytes": 64
            },
            {"op":"ack","at":4655,"conv":"g:incidentbusdrop7g0","seq":32},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":12},
            {
              "op": "send",
              "at": 5086,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.17",
              "bytes": 64
            },
            {"op":"ack","at":5156,"conv":"g:incidentbusdrop7g0","seq":38},
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":13},
            {
              "op": "send",
              "at": 5371,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.18",
              "bytes": 64
            },
            {"op":"ack","at":5824,"conv":"g:incidentbusdrop7g0","seq":40},
            {"op":"ack","at":5824,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":14},
            {
              "op": "send",
              "at": 5825,
              "conv": "dm:incidentbusdrop7u11:incidentbusdrop7u7",
              "cmid": "incidentbusdrop7u7.d0.19",
              "bytes": 64
            },
            {"op":"ack","at":6252,"conv":"g:incidentbusdrop7g0","seq":42},
            {"op":"ack","at":6252,"conv":"dm:incidentbusdrop7u11:incidentbusdrop7u7","seq":15},
            {"op":"ack","at":6422,"conv":"g:incidentbusdrop7g0","seq":44},
            {"op":"drop","at":6438,"code":1000},
            {"op":"connect","at":6617},
            {"op":"drop","at":8278,"code":1000}
          ]
        },
        {
          "user": "incidentbusdrop7u15",
          "device": "d0",
          "node": 2,
          "presenceSubs": [],
          "steps": [
            {"op":"send","at":768,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.1","bytes":64},
            {"op":"send","at":813,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.2","bytes":64},
            {"op":"send","at":1129,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.3","bytes":64},
            {"op":"ack","at":1130,"conv":"g:incidentbusdrop7g2","seq":5},
            {"op":"ack","at":1623,"conv":"g:incidentbusdrop7g2","seq":8},
            {"op":"ack","at":2142,"conv":"g:incidentbusdrop7g2","seq":12},
            {"op":"send","at":2469,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.4","bytes":64},
            {"op":"send","at":2581,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.5","bytes":64},
            {
              "op": "send",
              "at": 2630,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u15.d0.6",
              "bytes": 64
            },
            {"op":"ack","at":2690,"conv":"g:incidentbusdrop7g2","seq":15},
            {"op":"ack","at":2690,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":1},
            {
              "op": "send",
              "at": 2913,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u15.d0.7",
              "bytes": 64
            },
            {"op":"send","at":2987,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.8","bytes":64},
            {"op":"send","at":3130,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.9","bytes":64},
            {"op":"ack","at":3153,"conv":"g:incidentbusdrop7g2","seq":20},
            {"op":"ack","at":3153,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":4},
            {
              "op": "send",
              "at": 3206,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u15.d0.10",
              "bytes": 64
            },
            {"op":"ack","at":3683,"conv":"g:incidentbusdrop7g2","seq":24},
            {"op":"ack","at":3683,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":6},
            {"op":"ack","at":4170,"conv":"g:incidentbusdrop7g2","seq":27},
            {
              "op": "send",
              "at": 4347,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u15.d0.11",
              "bytes": 64
            },
            {"op":"send","at":4421,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.12","bytes":64},
            {
              "op": "send",
              "at": 4464,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u15.d0.13",
              "bytes": 64
            },
            {"op":"send","at":4616,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.14","bytes":64},
            {"op":"ack","at":4655,"conv":"g:incidentbusdrop7g2","seq":32},
            {"op":"ack","at":4655,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":9},
            {"op":"send","at":4756,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.15","bytes":64},
            {
              "op": "send",
              "at": 5067,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u15.d0.16",
              "bytes": 64
            },
            {"op":"ack","at":5156,"conv":"g:incidentbusdrop7g2","seq":34},
            {"op":"ack","at":5156,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":10},
            {
              "op": "send",
              "at": 5444,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u15.d0.17",
              "bytes": 64
            },
            {"op":"ack","at":5825,"conv":"g:incidentbusdrop7g2","seq":37},
            {"op":"ack","at":5825,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":13},
            {
              "op": "send",
              "at": 6249,
              "conv": "dm:incidentbusdrop7u10:incidentbusdrop7u15",
              "cmid": "incidentbusdrop7u15.d0.18",
              "bytes": 64
            },
            {"op":"send","at":6249,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.19","bytes":64},
            {"op":"send","at":6249,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.20","bytes":64},
            {"op":"send","at":6249,"conv":"g:incidentbusdrop7g2","cmid":"incidentbusdrop7u15.d0.21","bytes":64},
            {"op":"ack","at":6250,"conv":"g:incidentbusdrop7g2","seq":42},
            {"op":"ack","at":6423,"conv":"g:incidentbusdrop7g2","seq":49},
            {"op":"ack","at":6423,"conv":"dm:incidentbusdrop7u10:incidentbusdrop7u15","seq":14},
            {"op":"drop","at":6501,"code":1000},
            {"op":"connect","at":6562},
            {"op":"drop","at":8277,"code":1000}
          ]
        }
      ]
    }
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
