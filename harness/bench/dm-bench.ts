/**
 * The connect storm and the 1:1 open-loop sweep of `imstorm bench` (issue 10), imstorm
 * beside the raw-ws baseline (raw-ws-server.ts in its dm mode: a forward server) in one
 * invocation, driven by the same receiver processes (receivers.ts).
 *
 *  - storm: N plain `ws` clients (users r0…r<N-1>) connect to one server, `concurrency` at
 *    a time per receiver process (hello → synced each), first the baseline, then imstorm.
 *    Per server: connects/s, hello→synced p50/p99, server CPU µs per connect, event-loop
 *    lag p99 over the storm, heap and RSS per connection (after a full GC, before and after).
 *  - dm: users r2j and r2j+1 share `dm:r2j:r2j+1`; for every offered rate (messages/s) the
 *    receiver processes send from all their connections round robin, open loop (latency
 *    counts from the intended send time), each message stored (imstorm: Redis, AOF) and
 *    pushed to the other party, which acks like a real client (every 50 ms). Per step as in
 *    fanout-bench.ts; the baseline runs each rate, then imstorm, each after both went quiet.
 *
 *   node harness/bench/dm-bench.ts --connections 10000 --rates 2500,5000,10000 --out FILE
 *   (--rates none: the storm only)
 * Everything on 127.0.0.1; every loop bounded in count and time.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { askAll, BenchRig, SWEEP_FLAGS, SWEEP_OPTIONS, baselineMemory, benchArgs, UNTHROTTLED_NODE_ENV, writeBenchReport, rawWsTarget, type BenchTarget, benchTestBugs, cpuMicros, receiverProcesses, dmWarmupSeconds, forkChild, formatGc, formatWindows, gcDelta, imstormTarget, latencyWindows, mergeHistograms, LAG_RESOLUTION_MS, nextMessage, perConnectionKiB, pinning, ratio, RECEIVERS_PER_PROCESS, settle, sleep, type ServerMemory, type SweepStep } from './bench-kit.ts';
import { formatContention, watchContention } from './cpu-contention.ts';
import { ACK_EVERY_MS, dmConv, nowMs, receiverUser, type ReceiverCommand, type ReceiverReply } from './fanout-plan.ts';

/** issue 10's lines for 1:1: p99 < 50 ms up to 5,000 msg/s, < 250 ms above; ≥ 99.9 % delivered */
const passP99Ms = (rate: number) => (rate <= 5000 ? 50 : 250);
const PASS_DELIVERED = 0.999;
const USAGE = 'usage: node harness/bench/dm-bench.ts [--connections 10000] [--concurrency 100] [--rates 2500,5000,10000|none] [--step-seconds 10] [--grace-seconds 5] [--warmup-seconds 3] [--receiver-processes N] [--pin auto|off] [--redis-fsync always|everysec|no] [--cpu-prof DIR] [--out FILE]';

const argsSchema = z
  .object({
    connections: z.coerce.number().int().min(10).max(40_000).refine((n) => n % 2 === 0, 'must be even (users are paired)'),
    concurrency: z.coerce.number().int().min(1).max(2000),
    rates: z
      .string()
      .regex(/^(none|\d+(,\d+)*)$/, 'a comma list of messages per second, e.g. 2500,5000,10000, or none')
      .transform((s) => (s === 'none' ? [] : s.split(',').map(Number)))
      .refine((rs) => rs.length <= 12 && rs.every((r) => r >= 10 && r <= 100_000), 'at most 12 rates, each 10..100000 messages/s'),
    'cpu-prof': z.string().optional(),
    ...SWEEP_FLAGS,
  })
  .superRefine((o, ctx) => {
    const need = receiverProcesses(o.connections);
    if (o['receiver-processes'] !== undefined && o['receiver-processes'] < need) ctx.addIssue({ code: 'custom', path: ['receiver-processes'], message: `${o['receiver-processes']} cannot hold 2 × ${o.connections} connections at ${RECEIVERS_PER_PROCESS} a process; give at least ${need}` });
  });

const o = benchArgs('bench:dm', USAGE, {
    connections: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '100' },
    rates: { type: 'string', default: '2500,5000,10000' },
    'cpu-prof': { type: 'string' },
    ...SWEEP_OPTIONS,
  }, argsSchema);
