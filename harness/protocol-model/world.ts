// The real side of the model-based protocol tests (test/model/protocol.model.test.ts and
// `imstorm explore --model`): one Redis, two server nodes (the second reaches Redis through a
// relay, so its link can be cut and healed), reused across runs; each run gets fresh users,
// devices and a fresh group, so runs never see each other's data.
import { randomBytes } from 'node:crypto';
import { dmConv } from '../../server/protocol/ids.ts';
import { killAll, sleep, waitUntil } from '../env/procs.ts';
import { startRedisProcess, type RedisProcessHandle } from '../env/redis-process.ts';
import { startServerNode, type ServerNodeHandle } from '../env/server-node.ts';
import { api } from '../util/http-api.ts';
import { readyzStatus } from '../util/http-call.ts';
import { startRelay, type Relay } from '../util/tcp-relay.ts';
import { mintToken } from '../util/tokens.ts';
import { Client } from '../util/ws-client.ts';
import { newModel, type Model } from './model.ts';

/** The nodes' JWT_SECRET: the world starts its own nodes, so the secret is its own too. */
const JWT_SECRET = 'imstorm-model-secret-0123456789abcdef0123456789abcdef';

/** Ids unique to this process: runs (and two processes on one Redis) never share users or groups. */
const session = randomBytes(3).toString('hex');
let idCounter = 0;
const uid = (prefix: string): string => `${prefix}${session}${(++idCounter).toString(36)}`;

/** STORE_TIMEOUT_MS of the nodes: a send on a cut node answers `unavailable` after about this long. */
export const STORE_TIMEOUT_MS = 1000;

export interface World {
  redis: RedisProcessHandle;
  relay: Relay;
  nodes: ServerNodeHandle[];
  /** index of the node behind the relay */
  relayed: number;
  bugs: string;
  close(): Promise<void>;
}

export async function startWorld(opts: { bugs?: string } = {}): Promise<World> {
  const redis = await startRedisProcess();
  const relay = await startRelay(redis.port);
  // DEBUG_ROUTES as every test node; TEST_BUGS starts the server's test entry (server/testing)
  const env: Record<string, string | number> = { DEBUG_ROUTES: 1, STORE_TIMEOUT_MS };
  if (opts.bugs) env.TEST_BUGS = opts.bugs;
  try {
    const start = (redisUrl: string) => startServerNode({ redisUrl, env, jwtSecret: JWT_SECRET });
    const nodes = await Promise.all([start(redis.url), start(relay.url)]);
    return {
      redis,
      relay,
      nodes,
      relayed: 1,
      bugs: opts.bugs ?? '',
      async close() {
        Client.terminateAll();
        await Promise.all(nodes.map((n) => n.kill()));
        await relay.close();
        await redis.cleanup();
      },
    };
  } catch (err) {
    await relay.close();
    await redis.cleanup();
    await killAll();
    throw err;
  }
}

export interface Real {
  world: World;
  /** open clients by device key */
  clients: Map<string, Client>;
  /** every client this run opened, closed at its end */
  opened: Client[];
}

export function readyz(node: ServerNodeHandle): Promise<number> {
  return readyzStatus(node.url);
}

/** Back to two running nodes with healthy Redis links (a previous run may have left one killed or cut). */
async function resetWorld(w: World): Promise<void> {
  w.relay.restore();
  for (const n of w.nodes) if (!n.running) await n.start();
  for (const n of w.nodes) await waitUntil(async () => (await readyz(n)) === 200, { what: `${n.nodeId} ready for the next run`, timeoutMs: 20_000, intervalMs: 50 });
}

/** fast-check's setup for one run: a fresh namespace of users and group on the shared world. */
export async function setupRun(w: World): Promise<{ model: Model; real: Real }> {
  await resetWorld(w);
  const users = [uid('ma'), uid('mb'), uid('mc')];
  const group = uid('mg');
  const res = await api(w.nodes[0]!.url, 'POST', '/v1/groups', { token: await tokenFor(users[0]!), body: { id: group, members: [users[1]] } });
  if (res.status !== 201) throw new Error(`setup: creating group ${group} answered ${res.status} ${res.text}`);
  const model = newModel({
    users,
    group,
    dmId: dmConv(users[0]!, users[1]!),
    devices: [
      [users[0]!, 'd0'],
      [users[0]!, 'd1'],
      [users[1]!, 'd0'],
      [users[2]!, 'd0'],
    ],
    nodes: w.nodes.length,
    relayed: w.relayed,
  });
  return { model, real: { world: w, clients: new Map(), opened: [] } };
}

export async function teardownRun(real: Real): Promise<void> {
  for (const c of real.opened) c.terminate();
  // let the nodes see the closes before the next run's users appear (presence, device counts)
  await sleep(20);
}

export const tokenFor = (user: string, device?: string): Promise<string> => mintToken(JWT_SECRET, user, device === undefined ? {} : { dev: device });

