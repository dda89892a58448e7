/**
 * `npm run bench`: figures for the server on this machine.
 *  1. idle: N devices held open by fleet *processes* (the open-file cap is per process)
 *     across enough nodes, each device in 5 group conversations → server KiB per idle
 *     connection (RSS and heap after GC, summed over nodes); the RSS the devices added to
 *     their fleet processes, per device, beside what as many plain `ws` clients (hello,
 *     synced, nothing else) add to one process of their own (raw-clients.ts);
 *     and what the same number of plain `ws` clients costs the raw-ws baseline server
 *     (raw-ws-server.ts, one group each), per connection, after a full GC (at most 15,000:
 *     it is one process);
 *  2. fan-out: one group of F connected receivers, M messages → stored sends/s and
 *     deliveries/s (--fanout 0 skips it; `imstorm bench` measures fan-out beside the
 *     baseline in fanout-bench.ts).
 * Starts its own redis-server and nodes; everything on 127.0.0.1; bounded in count and time.
 *
 *   npm run bench -- --connections 20000 --fanout 1000 --messages 200
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mintToken } from '../util/tokens.ts';
import WebSocket from 'ws';
import { z } from 'zod';
import { REPO_ROOT } from '../env/paths.ts';
import { startRedisProcess } from '../env/redis-process.ts';
import { startServerNode, type ServerNodeHandle } from '../env/server-node.ts';
import { Fleet, MAX_CLIENTS_PER_PROCESS } from '../fleet/orchestrator.ts';
import { createGroups } from '../fleet/setup.ts';
import type { DevicePlan, GroupPlan } from '../fleet/workload.ts';
import { httpCall } from '../util/http-call.ts';
import type { RawClientsCommand, RawClientsReply } from './raw-clients.ts';
import { baselineMemory, benchArgs, benchTestBugs, forkChild, nextMessage, perConnectionKiB, writeBenchReport } from './bench-kit.ts';

/** Connections per node in the idle phase: well under the ~19.5k a node allows here. */
const PER_NODE = 15_000;

const argsSchema = z.object({
  connections: z.coerce.number().int().min(10).max(200_000),
  fanout: z.coerce.number().int().min(0).max(15_000),
  messages: z.coerce.number().int().min(1).max(100_000),
  'presence-subs': z.coerce.number().int().min(0).max(1000),
  gc: z.enum(['full', 'reduce'], { error: 'must be full or reduce' }),
  'cpu-prof': z.string().optional(),
  out: z.string().optional(),
});
const opts = benchArgs('bench', 'usage: npm run bench -- [--connections N] [--presence-subs P] [--gc full|reduce] [--fanout N] [--messages N] [--cpu-prof DIR] [--out FILE]', {
    connections: { type: 'string', default: '20000' },
    fanout: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '200' },
    'presence-subs': { type: 'string', default: '0' },
    gc: { type: 'string', default: 'full' },
    'cpu-prof': { type: 'string' },
    out: { type: 'string' },
  }, argsSchema);
const n = opts.connections;
const nodesWanted = Math.ceil(n / PER_NODE);
const processes = Math.max(2, Math.ceil(n / MAX_CLIENTS_PER_PROCESS));

const jwtSecret = randomBytes(32).toString('hex');
const tokenFor = (sub: string) => mintToken(jwtSecret, sub, { expiresIn: '2h' });
const user = (i: number) => `b${i}`;
const log = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface NodeMemory {
  rss: number;
  heapUsed: number;
  /** what V8 holds for its heap, used or not (young generation included) */
  heapTotal: number;
  /** V8's young generation (prom-client's nodejs_heap_space_size_total_bytes{space="new"}) */
  young: number;
  /** memory outside the JS heap that V8 knows of (Buffers and their ArrayBuffers included) */
  external: number;
  /** resident bytes of the process's brk heap ([heap] in /proc/<pid>/smaps: glibc malloc's main arena; 0 where unreadable) */
  mallocHeap: number;
}