const N = o.connections;
const P = receiverProcesses(N, o['receiver-processes']);
/** the warm-up's length (dmWarmupSeconds): every client sends once in it */
const warmupSeconds = o.rates.length ? dmWarmupSeconds(o['warmup-seconds'], N, o.rates[0]!, P) : 0;
const log = (msg: string) => process.stdout.write(`[bench:dm] ${msg}\n`);
const jwtSecret = randomBytes(32).toString('hex');
const pins = pinning(o.pin);

type Target = BenchTarget<'raw-ws' | 'imstorm'>;

/** how many CPUs the load may use: all but the server's when pinned */
const LOAD_CPU_COUNT = pins.ok ? Math.max(1, os.availableParallelism() - 1) : os.availableParallelism();
/** CPU µs the receiver processes (the load generator) used so far */
const loadCpu = (procs: ChildProcess[]) => procs.reduce((n, p) => n + cpuMicros(p.pid!), 0);
const cpuOf = (t: Target) => ({ server: cpuMicros(t.pids.server), redis: t.pids.redis ? cpuMicros(t.pids.redis) : 0 });

// ---- the connect storm ------------------------------------------------------------

interface StormResult {
  target: Target['name'];
  connections: number;
  seconds: number;
  connectsPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
  cpuMicrosPerConnect: { server: number; withRedis?: number };
  eventLoopLagP99Ms: number;
  perConnection: { heapKiB: number; rssKiB: number };
  loadavg1: number;
}

async function storm(t: Target, procs: ChildProcess[], users: string[], quietPids: number[]): Promise<StormResult> {
  await settle(quietPids);
  const loadavg1 = +os.loadavg()[0]!.toFixed(2);
  const mem0 = await t.memory();
  await t.lagP99Ms();
  const cpu0 = cpuOf(t);
  const conns = await Promise.all(procs.map((p, k) => askAll<Extract<ReceiverReply, { type: 'connected' }>>([p], { type: 'connect', target: t.name, url: t.wsUrl, users: users.filter((_, i) => i % P === k), concurrency: o.concurrency }, 'connected', 600_000).then((a) => a[0]!)));
  const cpu1 = cpuOf(t);
  const lag = await t.lagP99Ms();
  const failed = conns.find((c) => c.failed);
  if (failed) throw new Error(`${t.name}: ${conns.reduce((n, c) => n + c.failed, 0)} of ${N} clients did not connect; first: ${failed.firstError}`);
  await sleep(1000);
  const mem1 = await t.memory();
  const seconds = Math.max(...conns.map((c) => c.seconds));
  const sum = mergeHistograms(conns.map((c) => c.histogram));
  const r: StormResult = {
    target: t.name,
    connections: N,
    seconds: +seconds.toFixed(2),
    connectsPerSec: Math.round(N / seconds),
    latencyMs: { p50: sum.percentiles.p50, p99: sum.percentiles.p99, max: sum.max },
    cpuMicrosPerConnect: { server: +((cpu1.server - cpu0.server) / N).toFixed(1), ...(t.pids.redis ? { withRedis: +((cpu1.server - cpu0.server + cpu1.redis - cpu0.redis) / N).toFixed(1) } : {}) },
    eventLoopLagP99Ms: +Math.max(0, lag - LAG_RESOLUTION_MS).toFixed(1),
    perConnection: perConnectionKiB(mem0, mem1, N),
    loadavg1,
  };
  log(`storm ${t.name.padEnd(7)}: ${N} connects in ${r.seconds} s (${r.connectsPerSec}/s), hello→synced p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms, CPU ${r.cpuMicrosPerConnect.server} µs/connect${r.cpuMicrosPerConnect.withRedis !== undefined ? ` (${r.cpuMicrosPerConnect.withRedis} with Redis)` : ''}, loop lag p99 ${r.eventLoopLagP99Ms} ms, heap ${r.perConnection.heapKiB} KiB RSS ${r.perConnection.rssKiB} KiB per connection; load avg ${loadavg1}`);
  return r;
}

// ---- a 1:1 step ---------------------------------------------------------------------

type StepResult = SweepStep<Target['name']>;

