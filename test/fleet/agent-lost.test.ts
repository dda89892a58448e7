// A fleet process that dies mid-run (SIGKILL during the load): the fleet reports it, keeps
// the facts it shipped up to then, stops waiting for it, and finishes with the others.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Fleet } from '../../harness/fleet/orchestrator.ts';
import { createGroups } from '../../harness/fleet/setup.ts';
import { planWorkload, workloadSchema } from '../../harness/fleet/workload.ts';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { DEFAULT_JWT_SECRET } from '../helpers/tokens.ts';
import type { LostAgent } from '../../harness/fleet/orchestrator.ts';

let cl: Cluster;
beforeAll(async () => {
  cl = await startCluster({ nodes: 1, env: { SEND_RATE: 1000, SEND_BURST: 1000 } });
});
afterAll(async () => {
  await cl?.cleanup();
});

it('an agent killed during the load is reported once, its facts up to then are kept, and every later phase ends without it', async () => {
  const workload = workloadSchema.parse({ users: 12, devicesPerUser: 2, dmsPerUser: 1, groups: 1, groupSize: 4, sendRate: 30, ack: 'batched' });
  const plan = planWorkload(workload, 7, 'al');
  await createGroups(plan.groups, cl.nodes[0]!.url, DEFAULT_JWT_SECRET);
  const lost: LostAgent[] = [];
  const fleet = new Fleet({ devices: plan.devices, urls: cl.nodes.map((n) => n.wsUrl), processes: 2, jwtSecret: DEFAULT_JWT_SECRET, workload, onAgentLost: (a) => lost.push(a) });
  try {
    await fleet.start();
    await fleet.connect();
    await fleet.startLoad();
    await new Promise((r) => setTimeout(r, 2500));
    const victim = fleet.localPool!.processes[1]!;
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    expect(lost.map((a) => a.agent)).toEqual(['local-1']);
    expect(lost[0]!.reason).toMatch(/control connection closed \(code 1006/);
    expect(lost[0]!.devices).toBe(12);
    // the phases after it end with the survivor alone
    await fleet.stopLoad();
    await fleet.drain(5000);
    await fleet.resync();
    const result = await fleet.finish();
    expect(result.lost).toEqual(lost);
    const ofVictim = result.facts.filter((f) => 'client' in f && result.agentOf.get(f.client) === 1);
    const ofSurvivor = result.facts.filter((f) => 'client' in f && result.agentOf.get(f.client) === 0);
    // what the dead agent shipped before it died: at least its devices' connects and syncs
    expect(ofVictim.filter((f) => f.k === 'conn' && f.event === 'synced').length).toBeGreaterThanOrEqual(12);
    expect(Math.max(...ofVictim.map((f) => ('at' in f ? f.at : 0)))).toBeLessThan(killedAt);
    // and the survivor's whole run, its sends included (recorded at finish)
    expect(ofSurvivor.some((f) => f.k === 'send')).toBe(true);
    expect(result.connect.count).toBeGreaterThanOrEqual(12);
  } finally {
    fleet.kill();
  }
}, 60_000);
