// A realistic report from synthetic data, built through the real recorders and builder:
// 3 nodes, 60 s, a latency toxic on a client link (20–30 s), a node restart at 40 s (the
// node's scrapes fail for 3 s), a Redis link cut (48–51 s), and optionally a lost message.
import type { Fact, FaultEvent } from '../../harness/model/facts.ts';
import { herdReport } from '../../harness/measure/herd.ts';
import type { HttpResult } from '../../harness/measure/http-load.ts';
import { LatencySet } from '../../harness/measure/latency.ts';
import type { ServerSamples, TargetSamples } from '../../harness/measure/sampler.ts';
import { ThroughputSeries } from '../../harness/measure/series.ts';
import { buildReport } from '../../harness/report/build.ts';
import { leakReport, type LeaksReport } from '../../harness/report/leaks.ts';
import type { ServerSample } from '../../harness/checks/samples.ts';
import type { Report } from '../../harness/report/schema.ts';
import type { ThresholdSpec } from '../../harness/report/thresholds.ts';
import type { VerdictInput } from '../../harness/report/build.ts';

/** mulberry32: small, seeded, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const T0 = Date.UTC(2026, 10, 27, 15, 20, 0);
const SEC = 1000;

export interface SyntheticOptions {
  seed?: number;
  durationSec?: number;
  /** add a failing `lost` verdict with a witness */
  failLost?: boolean;
  /** scale every latency (to make a "regressed" run b) */
  latencyFactor?: number;
  thresholds?: readonly ThresholdSpec[];
  scenario?: string;
  startedAt?: number;
}

export const SYNTHETIC_THRESHOLDS: ThresholdSpec[] = [
  { name: 'p99 send→delivered < 2.5 s', metric: 'latency.sendToDelivered.p99', op: '<', limit: 2500 },
  'latency.sendToSent.p(99) < 2500',
  'latency.reconnectToSynced.max < 5000',
  'throughput.errors.total < 500',
  'server.*.eventLoopLagMs.max < 200',
  'http.postMessage.non2xxRatio < 0.01',
];

export function syntheticFaults(t0: number): FaultEvent[] {
  return [
    { id: 'f1', kind: 'toxic:latency', target: 'client-link:node-1', start: t0 + 20 * SEC, end: t0 + 30 * SEC, detail: { latency: 400, jitter: 100 } },
    { id: 'f2', kind: 'node:restart', target: 'node-2', start: t0 + 40 * SEC },
    { id: 'f3', kind: 'link:disable', target: 'redis-link:node-3', start: t0 + 48 * SEC, end: t0 + 51 * SEC },
  ];
}

function inFault(faults: FaultEvent[], t: number): FaultEvent | undefined {
  return faults.find((f) => t >= f.start && t < (f.end ?? f.start + 3 * SEC));
}

