/**
 * `npm run bench:fanout`: group fan-out with receivers that ack every 50 ms, imstorm beside
 * a raw-ws baseline in the same invocation (issue 10).
 *
 * R receivers in groups of S (R/S group conversations), one publisher in every group. The
 * same receiver processes (receivers.ts) hold R connections to each server: one imstorm node
 * with its own redis-server, and the raw-ws baseline (raw-ws-server.ts). For every offered
 * rate (deliveries/s) the baseline runs a step, then imstorm, back to back; each step is an
 * open-loop schedule of sends (latency counts from the *intended* send time), then a bounded
 * wait for the stragglers. Per step: offered and delivered/s, share delivered, p50/p99
 * send→receive, server CPU µs per delivery (/proc/<pid>/stat; imstorm also with its Redis),
 * server event-loop lag p99, and imstorm's ratio to the baseline. Server (+ Redis, + the
 * baseline) and load are pinned to separate cores with taskset when the machine allows.
 * Everything on 127.0.0.1; every loop bounded in count and time. JSON under reports/.
 *
 *   npm run bench:fanout -- --receivers 10000 --group-size 100 --rates 2500,5000,10000
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { mintToken } from '../util/tokens.ts';
import WebSocket from 'ws';
import { z } from 'zod';
import { createGroups } from '../fleet/setup.ts';
import { askAll, BenchRig, SWEEP_FLAGS, SWEEP_OPTIONS, baselineMemory, benchArgs, UNTHROTTLED_NODE_ENV, writeBenchReport, rawWsTarget, type BenchTarget, benchTestBugs, cpuMicros, forkChild, receiverProcesses, RECEIVERS_PER_PROCESS, formatGc, formatWindows, gcDelta, imstormTarget, latencyWindows, mergeHistograms, LAG_RESOLUTION_MS, nextMessage, perConnectionKiB, pinning, settle, sleep, type ServerMemory, type SweepStep } from './bench-kit.ts';
import { formatContention, watchContention } from './cpu-contention.ts';
import { ACK_EVERY_MS, bodyOf, groupConv, groupId, nowMs, PUBLISHER, receiverUser, type ReceiverCommand, type ReceiverReply } from './fanout-plan.ts';

/** the pass line of a step (issue 10) */
const PASS = { p99Ms: 100, delivered: 0.999 };
const USAGE = 'usage: npm run bench:fanout -- [--receivers 10000] [--group-size 100] [--rates 2500,5000,10000] [--step-seconds 10] [--grace-seconds 5] [--warmup-seconds 3] [--receiver-processes N] [--pin auto|off] [--repeat 1] [--redis-fsync always|everysec|no] [--cpu-prof DIR] [--capture DIR] [--capture-sample 1] [--out FILE]';

const argsSchema = z
  .object({
    receivers: z.coerce.number().int().min(10).max(50_000),
    'group-size': z.coerce.number().int().min(2).max(1000),
    rates: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'a comma list of deliveries per second, e.g. 2500,5000,10000')
      .transform((s) => s.split(',').map(Number))
      .refine((rs) => rs.length <= 12 && rs.every((r) => r >= 10 && r <= 200_000), 'at most 12 rates, each 10..200000 deliveries/s'),
    ...SWEEP_FLAGS,
    repeat: z.coerce.number().int().min(1).max(5),
    'cpu-prof': z.string().optional(),
    /** a second imstorm node (its own Redis) capturing every user into this directory, stepped right after the plain one */
    capture: z.string().min(1, '--capture takes a directory for the capture files').optional(),
    /** CAPTURE_SAMPLE of the capturing node: 0 is an A/A check of the bench itself (capture on, nobody recorded) */
    'capture-sample': z.coerce.number({ message: '--capture-sample must be a fraction 0..1' }).min(0, '--capture-sample must be a fraction 0..1').max(1, '--capture-sample must be a fraction 0..1').default(1),
  })
  .superRefine((o, ctx) => {
    if (o.receivers % o['group-size'] !== 0) ctx.addIssue({ code: 'custom', path: ['receivers'], message: `must be a multiple of --group-size (${o['group-size']}), e.g. ${Math.max(1, Math.round(o.receivers / o['group-size'])) * o['group-size']}` });
    for (const r of o.rates) if (r < o['group-size']) ctx.addIssue({ code: 'custom', path: ['rates'], message: `${r} deliveries/s is under one message a second to groups of ${o['group-size']}; give at least ${o['group-size']}` });
    const need = receiverProcesses(o.receivers);
    if (o['receiver-processes'] !== undefined && o['receiver-processes'] < need) ctx.addIssue({ code: 'custom', path: ['receiver-processes'], message: `${o['receiver-processes']} cannot hold 2 × ${o.receivers} connections at ${RECEIVERS_PER_PROCESS} a process; give at least ${need}` });
  });

