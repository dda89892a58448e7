import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../harness/fleet/orchestrator.ts';
import { createGroups } from '../../harness/fleet/setup.ts';
import { planWorkload, workloadSchema } from '../../harness/fleet/workload.ts';
import type { RecvFact, SendFact } from '../../harness/model/facts.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { DEFAULT_JWT_SECRET } from '../helpers/tokens.ts';

let cl: Cluster;
let dir: string;
beforeAll(async () => {
  cl = await startCluster({ nodes: 2, env: { SEND_RATE: 1000, SEND_BURST: 1000 } });
  dir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-fleet-'));
});
afterAll(async () => {
  await cl?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fleet', () => {
  it('two processes drive dm and group traffic with churn; after the final sync every stored message reached every member device', async () => {
    const workload = workloadSchema.parse({ users: 16, devicesPerUser: 2, dmsPerUser: 1, groups: 2, groupSize: 5, sendRate: 40, churnRate: 2, presenceSubs: 2, ack: 'batched' });
    const plan = planWorkload(workload, 42, 'ft');
    await createGroups(plan.groups, cl.nodes[0]!.url, DEFAULT_JWT_SECRET);
    const fleet = new Fleet({ devices: plan.devices, urls: cl.nodes.map((n) => n.wsUrl), processes: 2, jwtSecret: DEFAULT_JWT_SECRET, workload });
    try {
      await fleet.start();
      await fleet.connect();
      await fleet.startLoad();
      await new Promise((r) => setTimeout(r, 4000));
      await fleet.stopLoad();
      await fleet.drain(10_000);
      await fleet.resync();
      const result = await fleet.finish();
      const sends = result.facts.filter((f): f is SendFact => f.k === 'send');
      const stored = sends.filter((s) => s.outcome === 'sent' || s.outcome === 'dup');
      expect(stored.length).toBeGreaterThan(50);
      expect(result.facts.some((f) => f.k === 'conn' && f.event === 'close' && f.code === 1006)).toBe(true); // churn happened
      const got = new Set(result.facts.filter((f): f is RecvFact => f.k === 'recv').map((r) => `${r.client}|${r.conv}|${r.seq}`));
      const members = new Map(plan.population.convs.map((c) => [c.conv, c.members]));
      const missing: string[] = [];
      for (const s of stored) {
        for (const u of members.get(s.conv)!) {
          for (const d of ['d0', 'd1']) if (!got.has(`${u}/${d}|${s.conv}|${s.seq}`)) missing.push(`${s.conv}#${s.seq} → ${u}/${d}`);
        }
      }
      expect(missing).toEqual([]);
      expect(result.connect.count).toBeGreaterThanOrEqual(plan.devices.length);
    } finally {
      fleet.kill();
    }
  });
});