function serverSamples(t0: number, dur: number, rnd: () => number): ServerSamples {
  const targets: TargetSamples[] = [];
  for (const [i, id] of ['node-1', 'node-2', 'node-3'].entries()) {
    const tg: TargetSamples = { target: id, kind: 'node', url: `http://127.0.0.1:${8081 + i}`, t: [], values: {}, gaps: [], totals: { sendsPerSec: 0, errorsPerSec: 0 } };
    const keys = ['connections', 'rssBytes', 'heapUsedBytes', 'eventLoopLagMs', 'openFds', 'activeHandles', 'unsentBytes', 'sendsPerSec', 'deliveriesPerSec', 'errorsPerSec'];
    for (const k of keys) tg.values[k] = [];
    for (let s = 0; s <= dur; s++) {
      const t = t0 + s * SEC + 37;
      tg.t.push(t);
      const down = id === 'node-2' && s >= 40 && s < 43;
      if (down) {
        for (const k of keys) tg.values[k]!.push(null);
        tg.gaps.push({ t, error: 'ECONNREFUSED' });
        continue;
      }
      const ramp = Math.min(1, s / 8) * (s > dur - 5 ? Math.max(0, (dur - s) / 5) : 1);
      const conns = Math.round(100 * ramp + (id === 'node-2' && s >= 43 && s < 48 ? -60 + (s - 43) * 12 : 0));
      const restarted = id === 'node-2' && s >= 43;
      tg.values['connections']!.push(conns);
      tg.values['rssBytes']!.push(Math.round((restarted ? 95 : 110 + s * 0.4) * 1024 * 1024 + rnd() * 4e6));
      tg.values['heapUsedBytes']!.push(Math.round((restarted ? 22 : 28 + ((s * 3) % 17)) * 1024 * 1024));
      tg.values['eventLoopLagMs']!.push(Math.round((11 + rnd() * 3 + (s === 20 || s === 48 ? 40 : 0)) * 100) / 100);
      tg.values['openFds']!.push(27 + conns);
      tg.values['activeHandles']!.push(8 + conns);
      tg.values['unsentBytes']!.push(s >= 20 && s < 30 && id === 'node-1' ? Math.round(rnd() * 200_000) : 0);
      const rate = Math.round(60 * ramp);
      tg.values['sendsPerSec']!.push(rate);
      tg.values['deliveriesPerSec']!.push(rate * 3);
      tg.values['errorsPerSec']!.push(id === 'node-3' && s >= 48 && s < 51 ? 4 : 0);
      tg.totals['sendsPerSec']! += rate;
      tg.totals['errorsPerSec']! += id === 'node-3' && s >= 48 && s < 51 ? 4 : 0;
    }
    targets.push(tg);
  }
  const redis: TargetSamples = { target: 'redis', kind: 'redis', url: 'redis://127.0.0.1:6379', t: [], values: { usedMemoryBytes: [], connectedClients: [], opsPerSec: [] }, gaps: [], totals: {} };
  for (let s = 0; s <= dur; s++) {
    redis.t.push(t0 + s * SEC + 41);
    redis.values['usedMemoryBytes']!.push(Math.round((2 + s * 0.05) * 1024 * 1024));
    redis.values['connectedClients']!.push(s >= 40 && s < 43 ? 10 : 13);
    redis.values['opsPerSec']!.push(Math.round(900 + rnd() * 300));
  }
  targets.push(redis);
  return { intervalMs: SEC, startedAt: t0, endedAt: t0 + dur * SEC, targets };
}

function httpResults(t0: number): HttpResult[] {
  const base = { connections: 10, durationSec: 5, errors: 0, timeouts: 0, capped: false };
  return [
    { ...base, name: 'postMessage', method: 'POST', path: '/v1/messages', url: 'http://127.0.0.1:8081/v1/messages', startedAt: t0 + 61 * SEC, total: 9000, sent: 9010, rps: { mean: 1800, min: 1650, max: 1900 }, latency: { mean: 5.2, min: 1, p50: 5, p90: 8, p99: 14, 'p99.9': 22, max: 40 }, statusCodes: { '201': 8990, '429': 10 }, non2xx: 10 },
    { ...base, name: 'history', method: 'GET', path: '/v1/conversations/dm%3Aalice%3Abob/messages?limit=50', url: 'http://127.0.0.1:8081/v1/conversations/dm%3Aalice%3Abob/messages?limit=50', startedAt: t0 + 67 * SEC, total: 12000, sent: 12010, rps: { mean: 2400, min: 2200, max: 2500 }, latency: { mean: 4, min: 1, p50: 4, p90: 6, p99: 11, 'p99.9': 18, max: 30 }, statusCodes: { '200': 12000 }, non2xx: 0 },
    { ...base, name: 'healthz', method: 'GET', path: '/healthz', url: 'http://127.0.0.1:8081/healthz', startedAt: t0 + 73 * SEC, total: 60000, sent: 60010, rps: { mean: 12000, min: 11000, max: 12500 }, latency: { mean: 0.6, min: 0, p50: 1, p90: 1, p99: 2, 'p99.9': 3, max: 9 }, statusCodes: { '200': 60000 }, non2xx: 0 },
  ];
}