const o = benchArgs('bench:fanout', USAGE, {
    receivers: { type: 'string', default: '10000' },
    'group-size': { type: 'string', default: '100' },
    rates: { type: 'string', default: '2500,5000,10000' },
    ...SWEEP_OPTIONS,
    repeat: { type: 'string', default: '1' },
    'cpu-prof': { type: 'string' },
    capture: { type: 'string' },
    'capture-sample': { type: 'string' },
  }, argsSchema);
const R = o.receivers;
const S = o['group-size'];
const G = R / S;
const P = receiverProcesses(R, o['receiver-processes']);
const STEP_MS = o['step-seconds'] * 1000;

const log = (msg: string) => process.stdout.write(`[bench:fanout] ${msg}\n`);
const jwtSecret = randomBytes(32).toString('hex');

// ---- pinning and CPU (bench-kit.ts) --------------------------------------------------

const cpus = os.cpus().length;
const pins = pinning(o.pin);
const SERVER_CPU = pins.serverCpu;
const LOAD_CPUS = pins.loadCpus;
const pin = pins.pin;
const SETTLE_MAX_MS = 60_000;

// ---- one target: a server the receivers and a publisher talk to ---------------------

type Target = BenchTarget<'raw-ws' | 'imstorm' | 'imstorm+capture'>;

interface Publisher {
  ws: WebSocket;
  answers: Map<number, { sent: number; errors: Record<string, number> }>;
}

async function openPublisher(url: string): Promise<Publisher> {
  const token = await mintToken(jwtSecret, PUBLISHER, { dev: 'd0', expiresIn: '2h' });
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const pub: Publisher = { ws, answers: new Map() };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`publisher at ${url}: no synced within 30 s`)), 30_000);
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token })));
    ws.on('message', (d) => {
      const text = d.toString();
      if (text === '{"t":"synced"}') {
        clearTimeout(timer);
        resolve();
        return;
      }
      // sends are answered `sent` or `error`, with the id `s<step>.<i>`
      if (!text.startsWith('{"t":"sent"') && !text.startsWith('{"t":"error"')) return;
      const f = JSON.parse(text) as { t: string; id?: string; code?: string };
      const step = Number(/^s(-?\d+)\./.exec(f.id ?? '')?.[1]);
      if (!Number.isFinite(step)) return;
      let a = pub.answers.get(step);
      if (!a) pub.answers.set(step, (a = { sent: 0, errors: {} }));
      if (f.t === 'sent') a.sent++;
      else a.errors[f.code ?? 'unknown'] = (a.errors[f.code ?? 'unknown'] ?? 0) + 1;
    });
  });
  ws.on('error', () => {});
  return pub;
}

// ---- a step ------------------------------------------------------------------------

type StepResult = SweepStep<Target['name']>;

/** imstorm's figures over the baseline's, one rate of one round (null where the baseline's is 0) */
interface Comparison {
  round: number;
  offeredPerSec: number;
  deliveredPerSec: number | null;
  p99: number | null;
  cpuPerDelivery: number | null;
  cpuPerDeliveryWithRedis: number | null;
  eventLoopLagP99Ms: { imstorm: number; rawWs: number };
}

let stepSeq = 0;

