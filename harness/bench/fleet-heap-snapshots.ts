/**
 * What one simulated device holds in a fleet process: two V8 heap snapshots of this process,
 * before N SimClients exist (their plans already built, as a fleet process has them from its
 * `init`) and once all N are connected and synced to a real node (each user in 5 group
 * conversations of 5, as the idle bench sets them up), then heap-diff.ts on them, by
 * constructor. Facts are dropped as they come (a fleet process ships them out every second),
 * so they do not count as the devices'. Starts its own redis-server and node; all on 127.0.0.1.
 *
 *   node harness/bench/fleet-heap-snapshots.ts [--devices 3000] [--rows 40] [--dir DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { writeHeapSnapshot } from 'node:v8';
import { z } from 'zod';
import { REPO_ROOT } from '../env/paths.ts';
import { startRedisProcess } from '../env/redis-process.ts';
import { startServerNode } from '../env/server-node.ts';
import { createGroups } from '../fleet/setup.ts';
import type { Recorder } from '../fleet/recorder.ts';
import { SimClient } from '../fleet/sim-client.ts';
import type { DevicePlan, Workload } from '../fleet/workload.ts';
import { collectGarbage } from '../util/gc.ts';
import { mintToken } from '../util/tokens.ts';
import { pool } from '../util/pool.ts';

const USAGE = 'usage: node harness/bench/fleet-heap-snapshots.ts [--devices N] [--rows R] [--dir DIR]';
const argsSchema = z.object({
  devices: z.coerce.number().int().min(10).max(15_000),
  rows: z.coerce.number().int().min(1).max(500),
  dir: z.string().optional(),
});
let values;
try {
  ({ values } = parseArgs({ options: { devices: { type: 'string', default: '3000' }, rows: { type: 'string', default: '40' }, dir: { type: 'string' } } }));
} catch (err) {
  process.stderr.write(`fleet-heap-snapshots: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
const parsed = argsSchema.safeParse(values);
if (!parsed.success) {
  const i = parsed.error.issues[0]!;
  process.stderr.write(`fleet-heap-snapshots: --${String(i.path[0])}: ${i.message}\n${USAGE}\n`);
  process.exit(2);
}
const n = parsed.data.devices;
const dir = parsed.data.dir ?? mkdtempSync(path.join(os.tmpdir(), 'imstorm-fleet-heap-'));
const log = (m: string) => process.stdout.write(`[fleet-heap] ${m}\n`);
const user = (i: number) => `b${i}`;
const secret = randomBytes(32).toString('hex');
const discard: Recorder = { fact: () => {}, latency: () => {}, count: () => {} };
const workload: Pick<Workload, 'bodyBytes' | 'ack' | 'reconnect' | 'cmids'> = { bodyBytes: 64, ack: 'never', cmids: 'unique', reconnect: { baseMs: 200, capMs: 5000, attempts: 10, rotate: false } };

const redis = await startRedisProcess({ appendfsync: 'everysec' });
try {
  const node = await startServerNode({ redisUrl: redis.url, jwtSecret: secret, nodeId: 'fleet-heap-1', env: { DEBUG_ROUTES: 1, LOG_LEVEL: 'warn', HEARTBEAT_MS: 60000 } });
  const url = node.wsUrl;
  log(`creating ${n} groups of 5`);
  await createGroups(Array.from({ length: n }, (_, k) => ({ id: `g${k}`, owner: user(k), members: [0, 1, 2, 3, 4].map((d) => user((k + d) % n)) })), node.url, secret, 32);
  const plans: DevicePlan[] = Array.from({ length: n }, (_, i) => ({ user: user(i), device: 'd0', convs: [], sendRate: 0, churnRate: 0, presenceSubs: [], seed: i }));
  collectGarbage(true);
  const a = writeHeapSnapshot(path.join(dir, 'before.heapsnapshot'));
  log(`before: ${a}`);
  log(`connecting ${n} devices`);
  const clients = plans.map((plan) => new SimClient(plan, { url, token: () => mintToken(secret, plan.user, { dev: plan.device, expiresIn: '2h' }), recorder: discard, workload }));
  await pool(clients, 200, async (c) => {
    c.start();
    await c.whenSynced();
  });
  const synced = clients.filter((c) => c.isSynced).length;
  if (synced !== n) throw new Error(`only ${synced} of ${n} devices synced`);
  await new Promise((r) => setTimeout(r, 2000));
  collectGarbage(true);
  const b = writeHeapSnapshot(path.join(dir, 'after.heapsnapshot'));
  log(`after: ${b}`);
  process.stdout.write(execFileSync(process.execPath, ['--max-old-space-size=4096', path.join(REPO_ROOT, 'harness/bench/heap-diff.ts'), a, b, String(n), String(parsed.data.rows)], { encoding: 'utf8', maxBuffer: 1 << 26 }));
  await Promise.all(clients.map((c) => c.stop()));
  await node.kill();
} finally {
  await redis.cleanup();
  if (!parsed.data.dir) rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