/** Resident bytes of the `[heap]` mapping of a process (Linux), else 0. */
function brkHeapRss(pid: number | undefined): number {
  try {
    const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    const at = smaps.indexOf(' [heap]\n');
    if (at < 0) return 0;
    const kb = /\nRss:\s+(\d+) kB/.exec(smaps.slice(at))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}
async function memory(node: ServerNodeHandle): Promise<NodeMemory> {
  const gc = JSON.parse((await httpCall(`${node.adminUrl}/debug/gc${opts.gc === 'reduce' ? '?reduce=1' : ''}`, { method: 'POST' })).text) as { heapUsed: number };
  const st = JSON.parse((await httpCall(`${node.adminUrl}/debug/state`)).text) as { memory: NodeJS.MemoryUsage };
  const metrics = (await httpCall(`${node.adminUrl}/metrics`, { token: node.metricsToken })).text;
  const young = Number(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
  return { rss: st.memory.rss, heapUsed: gc.heapUsed, heapTotal: st.memory.heapTotal, young, external: st.memory.external, mallocHeap: brkHeapRss(node.process.pid) };
}
async function totalMemory(nodes: ServerNodeHandle[]): Promise<NodeMemory> {
  const all = await Promise.all(nodes.map(memory));
  const sum = (k: keyof NodeMemory) => all.reduce((a, m) => a + m[k], 0);
  return { rss: sum('rss'), heapUsed: sum('heapUsed'), heapTotal: sum('heapTotal'), young: sum('young'), external: sum('external'), mallocHeap: sum('mallocHeap') };
}

/**
 * RSS and JS heap that `users.length` plain ws clients, connected and synced, add to a
 * process of their own, per connection (bytes), measured as the fleet's FleetDone.rss is.
 */
async function rawClientMemory(users: string[], urls: string[]): Promise<{ rss: number; heap: number; rssLessYoung: number }> {
  const child = fork(path.join(REPO_ROOT, 'harness/bench/raw-clients.ts'), [], { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () =>
    new Promise<RawClientsReply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('raw ws clients: no answer within 120 s')), 120_000);
      child.once('message', (m: RawClientsReply) => {
        clearTimeout(timer);
        if (m.type === 'fatal') reject(new Error(`raw ws clients: ${m.message}`));
        else resolve(m);
      });
    });
  try {
    const cmd = (c: RawClientsCommand) => child.send(c);
    cmd({ type: 'connect', urls, secret: jwtSecret, users, concurrency: 300 });
    const connected = await next();
    if (connected.type !== 'connected') throw new Error('raw ws clients: unexpected reply');
    if (connected.open !== users.length) throw new Error(`raw ws clients: ${connected.open} of ${users.length} open`);
    if (connected.retried) log(`raw ws clients: ${connected.retried} handshakes refused 1013 (try again later) and tried again`);
    // as long as the fleet's devices stayed connected before its finish
    await sleep(3000);
    cmd({ type: 'measure' });
    const measured = await next();
    if (measured.type !== 'measured') throw new Error('raw ws clients: unexpected reply');
    const rss = measured.rss - connected.base;
    return { rss: rss / users.length, heap: (measured.heap - connected.baseHeap) / users.length, rssLessYoung: (rss - (measured.young - connected.baseYoung)) / users.length };
  } finally {
    child.kill('SIGKILL');
  }
}

/** At most this many connections to the raw-ws baseline server: one process, under the open-file cap. */
const RAW_SERVER_MAX = 15_000;

/**
 * Heap and RSS per idle connection of the raw-ws baseline server (one group each, after a
 * full GC), `count` plain ws clients connected from a raw-clients process of their own.
 */
