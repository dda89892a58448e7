/**
 * `npm run bench`: quick figures for one server node on this machine — memory per idle
 * connection (each in 5 group conversations) and group fan-out / send throughput.
 * Starts its own redis-server and node; everything on 127.0.0.1; bounded in count and time.
 *
 *   npm run bench -- --connections 10000 --fanout 1000 --messages 200
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import { REPO_ROOT } from '../env/paths.ts';
import { startRedisProcess } from '../env/redis-process.ts';
import { startServerNode } from '../env/server-node.ts';
import { pool } from '../util/pool.ts';

const argsSchema = z.object({
  connections: z.coerce.number().int().min(1).max(18_000),
  fanout: z.coerce.number().int().min(1).max(18_000),
  messages: z.coerce.number().int().min(1).max(100_000),
  out: z.string().optional(),
});

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    fanout: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '200' },
    out: { type: 'string' },
  },
});
const parsed = argsSchema.safeParse(values);
if (!parsed.success) {
  const i = parsed.error.issues[0]!;
  process.stderr.write(`bench: --${String(i.path[0])}: ${i.message}\n`);
  process.exit(2);
}
const opts = parsed.data;
if (opts.fanout > opts.connections) {
  process.stderr.write('bench: --fanout must not exceed --connections\n');
  process.exit(2);
}

const jwtSecret = randomBytes(32).toString('hex');
const key = new TextEncoder().encode(jwtSecret);
const tokenFor = (sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('2h').sign(key);
const user = (i: number) => `b${i}`;
const log = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);


const redis = await startRedisProcess({ appendfsync: 'everysec' });
const node = await startServerNode({ redisUrl: redis.url, jwtSecret, env: { DEBUG_ROUTES: 1, SEND_RATE: 100000, SEND_BURST: 100000, LOG_LEVEL: 'warn' } });
const sockets: WebSocket[] = [];
try {
  const state = async () => {
    await fetch(`${node.url}/debug/gc`, { method: 'POST' });
    const s = (await (await fetch(`${node.url}/debug/state`)).json()) as { memory: NodeJS.MemoryUsage };
    return s.memory;
  };
  const n = opts.connections;
  log(`creating ${n} groups of 5 (each user is in 5 conversations)`);
  const tokens = await Promise.all(Array.from({ length: n }, (_, i) => tokenFor(user(i))));
  await pool(tokens, 32, async (tok, k) => {
    const members = [1, 2, 3, 4].map((d) => user((k + d) % n)).filter((u) => u !== user(k));
    const res = await fetch(`${node.url}/v1/groups`, { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: `g${k}`, members }) });
    if (res.status !== 201) throw new Error(`group create answered ${res.status}: ${await res.text()}`);
  });
  const base = await state();

  log(`connecting ${n} clients`);
  const t0 = performance.now();
  await pool(tokens, 200, async (tok) => {
    const ws = new WebSocket(node.wsUrl, { perMessageDeflate: false });
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
  });
  const connectSecs = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const loaded = await state();
  const perConn = {
    rssBytes: Math.round((loaded.rss - base.rss) / n),
    heapBytes: Math.round((loaded.heapUsed - base.heapUsed) / n),
  };
  log(`connected ${n} in ${connectSecs.toFixed(1)} s (${Math.round(n / connectSecs)}/s); per idle connection: RSS ${(perConn.rssBytes / 1024).toFixed(2)} KiB, heap ${(perConn.heapBytes / 1024).toFixed(2)} KiB`);

  // Fan-out: one group of `fanout` connected receivers, one sender, `messages` messages.
  const F = opts.fanout;
  const M = opts.messages;
  const ownerTok = tokens[0]!;
  const members = Array.from({ length: F - 1 }, (_, i) => user(i + 1));
  for (let i = 0; i < members.length; i += 900) {
    const body = i === 0 ? { id: 'fan', members: members.slice(0, 900) } : { users: members.slice(i, i + 900) };
    const url = i === 0 ? `${node.url}/v1/groups` : `${node.url}/v1/groups/fan/members`;
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${ownerTok}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`fan group answered ${res.status}: ${await res.text()}`);
  }
  await new Promise((r) => setTimeout(r, 1000));
  let received = 0;
  const want = F * M;
  let doneAt = 0;
  const allIn = new Promise<void>((resolve) => {
    for (let i = 0; i < F; i++) {
      sockets[i]!.on('message', (d) => {
        const s = d.toString();
        if (s.startsWith('{"t":"msg","conv":"g:fan"') && ++received === want) {
          doneAt = performance.now();
          resolve();
        }
      });
    }
  });
  const sender = sockets[0]!;
  let sent = 0;
  let sentDoneAt = 0;
  const sentAll = new Promise<void>((resolve) => {
    sender.on('message', (d) => {
      if (d.toString().startsWith('{"t":"sent"') && ++sent === M) {
        sentDoneAt = performance.now();
        resolve();
      }
    });
  });
  const t1 = performance.now();
  for (let i = 0; i < M; i++) sender.send(JSON.stringify({ t: 'send', id: `s${i}`, conv: 'g:fan', cmid: `fan-${i}`, body: `message ${i} of the fan-out bench` }));
  const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`fan-out incomplete after 120 s: ${received}/${want} deliveries, ${sent}/${M} sent`)), 120_000).unref());
  await Promise.race([Promise.all([allIn, sentAll]), timeout]);
  const fan = {
    receivers: F,
    messages: M,
    sendsPerSec: Math.round(M / ((sentDoneAt - t1) / 1000)),
    deliveriesPerSec: Math.round(want / ((doneAt - t1) / 1000)),
    seconds: +((doneAt - t1) / 1000).toFixed(2),
  };
  log(`fan-out: ${M} messages to ${F} receivers in ${fan.seconds} s — ${fan.sendsPerSec} sends/s stored, ${fan.deliveriesPerSec} deliveries/s`);

  const report = { kind: 'imstorm-server-bench', version: 1, at: new Date().toISOString(), node: process.version, connections: n, connectPerSec: Math.round(n / connectSecs), perIdleConnection: perConn, memory: { base, loaded }, fanout: fan };
  const out = opts.out ?? path.join(REPO_ROOT, 'reports', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2));
  log(`report: ${path.relative(process.cwd(), out)}`);
} finally {
  for (const s of sockets) s.terminate();
  await node.kill();
  await redis.cleanup();
}
process.exit(0);