function verdicts(faults: FaultEvent[], t0: number, failLost: boolean): VerdictInput[] {
  const ok = (guarantee: VerdictInput['guarantee'], checked: number, summary: string): VerdictInput => ({ guarantee, ok: true, checked, violations: [], summary });
  const lost: VerdictInput = failLost
    ? {
        guarantee: 'lost',
        ok: false,
        checked: 10_842,
        summary: '10842 (message, member device) pairs checked, 2 lost',
        violations: [
          {
            message: 'dm:u017:u042 seq 318 (cmid u017-d1-5521, sent at +40.2 s) never reached u042/d2 (member since seq 0)',
            trail: [
              { k: 'send', client: 'u017/d1', conn: 'c-8f1', conv: 'dm:u017:u042', cmid: 'u017-d1-5521', intendedAt: t0 + 40_190, sentAt: t0 + 40_191, attempts: 1, outcome: 'sent', answeredAt: t0 + 40_203, seq: 318, epoch: 'e1' },
              { k: 'conn', client: 'u042/d2', conn: 'c-2aa', event: 'close', at: t0 + 40_010, node: 'node-2', code: 1006 },
              { k: 'conn', client: 'u042/d2', conn: 'c-9b0', event: 'welcome', at: t0 + 43_500, node: 'node-1' },
              { k: 'conv', client: 'u042/d2', conn: 'c-9b0', conv: 'dm:u017:u042', epoch: 'e1', cursor: 318, head: 320, at: t0 + 43_520 },
              { k: 'recv', client: 'u042/d2', conn: 'c-9b0', conv: 'dm:u017:u042', epoch: 'e1', seq: 319, from: 'u017', cmid: 'u017-d1-5522', at: t0 + 43_530, via: 'backlog' },
            ],
            faultWindow: faults.filter((f) => f.id === 'f2'),
          },
          {
            message: 'g:team3 seq 77 (cmid u003-d1-901) never reached u011/d1',
            trail: [{ k: 'send', client: 'u003/d1', conn: 'c-11', conv: 'g:team3', cmid: 'u003-d1-901', intendedAt: t0 + 49_000, sentAt: t0 + 49_001, attempts: 2, outcome: 'sent', answeredAt: t0 + 51_300, seq: 77, epoch: 'e1' }],
            faultWindow: faults.filter((f) => f.id === 'f3'),
          },
        ],
      }
    : ok('lost', 10_842, '10842 (message, member device) pairs checked, 0 lost');
  return [
    lost,
    ok('unseen', 10_612, 'every message reached connected members within 5 s of faults healing'),
    ok('duplicate', 3_614, '3614 cmids, one seq each; no seq twice on a connection'),
    ok('order', 912, '912 (connection, conversation) streams gapless'),
    ok('presence', 300, '300 users × subscribers converged within 31 s'),
    ok('leaks', 3, 'connections 0, fds at baseline (27), heap within 1.2 MiB of baseline on 3 nodes'),
  ];
}

/** Builds the synthetic report (through buildReport, so it is valid by construction). */
export function syntheticReport(opts: SyntheticOptions = {}): Report {
  const seed = opts.seed ?? 42;
  const rnd = prng(seed);
  const dur = opts.durationSec ?? 60;
  const t0 = opts.startedAt ?? T0;
  const factor = opts.latencyFactor ?? 1;
  const faults = syntheticFaults(t0);
  const latency = new LatencySet();
  const series = new ThroughputSeries();
  let open = 0;
  for (let s = 0; s < dur; s++) {
    const ramp = Math.min(1, s / 8) * (s > dur - 6 ? Math.max(0, (dur - 1 - s) / 5) : 1);
    const target = Math.round(300 * ramp);
    while (open < target) {
      const at = t0 + s * SEC + rnd() * SEC;
      latency.record('connect', (0.4 + rnd() * 1.5) * factor, at);
      latency.record('helloToWelcome', (1.5 + rnd() ** 3 * 20) * factor, at);
      series.count('connects', 1, at);
      open++;
    }
    while (open > target) {
      series.count('disconnects', 1, t0 + s * SEC + rnd() * SEC);
      open--;
    }
    if (s === 40) {
      // node-2 restarts: its 100 clients drop and reconnect over 3–5 s
      for (let i = 0; i < 100; i++) {
        series.count('disconnects', 1, t0 + 40 * SEC + rnd() * 200);
        const back = t0 + (43 + rnd() * 2) * SEC;
        series.count('connects', 1, back);
        latency.record('reconnectToSynced', (3000 + rnd() * 1500) * factor, back);
        series.count('errors', 1, t0 + 40 * SEC + rnd() * SEC);
      }
    }
    const sends = Math.round(180 * ramp);
    for (let i = 0; i < sends; i++) {
      const at = t0 + s * SEC + rnd() * SEC;
      const f = inFault(faults, at);
      const slow = f?.kind === 'toxic:latency' && rnd() < 0.33 ? 400 + rnd() * 100 : 0;
      const stall = f?.kind === 'link:disable' && rnd() < 0.3 ? rnd() * 2500 : 0;
      const base = 1.2 + rnd() ** 4 * 25 + stall;
      const sent = base * factor;
      latency.record('sendToSent', sent, at + sent);
      series.count('sends', 1, at);
      series.count('sent', 1, at + sent);
      for (let r = 0; r < 3; r++) {
        const d = (base + 0.8 + rnd() ** 3 * 30 + slow) * factor;
        latency.record('sendToDelivered', d, at + d);
        series.count('deliveries', 1, at + d);
      }
      if (stall > 2000) series.count('errors', 1, at + 2000);
    }
  }
  return buildReport({
    scenario: { name: opts.scenario ?? 'smoke', description: 'Three nodes, 300 clients across dm and group conversations, a latency toxic on a client link, a node restart and a Redis link cut.' },
    seed,
    startedAt: t0,
    endedAt: t0 + dur * SEC,
    config: { nodes: 3, clients: 300, durationSec: dur, sendRatePerClient: 0.6, groups: { count: 20, size: 8 }, ackPolicy: 'batched' },
    environment: {
      hostname: 'ci-runner-7',
      platform: 'linux',
      release: '6.1.0',
      arch: 'x64',
      cpus: 2,
      cpuModel: 'Synthetic CPU @ 2.4GHz',
      memoryBytes: 8 * 1024 ** 3,
      node: 'v22.23.3',
      imstorm: '0.1.0',
      commit: '0123456789abcdef0123456789abcdef01234567',
      provider: 'local',
      nodes: [1, 2, 3].map((i) => ({ id: `node-${i}`, url: `http://127.0.0.1:${8080 + i}` })),
      redisUrl: 'redis://127.0.0.1:6379',
    },
    thresholds: opts.thresholds ?? SYNTHETIC_THRESHOLDS,
    verdicts: verdicts(faults, t0, opts.failLost ?? false),
    faults,
    latency,
    series,
    server: serverSamples(t0, dur, rnd),
    herd: syntheticHerd(t0, faults, rnd),
    http: httpResults(t0),
    leaks: syntheticLeaks(t0, dur),
    notes: ['synthetic data for the report writers’ tests'],
  });
}

