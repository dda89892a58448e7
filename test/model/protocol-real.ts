// The real side of the model-based protocol tests: one Redis, two server nodes (the second
// reaches Redis through a relay, so its link can be cut and healed), reused across runs; each
// run gets fresh users, devices and a fresh group, so runs never see each other's data.
import { Client } from '../helpers/client.ts';
import { api } from '../helpers/http.ts';
import { dm, uid } from '../helpers/ids.ts';
import { startNode, type NodeHandle } from '../helpers/nodes.ts';
import { killAll, sleep, waitUntil } from '../helpers/procs.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { startRelay, type Relay } from '../helpers/relay.ts';
import { token } from '../helpers/tokens.ts';
import { newModel, type Model } from './protocol-model.ts';

/** STORE_TIMEOUT_MS of the nodes: a send on a cut node answers `unavailable` after about this long. */
export const STORE_TIMEOUT_MS = 1000;

export interface World {
  redis: RedisHandle;
  relay: Relay;
  nodes: NodeHandle[];
  /** index of the node behind the relay */
  relayed: number;
  bugs: string;
  close(): Promise<void>;
}

export async function startWorld(opts: { bugs?: string } = {}): Promise<World> {
  const redis = await startRedis();
  const relay = await startRelay(redis.port);
  const env: Record<string, string | number> = { STORE_TIMEOUT_MS };
  if (opts.bugs) env.TEST_BUGS = opts.bugs;
  try {
    const nodes = await Promise.all([startNode({ redisUrl: redis.url, env }), startNode({ redisUrl: relay.url, env })]);
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

export async function readyz(node: NodeHandle): Promise<number> {
  try {
    const res = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
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
  const res = await api(w.nodes[0]!.url, 'POST', '/v1/groups', { token: await token({ sub: users[0]! }), body: { id: group, members: [users[1]] } });
  if (res.status !== 201) throw new Error(`setup: creating group ${group} answered ${res.status} ${res.text}`);
  const model = newModel({
    users,
    group,
    dmId: dm(users[0]!, users[1]!),
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

export const tokenFor = (user: string, device?: string): Promise<string> => token({ sub: user, dev: device });

