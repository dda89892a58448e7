// A fleet process that dies mid-run (SIGKILL during the load): the fleet reports it, keeps
// the facts it shipped up to then, stops waiting for it, and finishes with the others; a
// scenario run whose `imstorm agent` is killed ends with a report marked incomplete.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RemoteAgents } from '../../harness/fleet/orchestrator.ts';
import { defineScenario } from '../../harness/scenario/define.ts';
import { runScenario } from '../../harness/scenario/run.ts';
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
    // links are in the order the agents said hello, which need not be the order they were started in
    const victimLink = result.agents.findIndex((a) => a.agent === 'local-1');
    expect(victimLink).toBeGreaterThanOrEqual(0);
    const ofVictim = result.facts.filter((f) => 'client' in f && result.agentOf.get(f.client) === victimLink);
    const ofSurvivor = result.facts.filter((f) => 'client' in f && result.agentOf.get(f.client) === 1 - victimLink);
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

it('a scenario whose agent is SIGKILLed during the load still writes its report, marked incomplete: it names the agent and never passes', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-agent-lost-'));
  const bin = fileURLToPath(new URL('../../bin/imstorm.js', import.meta.url));
  const token = 'lost-agent-token-0123456789';
  const pool = await RemoteAgents.listen({ host: '127.0.0.1', port: 0, token, agents: 2, waitMs: 30_000, log: () => {} });
  const agents: ChildProcess[] = ['x0', 'x1'].map((name) => spawn(process.execPath, [bin, 'agent', '--control', pool.url, '--name', name], { env: { ...process.env, IMSTORM_CONTROL_TOKEN: token }, stdio: 'ignore' }));
  const s = defineScenario({
    name: 'agent-lost',
    description: 'one node, 8 users × 2 devices, 5 s of sends; one of two agents killed 2 s into the load',
    proves: ['a lost agent is reported, never a hang'],
    topology: { nodes: 1, redisBehindProxy: false, clientLinksBehindProxy: false },
    workload: { users: 8, devicesPerUser: 2, dmsPerUser: 1, groups: 1, groupSize: 4, sendRate: 20, bodyBytes: 64, ack: 'batched' },
    durationMs: 5_000,
    checks: { unseenWithinMs: 5000, presence: false, leaks: false },
  });
  let killed = false;
  try {
    const r = await runScenario(s, {
      env: 'local',
      seed: 3,
      agents: pool,
      outRoot: out,
      log: () => {},
      onProgress: (p) => {
        if (!killed && p.phase === 'load' && p.elapsedMs >= 2000) {
          killed = true;
          agents[1]!.kill('SIGKILL');
        }
      },
    });
    expect(killed).toBe(true);
    expect(r.pass).toBe(false);
    expect(r.report.incomplete).toHaveLength(1);
    expect(r.report.incomplete![0]).toMatch(/^agent x1 lost at t\+[\d.]+s in phase "load" \(its control connection closed \(code 1006\)\); its 8 devices' facts up to then are kept, and the run is incomplete$/);
    expect(r.report.verdict.failures[0]).toBe(`run incomplete: ${r.report.incomplete![0]}`);
  } finally {
    await pool.close();
    for (const a of agents) if (a.exitCode === null) a.kill('SIGKILL');
    rmSync(out, { recursive: true, force: true });
  }
}, 90_000);