let stepSeq = 0;
async function runStep(t: Target, procs: ChildProcess[], rate: number, seconds: number, warmup: boolean, quietPids: number[]): Promise<StepResult> {
  const settled = await settle(quietPids);
  if (!settled.quiet) log('the servers were still busy after 60 s; stepping on anyway (said in the report)');
  // read before the step's clock starts: its sends are due from t0 on, and the totals only grow
  const gc0 = await t.gcPauses();
  const holds0 = (await t.sendHolds?.()) ?? null;
  const loadavg1 = +os.loadavg()[0]!.toFixed(2);
  const step = ++stepSeq;
  const t0 = nowMs() + 300;
  const endMs = t0 + seconds * 1000;
  for (const p of procs) p.send({ type: 'begin', step, endMs } satisfies ReceiverCommand);
  await askAll(procs, { type: 'stats', step }, 'stats', 10_000);
  await t.lagP99Ms();
  const cpu0 = cpuOf(t);
  const load0 = loadCpu(procs);
  const wall0 = nowMs();
  const contention = watchContention({ ...t.pids, load: procs.map((p) => p.pid!) });
  for (const p of procs) p.send({ type: 'drive', step, target: t.name, t0, endMs, perSec: rate / P } satisfies ReceiverCommand);
  await sleep(Math.max(0, endMs - nowMs()));
  const graceEnd = Math.max(endMs, nowMs()) + o['grace-seconds'] * 1000;
  let stats: Extract<ReceiverReply, { type: 'stats' }>[] = [];
  for (;;) {
    stats = await askAll(procs, { type: 'stats', step }, 'stats', 10_000);
    const issued = stats.reduce((n, s) => n + s.issued, 0);
    const answered = stats.reduce((n, s) => n + s.sent + Object.values(s.errors).reduce((a, b) => a + b, 0), 0);
    const sent = stats.reduce((n, s) => n + s.sent, 0);
    const received = stats.reduce((n, s) => n + s.received, 0);
    if ((answered >= issued && received >= sent && nowMs() >= endMs + 100) || nowMs() >= graceEnd) break;
    await sleep(250);
  }
  const cpu1 = cpuOf(t);
  const load1 = loadCpu(procs);
  const wall1 = nowMs();
  const waits = contention.stop();
  const lag = await t.lagP99Ms();
  const gcPauses = gcDelta(gc0, await t.gcPauses());
  const holds1 = t.sendHolds ? await t.sendHolds() : null;
  const sum = mergeHistograms(stats.map((s) => s.histogram));
  const sent = stats.reduce((n, s) => n + s.sent, 0);
  const errors: Record<string, number> = {};
  for (const s of stats) for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
  const received = stats.reduce((n, s) => n + s.received, 0);
  const inTime = stats.reduce((n, s) => n + s.inTime, 0);
  const share = sent ? received / sent : 0;
  const r: StepResult = {
    target: t.name,
    step,
    warmup,
    offeredPerSec: rate,
    messages: stats.reduce((n, s) => n + s.issued, 0),
    sendsAnswered: { sent, errors },
    deliveredPerSec: Math.round(inTime / seconds),
    deliveredShare: +share.toFixed(5),
    latencyMs: { p50: sum.percentiles.p50, p99: sum.percentiles.p99, max: sum.max },
    latencyByWindow: latencyWindows(stats.map((s) => s.windows), t0),
    contention: waits,
    cpuMicrosPerDelivery: { server: received ? +((cpu1.server - cpu0.server) / received).toFixed(1) : 0, ...(t.pids.redis ? { withRedis: received ? +((cpu1.server - cpu0.server + cpu1.redis - cpu0.redis) / received).toFixed(1) : 0 } : {}) },
    loadCpu: { microsPerDelivery: received ? +((load1 - load0) / received).toFixed(1) : 0, shareOfLoadCpus: +((load1 - load0) / 1000 / ((wall1 - wall0) * LOAD_CPU_COUNT)).toFixed(3) },
    eventLoopDelayP99Ms: +lag.toFixed(1),
    eventLoopLagP99Ms: +Math.max(0, lag - LAG_RESOLUTION_MS).toFixed(1),
    gcPauses,
    ...(t.sendHolds ? { sendHolds: holds0 === null || holds1 === null ? null : holds1 - holds0 } : {}),
    acksSent: stats.reduce((n, s) => n + s.acksSent, 0),
    settled,
    loadavg1,
    pass: sum.percentiles.p99 < passP99Ms(rate) && share >= PASS_DELIVERED,
  };
  const errs = Object.entries(errors);
  log(
    `${warmup ? 'warm-up ' : ''}dm ${t.name.padEnd(7)} offered ${rate}/s: delivered ${r.deliveredPerSec}/s (${(share * 100).toFixed(2)} % of ${sent}), p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms, ` +
      `CPU ${r.cpuMicrosPerDelivery.server} µs/delivery${r.cpuMicrosPerDelivery.withRedis !== undefined ? ` (${r.cpuMicrosPerDelivery.withRedis} with Redis)` : ''}, load generator ${r.loadCpu!.microsPerDelivery} µs/delivery (${Math.round(r.loadCpu!.shareOfLoadCpus * 100)} % of its CPUs), loop lag p99 ${r.eventLoopLagP99Ms} ms, ${formatGc(gcPauses)}, ${r.acksSent} acks${r.sendHolds ? `, sends held for a slot ${r.sendHolds} times (MAX_SENDS_IN_FLIGHT)` : ''}; ${formatWindows(r.latencyByWindow)}; ${formatContention(waits)}; load avg ${loadavg1} — ${r.pass ? 'PASS' : 'FAIL'}${errs.length ? `; sends answered with errors ${JSON.stringify(errors)}` : ''}`,
  );
  return r;
}