async function runStep(target: Target, pub: Publisher, procs: ChildProcess[], rate: number, seconds: number, warmup: boolean, quietPids: number[]): Promise<StepResult> {
  const settled = await settle(quietPids);
  if (!settled.quiet) log(`the servers were still busy after ${SETTLE_MAX_MS / 1000} s; stepping on anyway (said in the report)`);
  // read before the step's clock starts: its sends are due from t0 on, and the totals only grow
  const gc0 = await target.gcPauses();
  const loadavg1 = +os.loadavg()[0]!.toFixed(2);
  const step = ++stepSeq;
  const stepMs = seconds * 1000;
  const msgsPerSec = rate / S;
  const total = Math.max(1, Math.round(msgsPerSec * seconds));
  const t0 = nowMs() + 200;
  const endMs = t0 + stepMs;
  for (const p of procs) p.send({ type: 'begin', step, endMs } satisfies ReceiverCommand);
  await askAll(procs, { type: 'stats', step }, 'stats', 10_000); // every receiver process has begun the step
  await target.lagP99Ms(); // resets the window
  const cpu0 = { server: cpuMicros(target.pids.server), redis: target.pids.redis ? cpuMicros(target.pids.redis) : 0 };
  // the load: the receiver processes, and this process, the publisher
  const contention = watchContention({ ...target.pids, load: [...procs.map((p) => p.pid!), process.pid] });

  // open loop: message i is due at t0 + i / msgsPerSec, whatever happened to the earlier ones
  let i = 0;
  while (i < total && nowMs() < endMs + 5000) {
    const now = nowMs();
    while (i < total) {
      const due = t0 + (i * 1000) / msgsPerSec;
      if (due > now) break;
      pub.ws.send(JSON.stringify({ t: 'send', id: `s${step}.${i}`, conv: groupConv(i % G), cmid: `${step}-${i}`, body: bodyOf(step, due) }));
      i++;
    }
    await sleep(Math.max(1, Math.min(5, t0 + (i * 1000) / msgsPerSec - nowMs())));
  }

  // the stragglers: until every delivery owed arrived, at most grace seconds after the end
  const graceEnd = Math.max(endMs, nowMs()) + o['grace-seconds'] * 1000;
  let stats: Extract<ReceiverReply, { type: 'stats' }>[] = [];
  let owed = 0;
  let received = 0;
  for (;;) {
    stats = await askAll(procs, { type: 'stats', step }, 'stats', 10_000);
    const a = pub.answers.get(step) ?? { sent: 0, errors: {} };
    owed = a.sent * S;
    received = stats.reduce((n, s) => n + s.received, 0);
    const answered = a.sent + Object.values(a.errors).reduce((n, k) => n + k, 0);
    if ((answered >= i && received >= owed && nowMs() >= endMs) || nowMs() >= graceEnd) break;
    await sleep(250);
  }
  const cpu1 = { server: cpuMicros(target.pids.server), redis: target.pids.redis ? cpuMicros(target.pids.redis) : 0 };
  const waits = contention.stop();
  const lag = await target.lagP99Ms();
  const gcPauses = gcDelta(gc0, await target.gcPauses());
  const sum = mergeHistograms(stats.map((s) => s.histogram));
  const inTime = stats.reduce((n, s) => n + s.inTime, 0);
  const serverCpu = cpu1.server - cpu0.server;
  const redisCpu = cpu1.redis - cpu0.redis;
  const share = owed ? received / owed : 0;
  const r: StepResult = {
    target: target.name,
    step,
    warmup,
    offeredPerSec: rate,
    messages: i,
    sendsAnswered: pub.answers.get(step) ?? { sent: 0, errors: {} },
    deliveredPerSec: Math.round(inTime / seconds),
    deliveredShare: +share.toFixed(5),
    latencyMs: { p50: sum.percentiles.p50, p99: sum.percentiles.p99, max: sum.max },
    latencyByWindow: latencyWindows(stats.map((s) => s.windows), t0),
    contention: waits,
    cpuMicrosPerDelivery: { server: received ? +(serverCpu / received).toFixed(1) : 0, ...(target.pids.redis ? { withRedis: received ? +((serverCpu + redisCpu) / received).toFixed(1) : 0 } : {}) },
    eventLoopDelayP99Ms: +lag.toFixed(1),
    eventLoopLagP99Ms: +Math.max(0, lag - LAG_RESOLUTION_MS).toFixed(1),
    gcPauses,
    acksSent: stats.reduce((n, s) => n + s.acksSent, 0),
    settled,
    loadavg1,
    pass: sum.percentiles.p99 < PASS.p99Ms && share >= PASS.delivered,
  };
  const errs = Object.entries(r.sendsAnswered.errors);
  log(
    `${warmup ? 'warm-up ' : ''}${target.name.padEnd(7)} offered ${rate}/s: delivered ${r.deliveredPerSec}/s (${(share * 100).toFixed(2)} % of ${owed}), ` +
      `p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms, CPU ${r.cpuMicrosPerDelivery.server} µs/delivery${r.cpuMicrosPerDelivery.withRedis !== undefined ? ` (${r.cpuMicrosPerDelivery.withRedis} with Redis)` : ''}, ` +
      `loop lag p99 ${r.eventLoopLagP99Ms} ms, ${formatGc(gcPauses)}, ${r.acksSent} acks; ${formatWindows(r.latencyByWindow)}; ${formatContention(waits)}; load avg ${loadavg1} — ${r.pass ? 'PASS' : 'FAIL'}${errs.length ? `; sends answered with errors ${JSON.stringify(r.sendsAnswered.errors)}` : ''}`,
  );
  return r;
}

