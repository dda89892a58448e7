/**
 * Two heap snapshots of one node, without and with N idle connections (each user in 5
 * group conversations of 5, as `npm run bench` sets them up; optionally P presence
 * subscriptions each), then heap-diff.ts on them: what one idle connection holds, by
 * constructor. The clients are plain `ws` sockets in this process (hello, wait for
 * `synced`, then `presence.sub` and its `ok`). Starts its own redis-server and node; all on
 * 127.0.0.1.
 *
 *   node harness/bench/heap-snapshots.ts [--connections 3000] [--presence-subs 0] [--rows 40] [--dir DIR]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { z } from 'zod';
import { REPO_ROOT } from '../env/paths.ts';
import { startRedisProcess } from '../env/redis-process.ts';
import { startServerNode } from '../env/server-node.ts';
import { createGroups } from '../fleet/setup.ts';
import { httpCall } from '../util/http-call.ts';
import { mintToken } from '../util/tokens.ts';
import { pool } from '../util/pool.ts';

const argsSchema = z.object({
  connections: z.coerce.number().int().min(10).max(15_000),
  'presence-subs': z.coerce.number().int().min(0).max(1000),
  rows: z.coerce.number().int().min(1).max(500),
  dir: z.string().optional(),
});
let values;
try {
  ({ values } = parseArgs({ options: { connections: { type: 'string', default: '3000' }, 'presence-subs': { type: 'string', default: '0' }, rows: { type: 'string', default: '40' }, dir: { type: 'string' } } }));
} catch (err) {
  process.stderr.write(`heap-snapshots: ${(err as Error).message}\nusage: node harness/bench/heap-snapshots.ts [--connections N] [--presence-subs P] [--rows R] [--dir DIR]\n`);
  process.exit(2);
}
const parsed = argsSchema.safeParse(values);
if (!parsed.success) {
  const i = parsed.error.issues[0]!;
  process.stderr.write(`heap-snapshots: --${String(i.path[0])}: ${i.message}\n`);
  process.exit(2);
}
const n = parsed.data.connections;
const subs = Math.min(parsed.data['presence-subs'], n - 1);
const dir = parsed.data.dir ?? mkdtempSync(path.join(os.tmpdir(), 'imstorm-heap-'));
const log = (m: string) => process.stdout.write(`[heap] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const user = (i: number) => `b${i}`;
const secret = randomBytes(32).toString('hex');

/** Asks the node for a snapshot and waits until its file stops growing. */
async function snapshot(pid: number): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('no heap snapshot within 120 s');
    await sleep(500);
    const f = readdirSync(dir).find((x) => x.endsWith('.heapsnapshot') && !before.has(x));
    if (!f) continue;
    const p = path.join(dir, f);
    const size = statSync(p).size;
    await sleep(1000);
    if (size > 0 && statSync(p).size === size) return p;
  }
}

const redis = await startRedisProcess({ appendfsync: 'everysec' });
const sockets: WebSocket[] = [];
try {
  const node = await startServerNode({ redisUrl: redis.url, jwtSecret: secret, nodeId: 'heap-1', env: { DEBUG_ROUTES: 1, LOG_LEVEL: 'warn', HEARTBEAT_MS: 60000, NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}` } });
  const pid = node.process.pid!;
  log(`creating ${n} groups of 5`);
  await createGroups(Array.from({ length: n }, (_, k) => ({ id: `g${k}`, owner: user(k), members: [0, 1, 2, 3, 4].map((d) => user((k + d) % n)) })), node.url, secret, 32);
  await sleep(1000);
  await httpCall(`${node.adminUrl}/debug/gc`, { method: 'POST' });
  const a = await snapshot(pid);
  log(`before: ${a}`);
  log(`connecting ${n} clients${subs ? `, ${subs} presence subscriptions each` : ''}`);
  await pool(Array.from({ length: n }, (_, i) => i), 200, async (i) => {
    const token = await mintToken(secret, user(i), { dev: 'd0', expiresIn: '2h' });
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(node.wsUrl, { perMessageDeflate: false });
      sockets.push(ws);
      const timer = setTimeout(() => reject(new Error(`${user(i)}: not ready within 30 s`)), 30_000);
      ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token })));
      ws.on('message', (d) => {
        const t = d.toString();
        if (t.includes('"t":"synced"')) {
          if (!subs) return void (clearTimeout(timer), resolve());
          ws.send(JSON.stringify({ t: 'presence.sub', id: 'p', users: Array.from({ length: subs }, (_, k) => user((i + 1 + k) % n)) }));
        } else if (t.startsWith('{"t":"ok"')) {
          clearTimeout(timer);
          resolve();
        } else if (t.startsWith('{"t":"error"')) reject(new Error(`${user(i)}: ${t}`));
      });
      ws.on('error', reject);
    });
  });
  await sleep(3000);
  await httpCall(`${node.adminUrl}/debug/gc`, { method: 'POST' });
  const b = await snapshot(pid);
  log(`after: ${b}`);
  process.stdout.write(execFileSync(process.execPath, ['--max-old-space-size=4096', path.join(REPO_ROOT, 'harness/bench/heap-diff.ts'), a, b, String(n), String(parsed.data.rows)], { encoding: 'utf8', maxBuffer: 1 << 26 }));
  for (const s of sockets) s.terminate();
  await node.kill();
} finally {
  for (const s of sockets) s.terminate();
  await redis.cleanup();
  if (!parsed.data.dir) rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