/** 300 devices; node-2's third dropped by its restart at 40 s, back with full-jitter backoff within 5 s. */
function syntheticHerd(t0: number, faults: readonly FaultEvent[], rnd: () => number) {
  const facts: Fact[] = [];
  for (let i = 0; i < 300; i++) {
    const client = `u${i}/d0`;
    const at = t0 + 1000 + rnd() * 7000;
    facts.push({ k: 'conn', client, conn: `p${i}`, event: 'connect', at }, { k: 'conn', client, conn: `c${i}`, event: 'welcome', at: at + 20 }, { k: 'conn', client, conn: `c${i}`, event: 'synced', at: at + 40 });
    if (i % 3 !== 1) continue;
    const closed = t0 + 40 * SEC + rnd() * 50;
    const back = closed + 1000 + rnd() * 4000;
    facts.push({ k: 'conn', client, conn: `c${i}`, event: 'close', at: closed, code: 1001 }, { k: 'conn', client, conn: `q${i}`, event: 'connect', at: back }, { k: 'conn', client, conn: `r${i}`, event: 'welcome', at: back + 20 }, { k: 'conn', client, conn: `r${i}`, event: 'synced', at: back + 60 });
  }
  return herdReport({ facts, faults, syncStarts: [t0 + 55 * SEC] });
}

/**
 * Leak samples of three storms: node-1 flat, node-3 leaking 3 KiB a connection (its heap
 * climbs storm after storm), node-2 restarted mid-run (storm samples only, no figure).
 */
function syntheticLeaks(t0: number, dur: number): LeaksReport {
  const at = (k: number) => t0 + ((dur * SEC) / 5) * k;
  const sample = (node: string, k: number, heap: number, opened: number): ServerSample => ({ at: at(k), node, connections: 0, openFds: 27, heapUsedAfterGc: heap, activeHandles: { TCPServerWrap: 2, Timeout: 3 }, connectionsOpened: opened, rssBytes: 80 * MiB + heap });
  const MiB = 1024 * 1024;
  const series = (node: string, perConn: number) => [0, 1, 2, 3, 4].map((k) => sample(node, k, 18 * MiB + Math.min(k, 3) * 1200 * perConn, Math.min(k, 3) * 1200 + (k === 4 ? 10 : 0)));
  const n1 = series('node-1', 20);
  const n3 = series('node-3', 3072);
  const n2 = [1, 2, 3].map((k) => sample('node-2', k, 17 * MiB, k * 800));
  return leakReport({
    baseline: [n1[0]!, n3[0]!],
    runs: [1, 2, 3].map((k) => [n1[k]!, n2[k - 1]!, n3[k]!]),
    after: [n1[4]!, n3[4]!],
    stable: ['node-1', 'node-3'],
    options: { maxBytes: 512, minConnections: 2000 },
  });
}