// ---- the run -----------------------------------------------------------------------

pins.pin(process.pid, pins.loadCpus);
log(`${N} clients in ${N / 2} 1:1 pairs, acking every ${ACK_EVERY_MS} ms; connect concurrency ${o.concurrency} per process; rates ${o.rates.join(', ') || 'none (storm only)'} messages/s; ${o['step-seconds']} s a step; ${P} receiver process(es); ${pins.text}`);
const rig = new BenchRig();
const children = rig.children;
// --cpu-prof: V8 writes the node's profile when it exits; it is stopped with SIGTERM at the end
const cpuProf = o['cpu-prof'] ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(o['cpu-prof'])}` } : {};
await rig.run('bench:dm', async () => {
  const { redis, node } = await rig.server({
    nodeId: 'bench-dm',
    jwtSecret,
    fsync: o['redis-fsync'],
    env: { ...UNTHROTTLED_NODE_ENV, DEBUG_ROUTES: 1, ...benchTestBugs(), ...cpuProf },
    pin: (pid) => pins.pin(pid, pins.serverCpu),
  });
  const baseline = forkChild('raw-ws-server.ts', { BENCH_GROUP_SIZE: '2', BENCH_MODE: 'dm' });
  children.push(baseline);
  const { port } = await nextMessage<{ type: string; port: number }>(baseline, (m) => m.type === 'ready', 20_000, 'raw-ws baseline');
  pins.pin(baseline.pid, pins.serverCpu);
  const imstormNode = node;
  const targets: Target[] = [
    rawWsTarget(baseline, port),
    imstormTarget('imstorm', imstormNode, redis.process!.pid!, log),
  ];
  const procs = Array.from({ length: P }, () => forkChild('receivers.ts', { BENCH_JWT_SECRET: jwtSecret }));
  children.push(...procs);
  for (const p of procs) pins.pin(p.pid, pins.loadCpus);
  const users = Array.from({ length: N }, (_, i) => `${receiverUser(i)} ${dmConv(receiverUser(i), receiverUser(i ^ 1))}`);
  const quietPids = [baseline.pid!, imstormNode.process.pid!, redis.process!.pid!];

  const storms: StormResult[] = [];
  for (const t of targets) storms.push(await storm(t, procs, users, quietPids));
  const [rawStorm, imStorm] = storms as [StormResult, StormResult];
  const stormRatio = {
    connectsPerSec: ratio(imStorm.connectsPerSec, rawStorm.connectsPerSec),
    p99: ratio(imStorm.latencyMs.p99, rawStorm.latencyMs.p99),
    cpuPerConnect: ratio(imStorm.cpuMicrosPerConnect.server, rawStorm.cpuMicrosPerConnect.server),
    cpuPerConnectWithRedis: ratio(imStorm.cpuMicrosPerConnect.withRedis, rawStorm.cpuMicrosPerConnect.server),
    heapPerConnection: ratio(imStorm.perConnection.heapKiB, rawStorm.perConnection.heapKiB),
    rssPerConnection: ratio(imStorm.perConnection.rssKiB, rawStorm.perConnection.rssKiB),
  };
  log(`storm imstorm / raw-ws: connects/s ×${stormRatio.connectsPerSec}, p99 ×${stormRatio.p99}, CPU per connect ×${stormRatio.cpuPerConnect} (×${stormRatio.cpuPerConnectWithRedis} with Redis), heap per connection ×${stormRatio.heapPerConnection}, RSS ×${stormRatio.rssPerConnection}`);

  const steps: StepResult[] = [];
  const comparisons: Array<{ offeredPerSec: number; deliveredPerSec: number | null; p99: number | null; cpuPerDelivery: number | null; cpuPerDeliveryWithRedis: number | null; eventLoopLagP99Ms: { imstorm: number; rawWs: number } }> = [];
  if (o.rates.length) {
    // The warm-up also makes every dm: conversation exist, so it lasts until every client sent
    // once (dmWarmupSeconds). At 3 s and 2,500/s it reached three quarters of 10,000 clients,
    // and the first measured step made the other 1,250 dms.
    if (o['warmup-seconds'] > 0) {
      if (warmupSeconds > o['warmup-seconds']) log(`warm-up ${warmupSeconds} s (not ${o['warmup-seconds']}): every client sends once at ${o.rates[0]}/s, so every dm exists before the first measured step`);
      for (const t of targets) await runStep(t, procs, o.rates[0]!, warmupSeconds, true, quietPids);
    }
    for (const rate of o.rates) {
      const raw = await runStep(targets[0]!, procs, rate, o['step-seconds'], false, quietPids);
      const im = await runStep(targets[1]!, procs, rate, o['step-seconds'], false, quietPids);
      steps.push(raw, im);
      const c = {
        offeredPerSec: rate,
        deliveredPerSec: ratio(im.deliveredPerSec, raw.deliveredPerSec),
        p99: ratio(im.latencyMs.p99, raw.latencyMs.p99),
        cpuPerDelivery: ratio(im.cpuMicrosPerDelivery.server, raw.cpuMicrosPerDelivery.server),
        cpuPerDeliveryWithRedis: ratio(im.cpuMicrosPerDelivery.withRedis, raw.cpuMicrosPerDelivery.server),
        eventLoopLagP99Ms: { imstorm: im.eventLoopLagP99Ms, rawWs: raw.eventLoopLagP99Ms },
      };
      comparisons.push(c);
      log(`dm imstorm / raw-ws at ${rate}/s: delivered/s ×${c.deliveredPerSec}, p99 ×${c.p99}, CPU per delivery ×${c.cpuPerDelivery} (×${c.cpuPerDeliveryWithRedis} with Redis), loop lag p99 ${im.eventLoopLagP99Ms} ms vs ${raw.eventLoopLagP99Ms} ms`);
    }
  }

  const report = {
    kind: 'imstorm-bench-dm',
    version: 1,
    at: new Date().toISOString(),
    node: process.version,
    machine: { cpus: os.cpus().length, loadavg: os.loadavg(), pinning: pins.text },
    config: { connections: N, concurrency: o.concurrency, rates: o.rates, stepSeconds: o['step-seconds'], graceSeconds: o['grace-seconds'], warmupSeconds: o['warmup-seconds'], warmupSecondsRun: warmupSeconds, receiverProcesses: P, redisAppendfsync: o['redis-fsync'], ackEveryMs: ACK_EVERY_MS, testBugs: process.env.BENCH_TEST_BUGS ?? null },
    storm: { rawWs: rawStorm, imstorm: imStorm, ratio: stormRatio },
    steps,
    comparisons,
  };
  writeBenchReport('bench-dm', o.out, report, log);
  if (o['cpu-prof']) {
    for (const c of children) c.kill('SIGKILL');
    await imstormNode.stop(30_000);
    log(`CPU profile of the imstorm node: ${path.relative(process.cwd(), path.resolve(o['cpu-prof']))}/*.cpuprofile`);
  }
});