async function rawServerMemory(count: number, reduce: boolean): Promise<{ connections: number; heapKiB: number; rssKiB: number }> {
  const baseline = forkChild('raw-ws-server.ts', { BENCH_GROUP_SIZE: '5' });
  try {
    const { port } = await nextMessage<{ type: string; port: number }>(baseline, (m) => m.type === 'ready', 20_000, 'raw-ws baseline');
    const before = await baselineMemory(baseline, reduce);
    const users = Array.from({ length: count }, (_, i) => user(i));
    const clients = fork(path.join(REPO_ROOT, 'harness/bench/raw-clients.ts'), [], { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const connected = nextMessage<RawClientsReply>(clients, (m) => m.type === 'connected' || m.type === 'fatal', 120_000, 'raw ws clients');
      clients.send({ type: 'connect', urls: [`ws://127.0.0.1:${port}/`], secret: jwtSecret, users, concurrency: 300 } satisfies RawClientsCommand);
      const c = await connected;
      if (c.type !== 'connected' || c.open !== count) throw new Error(`raw ws clients to the baseline server: ${c.type === 'fatal' ? c.message : `${c.type === 'connected' ? c.open : 0} of ${count} open`}`);
      await sleep(1000);
      return { connections: count, ...perConnectionKiB(before, await baselineMemory(baseline, reduce), count) };
    } finally {
      clients.kill('SIGKILL');
    }
  } finally {
    baseline.kill('SIGKILL');
  }
}

const workDir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-bench-'));
const redis = await startRedisProcess({ appendfsync: 'everysec' });
const nodes: ServerNodeHandle[] = [];
let fleet: Fleet | null = null;
const sockets: WebSocket[] = [];
try {
  // --cpu-prof: V8 writes each node's profile when it exits, so the nodes are stopped (SIGTERM), not killed, at the end
  const cpuProf = opts['cpu-prof'] ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(opts['cpu-prof'])}` } : {};
  const env = { DEBUG_ROUTES: 1, SEND_RATE: 100000, SEND_BURST: 100000, LOG_LEVEL: 'warn', HEARTBEAT_MS: 60000, ...benchTestBugs(), ...cpuProf };
  for (let i = 0; i < nodesWanted; i++) nodes.push(await startServerNode({ redisUrl: redis.url, jwtSecret, nodeId: `bench-${i + 1}`, env }));

  // every user owns one group with its next 4 neighbours, so each is in 5 conversations
  const groups: GroupPlan[] = Array.from({ length: n }, (_, k) => ({ id: `g${k}`, owner: user(k), members: [0, 1, 2, 3, 4].map((d) => user((k + d) % n)) }));
  log(`creating ${n} groups of 5 (each user is in 5 conversations)`);
  await createGroups(groups, nodes[0]!.url, jwtSecret, 32);
  await sleep(1000);
  const base = await totalMemory(nodes);

  // idle devices: no sends, no acks, no churn
  // with --presence-subs P: each device watches the next P users
  const subs = Math.min(opts['presence-subs'], n - 1);
  const devices: DevicePlan[] = Array.from({ length: n }, (_, i) => ({ user: user(i), device: 'd0', convs: [], sendRate: 0, churnRate: 0, presenceSubs: Array.from({ length: subs }, (_, k) => user((i + 1 + k) % n)), seed: i }));
  fleet = new Fleet({
    devices,
    urls: nodes.map((x) => x.wsUrl),
    processes,
    jwtSecret,
    workload: { bodyBytes: 64, ack: 'never', failover: false, cmids: 'unique', reconnect: { baseMs: 200, capMs: 5000, attempts: 10, rotate: false } },
    connectConcurrency: 300,
    // a line every 5 s while connecting: 100k devices take minutes here, and a stall shows
    onProgress: (t) => {
      const now = performance.now();
      if (now - lastProgress < 5000 || t.synced >= n) return;
      lastProgress = now;
      // attempts beyond the devices and closes show handshakes that failed and were retried
      const attempts = t.counts.connects ?? 0;
      const closes = t.counts.closes ?? 0;
      log(`  ${t.synced} of ${n} synced, ${t.open} open, after ${((now - t0) / 1000).toFixed(0)} s (${Math.round(t.synced / ((now - t0) / 1000))}/s); ${attempts} connection attempts, ${closes} closed`);
    },
  });
  log(`connecting ${n} idle devices from ${processes} fleet processes to ${nodes.length} node(s)`);
  let lastProgress = performance.now();
  const t0 = performance.now();
  await fleet.start();
  const startSecs = (performance.now() - t0) / 1000;
  await fleet.connect();
  const connectSecs = (performance.now() - t0) / 1000;
  await sleep(3000);
  const open = fleet.totals().synced;
  const loaded = await totalMemory(nodes);
  const grew = (k: keyof NodeMemory) => +((loaded[k] - base[k]) / n / 1024).toFixed(2);
  const perConn = { rssKiB: grew('rss'), heapKiB: grew('heapUsed'), heapCommittedKiB: grew('heapTotal'), youngKiB: grew('young'), externalKiB: grew('external'), mallocHeapKiB: grew('mallocHeap'), otherNativeKiB: +(grew('rss') - grew('heapTotal') - grew('external')).toFixed(2) };
  const result = await fleet.finish();
  fleet = null;
  const clientKiB = +(result.rssPerClient / 1024).toFixed(2);
  const fleetAddedKiB = +(result.rssAddedPerClient / 1024).toFixed(2);
  const fleetHeapKiB = +(result.heapAddedPerClient / 1024).toFixed(2);
  log(`${n} idle connections (${open} open and synced now) in ${connectSecs.toFixed(1)} s (${Math.round(n / connectSecs)}/s), of which ${startSecs.toFixed(1)} s starting the fleet's ${processes} processes`);
  log(`server per idle connection: RSS ${perConn.rssKiB} KiB, heap ${perConn.heapKiB} KiB, after ${opts.gc === 'reduce' ? 'a memory-reducing GC' : 'two full GCs'} (5 conversations${subs ? `, ${subs} presence subscriptions` : ''} each; summed over ${nodes.length} node(s))`);
  log(`  its RSS: JS heap committed ${perConn.heapCommittedKiB} KiB (young generation ${perConn.youngKiB}), external ${perConn.externalKiB} KiB, the rest (native: sockets, libuv, malloc) ${perConn.otherNativeKiB} KiB, of which malloc's brk heap ${perConn.mallocHeapKiB} KiB`);
  await sleep(2000);
  const perProcess = Math.ceil(n / processes);
  const raw = await rawClientMemory(Array.from({ length: perProcess }, (_, i) => user(i)), nodes.map((x) => x.wsUrl)).catch((err: unknown) => {
    // a handshake the nodes refused: what they logged says why
    for (const x of nodes) log(`${x.nodeId}'s last log lines:\n${x.tail(8)}`);
    throw err;
  });
  const rawKiB = +(raw.rss / 1024).toFixed(2);
  const rawHeapKiB = +(raw.heap / 1024).toFixed(2);
  const kib = (b: number) => +(b / 1024).toFixed(2);
  const fleetLessYoungKiB = kib(result.rssAddedLessYoungPerClient);
  const rawLessYoungKiB = kib(raw.rssLessYoung);
  log(`client per connection, RSS added to its process: fleet ${fleetAddedKiB} KiB (${perProcess} devices a process), raw ws client ${rawKiB} KiB (${perProcess} in one process): ${(fleetAddedKiB / rawKiB).toFixed(2)}× (both read after a memory-reducing GC); JS heap: fleet ${fleetHeapKiB} KiB, raw ws client ${rawHeapKiB} KiB; fleet process RSS / devices at finish ${clientKiB} KiB`);
  await sleep(2000);

  // The raw-ws baseline server holding as many idle connections (capped: one process).
  const rawServer = await rawServerMemory(Math.min(n, RAW_SERVER_MAX), opts.gc === 'reduce');
  const serverRatio = { heap: +(perConn.heapKiB / rawServer.heapKiB).toFixed(2), rss: +(perConn.rssKiB / rawServer.rssKiB).toFixed(2) };
  log(`raw-ws baseline server per idle connection (${rawServer.connections} plain ws clients, one group each): RSS ${rawServer.rssKiB} KiB, heap ${rawServer.heapKiB} KiB; imstorm ×${serverRatio.rss} RSS, ×${serverRatio.heap} heap`);

  let fan: object | null = null;
  if (opts.fanout > 0) {
  // Fan-out: one group of F connected receivers on node 1, one sender, M messages.
  const F = opts.fanout;
  const M = opts.messages;
  const fanUsers = Array.from({ length: F }, (_, i) => `fan${i}`);
  await createGroups([{ id: 'fan', owner: fanUsers[0]!, members: fanUsers }], nodes[0]!.url, jwtSecret);
  const fanTokens = await Promise.all(fanUsers.map(tokenFor));
  let next = 0;
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (next < fanTokens.length) {
        const tok = fanTokens[next++]!;
        const ws = new WebSocket(nodes[0]!.wsUrl, { perMessageDeflate: false });
        sockets.push(ws);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no synced within 30 s')), 30_000);
          ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token: tok })));
          ws.on('message', (d) => {
            if (d.toString().includes('"t":"synced"')) {
              clearTimeout(timer);
              resolve();
            }
          });
          ws.on('error', reject);
        });
      }
    }),
  );
  // Deliveries owed: one per receiver for every send answered `sent`. A send answered with an
  // error (e.g. `unavailable` when Redis answers after STORE_TIMEOUT_MS on a busy machine)
  // may or may not be stored: it is counted by code, and its deliveries are not waited for.
  let received = 0;
  let sent = 0;
  let answered = 0;
  let sentDoneAt = 0;
  let doneAt = 0;
  const errors: Record<string, number> = {};
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const check = () => {
    if (answered < M || received < F * sent) return;
    doneAt ||= performance.now();
    finish();
  };
  for (const ws of sockets) {
    ws.on('message', (d) => {
      if (!d.toString().startsWith('{"t":"msg","conv":"g:fan"')) return;
      received++;
      check();
    });
  }
  const sender = sockets[0]!;
  sender.on('message', (d) => {
    const text = d.toString();
    if (text.startsWith('{"t":"sent"')) sent++;
    else if (text.startsWith('{"t":"error"')) {
      const code = /"code":"([a-z_]+)"/.exec(text)?.[1] ?? 'unknown';
      errors[code] = (errors[code] ?? 0) + 1;
    } else return;
    if (++answered === M) sentDoneAt = performance.now();
    check();
  });
  const t1 = performance.now();
  for (let i = 0; i < M; i++) sender.send(JSON.stringify({ t: 'send', id: `s${i}`, conv: 'g:fan', cmid: `fan-${i}`, body: `message ${i} of the fan-out bench` }));
  const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`fan-out incomplete after 120 s: ${received}/${F * sent} deliveries, ${answered}/${M} sends answered (${sent} sent), errors ${JSON.stringify(errors)}`)), 120_000).unref());
  await Promise.race([done, timeout]);
  const f = {
    receivers: F,
    messages: M,
    sendsPerSec: Math.round(M / ((sentDoneAt - t1) / 1000)),
    sendErrors: errors,
    deliveriesPerSec: Math.round(received / ((doneAt - t1) / 1000)),
    seconds: +((doneAt - t1) / 1000).toFixed(2),
  };
  fan = f;
  log(`fan-out: ${M} messages to ${F} receivers in ${f.seconds} s — ${f.sendsPerSec} sends/s answered, ${f.deliveriesPerSec} deliveries/s${sent < M ? `; ${M - sent} sends answered with errors ${JSON.stringify(errors)}` : ''}`);
  }

  const report = {
    kind: 'imstorm-server-bench',
    version: 2,
    at: new Date().toISOString(),
    node: process.version,
    idle: { connections: n, presenceSubs: subs, gc: opts.gc, nodes: nodes.length, fleetProcesses: processes, connectPerSec: Math.round(n / connectSecs), serverPerConnection: perConn, clientRssKiBPerConnection: clientKiB, clientRssAddedKiBPerConnection: fleetAddedKiB, clientHeapAddedKiBPerConnection: fleetHeapKiB, rawWsClientRssAddedKiBPerConnection: rawKiB, rawWsClientHeapAddedKiBPerConnection: rawHeapKiB, clientRssAddedLessYoungKiBPerConnection: fleetLessYoungKiB, rawWsClientRssAddedLessYoungKiBPerConnection: rawLessYoungKiB, rawWsServerPerConnection: rawServer, serverRatioToRawWs: serverRatio, loadavg1: +os.loadavg()[0]!.toFixed(2), memory: { base, loaded } },
    fanout: fan,
  };
  writeBenchReport('bench', opts.out, report, log);
} finally {
  fleet?.kill();
  for (const s of sockets) s.terminate();
  await Promise.all(nodes.map((x) => (opts['cpu-prof'] ? x.stop() : x.kill())));
  await redis.cleanup();
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(0);
