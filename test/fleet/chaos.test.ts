import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../harness/fleet/orchestrator.ts';
import { createGroups } from '../../harness/fleet/setup.ts';
import { planWorkload, workloadSchema } from '../../harness/fleet/workload.ts';
import type { Fact, RecvFact, SendFact } from '../../harness/model/facts.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { startRelay, type Relay } from '../helpers/relay.ts';
import { startNode } from '../helpers/nodes.ts';
import { DEFAULT_JWT_SECRET } from '../helpers/tokens.ts';

/** Every stored message reached every member device by the end, and each (conv, sender, cmid) has one seq. */
function verify(facts: Fact[], members: Map<string, string[]>, devices: string[]): { missing: string[]; dupSeqs: string[]; stored: number } {
  const sends = facts.filter((f): f is SendFact => f.k === 'send');
  const stored = sends.filter((s) => s.outcome === 'sent' || s.outcome === 'dup');
  const recv = facts.filter((f): f is RecvFact => f.k === 'recv');
  const got = new Set(recv.map((r) => `${r.client}|${r.conv}|${r.seq}`));
  const missing: string[] = [];
  for (const s of stored) for (const u of members.get(s.conv)!) for (const d of devices) if (!got.has(`${u}/${d}|${s.conv}|${s.seq}`)) missing.push(`${s.conv}#${s.seq} (${s.cmid}) → ${u}/${d}`);
  const seqOf = new Map<string, Set<number>>();
  for (const r of recv) {
    const k = `${r.conv}|${r.from}|${r.cmid}`;
    let set = seqOf.get(k);
    if (!set) seqOf.set(k, (set = new Set()));
    set.add(r.seq);
  }
  const dupSeqs = [...seqOf].filter(([, s]) => s.size > 1).map(([k, s]) => `${k}: ${[...s].join(',')}`);
  return { missing, dupSeqs, stored: stored.length };
}

let cl: Cluster;
let relay: Relay;
let dir: string;
beforeAll(async () => {
  cl = await startCluster({ nodes: 2, env: { SEND_RATE: 1000, SEND_BURST: 1000, STORE_TIMEOUT_MS: 1000, PRESENCE_TTL_MS: 3000 } });
  relay = await startRelay(cl.redis.port);
  // a third node reaches Redis through a relay we can cut
  cl.nodes.push(await startNode({ redisUrl: relay.url, env: { SEND_RATE: 1000, SEND_BURST: 1000, STORE_TIMEOUT_MS: 1000, PRESENCE_TTL_MS: 3000 } }));
  dir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-chaos-'));
});
afterAll(async () => {
  await relay?.close();
  await cl?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fleet under faults', () => {
  it('Redis killed and restarted, one node cut from Redis, one node killed and restarted: no stored message is lost or stored twice', async () => {
    const workload = workloadSchema.parse({ users: 30, devicesPerUser: 2, dmsPerUser: 1, groups: 3, groupSize: 6, sendRate: 60, churnRate: 1, ack: 'batched' });
    const plan = planWorkload(workload, 7, 'cx');
    await createGroups(plan.groups, cl.nodes[0]!.url, DEFAULT_JWT_SECRET);
    const fleet = new Fleet({ devices: plan.devices, urls: cl.nodes.map((n) => n.wsUrl), processes: 2, jwtSecret: DEFAULT_JWT_SECRET, workload });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      await fleet.start();
      await fleet.connect();
      await fleet.startLoad();
      await sleep(2000);
      relay.cut();
      await sleep(2500);
      relay.restore();
      await sleep(1500);
      await cl.redis.kill();
      await sleep(1500);
      await cl.redis.restart();
      await sleep(2500);
      await cl.nodes[1]!.kill();
      await sleep(1000);
      await cl.nodes[1]!.restart();
      await sleep(2000);
      await fleet.stopLoad();
      await fleet.drain(15_000);
      await fleet.resync();
      const result = await fleet.finish();
      const members = new Map(plan.population.convs.map((c) => [c.conv, c.members]));
      const v = verify(result.facts, members, ['d0', 'd1']);
      expect(v.stored).toBeGreaterThan(200);
      expect(v.missing).toEqual([]);
      expect(v.dupSeqs).toEqual([]);
    } finally {
      fleet.kill();
    }
  });
});