// ---- the run -----------------------------------------------------------------------

pin(process.pid, LOAD_CPUS);
log(`${R} receivers in ${G} groups of ${S}, acking every ${ACK_EVERY_MS} ms; rates ${o.rates.join(', ')} deliveries/s; ${o['step-seconds']} s a step; ${P} receiver process(es); ${pins.text}`);
const rig = new BenchRig();
const children = rig.children;
// --cpu-prof: V8 writes a node's profile when it exits; they are stopped with SIGTERM below
const cpuProf = o['cpu-prof'] ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(o['cpu-prof'])}` } : {};
const serverPin = (pid: number | undefined) => pin(pid, SERVER_CPU);
await rig.run('bench:fanout', async () => {
  const { redis, node } = await rig.server({
    nodeId: 'bench-1',
    jwtSecret,
    fsync: o['redis-fsync'],
    env: {
      ...UNTHROTTLED_NODE_ENV,
      DEBUG_ROUTES: 1, // POST /debug/gc: memory per connection after a full GC
      ...benchTestBugs(),
      ...cpuProf,
    },
    pin: serverPin,
  });
  // the same server with CAPTURE_SAMPLE=1, on a Redis of its own (the receivers' users and
  // devices are the same: on one Redis each connection would replace the other's)
  const capture = o.capture
    ? await rig.server({ nodeId: 'bench-cap', jwtSecret, fsync: o['redis-fsync'], env: { ...UNTHROTTLED_NODE_ENV, DEBUG_ROUTES: 1, CAPTURE_DIR: path.resolve(o.capture), CAPTURE_SAMPLE: o['capture-sample'], ...cpuProf }, pin: serverPin })
    : null;
  const baseline = forkChild('raw-ws-server.ts', { BENCH_GROUP_SIZE: String(S) });
  children.push(baseline);
  const { port } = await nextMessage<{ type: string; port: number }>(baseline, (m) => m.type === 'ready', 20_000, 'raw-ws baseline');
  pin(baseline.pid, SERVER_CPU);

  const imstormNode = node;
  const targets: Target[] = [
    rawWsTarget(baseline, port),
    imstormTarget('imstorm', imstormNode, redis.process!.pid!, log),
  ];
  const capNode = capture?.node;
  if (capture) targets.push(imstormTarget('imstorm+capture', capture.node, capture.redis.process!.pid!, log));

  log(`creating ${G} groups of ${S} receivers + the publisher on imstorm`);
  await createGroups(
    Array.from({ length: G }, (_, k) => ({ id: groupId(k), owner: PUBLISHER, members: [PUBLISHER, ...Array.from({ length: S }, (_, j) => receiverUser(k * S + j))] })),
    imstormNode.url,
    jwtSecret,
    4,
  );
  if (capNode) await createGroups(Array.from({ length: G }, (_, k) => ({ id: groupId(k), owner: PUBLISHER, members: [PUBLISHER, ...Array.from({ length: S }, (_, j) => receiverUser(k * S + j))] })), capNode.url, jwtSecret, 4);

  const procs = Array.from({ length: P }, () => forkChild('receivers.ts', { BENCH_JWT_SECRET: jwtSecret }));
  children.push(...procs);
  for (const p of procs) pin(p.pid, LOAD_CPUS);
  const users = Array.from({ length: R }, (_, i) => `${receiverUser(i)} ${groupConv(Math.floor(i / S))}`);
  const pubs = new Map<Target['name'], Publisher>();
  const connected: Record<string, { seconds: number; connectsPerSec: number; perConnection: { heapKiB: number; rssKiB: number } }> = {};
  for (const t of targets) {
    const mem0 = await t.memory();
    const conns = await Promise.all(procs.map((p, k) => askAll<Extract<ReceiverReply, { type: 'connected' }>>([p], { type: 'connect', target: t.name, url: t.wsUrl, users: users.filter((_, i) => i % P === k), concurrency: 200 }, 'connected', 600_000).then((a) => a[0]!)));
    const ok = conns.reduce((n, c) => n + c.ok, 0);
    const failed = conns.find((c) => c.failed);
    if (failed) throw new Error(`${t.name}: ${conns.reduce((n, c) => n + c.failed, 0)} of ${R} receivers did not connect; first: ${failed.firstError}`);
    const seconds = Math.max(...conns.map((c) => c.seconds));
    await sleep(1000);
    const perConnection = perConnectionKiB(mem0, await t.memory(), R);
    connected[t.name] = { seconds: +seconds.toFixed(2), connectsPerSec: Math.round(R / seconds), perConnection };
    log(`${t.name}: ${ok} receivers connected and synced in ${seconds.toFixed(1)} s; heap ${perConnection.heapKiB} KiB, RSS ${perConnection.rssKiB} KiB per connection (after a full GC, the group memberships in place)`);
    pubs.set(t.name, await openPublisher(t.wsUrl));
  }

  const quietPids = [baseline.pid!, imstormNode.process.pid!, redis.process!.pid!, ...(capture ? [capture.node.process.pid!, capture.redis.process!.pid!] : [])];
  const captureSteps: { offeredPerSec: number; round: number; off: StepResult; on: StepResult; cpuOnOverOff: number | null; cpuWithRedisOnOverOff: number | null }[] = [];
  if (o['warmup-seconds'] > 0) for (const t of targets) await runStep(t, pubs.get(t.name)!, procs, o.rates[0]!, o['warmup-seconds'], true, quietPids);
  const steps: StepResult[] = [];
  const comparisons: Comparison[] = [];
  for (let round = 0; round < o.repeat; round++) for (const rate of o.rates) {
    const raw = await runStep(targets[0]!, pubs.get('raw-ws')!, procs, rate, o['step-seconds'], false, quietPids);
    const im = await runStep(targets[1]!, pubs.get('imstorm')!, procs, rate, o['step-seconds'], false, quietPids);
    steps.push(raw, im);
    if (capNode) {
      const on = await runStep(targets[2]!, pubs.get('imstorm+capture')!, procs, rate, o['step-seconds'], false, quietPids);
      steps.push(on);
      const r = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? +(a / b).toFixed(3) : null);
      const c = { offeredPerSec: rate, round, off: im, on, cpuOnOverOff: r(on.cpuMicrosPerDelivery.server, im.cpuMicrosPerDelivery.server), cpuWithRedisOnOverOff: r(on.cpuMicrosPerDelivery.withRedis, im.cpuMicrosPerDelivery.withRedis) };
      captureSteps.push(c);
      log(`capture (CAPTURE_SAMPLE=${o['capture-sample']}) / off at ${rate}/s: server CPU per delivery ${on.cpuMicrosPerDelivery.server} vs ${im.cpuMicrosPerDelivery.server} µs (×${c.cpuOnOverOff}; with Redis ×${c.cpuWithRedisOnOverOff}), p99 ${on.latencyMs.p99} vs ${im.latencyMs.p99} ms, loop lag p99 ${on.eventLoopLagP99Ms} vs ${im.eventLoopLagP99Ms} ms`);
    }
    const ratio = (a: number, b: number) => (b > 0 ? +(a / b).toFixed(2) : null);
    const c = {
      offeredPerSec: rate,
      deliveredPerSec: ratio(im.deliveredPerSec, raw.deliveredPerSec),
      p99: ratio(im.latencyMs.p99, raw.latencyMs.p99),
      cpuPerDelivery: ratio(im.cpuMicrosPerDelivery.server, raw.cpuMicrosPerDelivery.server),
      cpuPerDeliveryWithRedis: ratio(im.cpuMicrosPerDelivery.withRedis ?? 0, raw.cpuMicrosPerDelivery.server),
      // a ratio of lags near 0 says nothing: both, side by side
      eventLoopLagP99Ms: { imstorm: im.eventLoopLagP99Ms, rawWs: raw.eventLoopLagP99Ms },
    };
    comparisons.push({ round, ...c });
    log(`imstorm / raw-ws at ${rate}/s: delivered/s ×${c.deliveredPerSec}, p99 ×${c.p99}, CPU per delivery ×${c.cpuPerDelivery} (×${c.cpuPerDeliveryWithRedis} with Redis), loop lag p99 ${im.eventLoopLagP99Ms} ms vs ${raw.eventLoopLagP99Ms} ms`);
  }

  // per rate, the median over the rounds of each figure (the machine may be shared: one round can be unlucky)
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const summary = o.rates.map((rate) => {
    const of = (name: Target['name']) => steps.filter((st) => st.offeredPerSec === rate && st.target === name);
    const pick = (name: Target['name']) => ({
      deliveredPerSec: median(of(name).map((st) => st.deliveredPerSec)),
      p99Ms: median(of(name).map((st) => st.latencyMs.p99)),
      cpuMicrosPerDelivery: median(of(name).map((st) => st.cpuMicrosPerDelivery.server)),
      eventLoopLagP99Ms: median(of(name).map((st) => st.eventLoopLagP99Ms)),
      passed: `${of(name).filter((st) => st.pass).length}/${of(name).length}`,
    });
    const cs = comparisons.filter((c) => c.offeredPerSec === rate);
    const med = (k: 'p99' | 'cpuPerDelivery' | 'cpuPerDeliveryWithRedis') => median(cs.map((c) => c[k] ?? NaN));
    return { offeredPerSec: rate, rawWs: pick('raw-ws'), imstorm: pick('imstorm'), ratio: { p99: med('p99'), cpuPerDelivery: med('cpuPerDelivery'), cpuPerDeliveryWithRedis: med('cpuPerDeliveryWithRedis') } };
  });
  if (o.repeat > 1) {
    for (const x of summary) {
      log(`median of ${o.repeat} at ${x.offeredPerSec}/s: imstorm p99 ${x.imstorm.p99Ms} ms (×${x.ratio.p99}), CPU ${x.imstorm.cpuMicrosPerDelivery} µs/delivery (×${x.ratio.cpuPerDelivery}, ×${x.ratio.cpuPerDeliveryWithRedis} with Redis), loop lag p99 ${x.imstorm.eventLoopLagP99Ms} ms vs ${x.rawWs.eventLoopLagP99Ms} ms; passed ${x.imstorm.passed} (raw-ws ${x.rawWs.passed})`);
    }
  }

  const report = {
    kind: 'imstorm-bench-fanout-acks',
    version: 1,
    at: new Date().toISOString(),
    node: process.version,
    machine: { cpus, loadavg: os.loadavg(), pinning: pins.text },
    config: { receivers: R, groupSize: S, groups: G, ackEveryMs: ACK_EVERY_MS, rates: o.rates, repeat: o.repeat, stepSeconds: o['step-seconds'], graceSeconds: o['grace-seconds'], warmupSeconds: o['warmup-seconds'], receiverProcesses: P, redisAppendfsync: o['redis-fsync'], pass: PASS, testBugs: process.env.BENCH_TEST_BUGS ?? null },
    connected,
    steps,
    comparisons,
    summary,
    ...(capNode ? { capture: { dir: path.resolve(o.capture!), sample: o['capture-sample'], steps: captureSteps.map((c) => ({ offeredPerSec: c.offeredPerSec, round: c.round, cpuMicrosOff: c.off.cpuMicrosPerDelivery.server, cpuMicrosOn: c.on.cpuMicrosPerDelivery.server, cpuOnOverOff: c.cpuOnOverOff, cpuWithRedisOnOverOff: c.cpuWithRedisOnOverOff, p99Off: c.off.latencyMs.p99, p99On: c.on.latencyMs.p99 })) } } : {}),
  };
  writeBenchReport('bench-fanout', o.out, report, log);
  if (o['cpu-prof']) {
    for (const c of children) c.kill('SIGKILL');
    await imstormNode.stop(30_000);
    await capNode?.stop(30_000);
    log(`CPU profile of the imstorm node: ${path.relative(process.cwd(), path.resolve(o['cpu-prof']))}/*.cpuprofile`);
  }
});
