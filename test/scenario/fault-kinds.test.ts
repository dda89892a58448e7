import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { defineScenario } from '../../harness/scenario/define.ts';
import { runScenario } from '../../harness/scenario/run.ts';

/**
 * Every fault kind a scenario can name goes through the runner to the topology and back:
 * each lands on the timeline and heals (a node killed with restartAfter comes back, so its
 * devices reconnect and nothing is lost), and the guarantees still hold.
 */
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-kinds-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('pause, kill with restartAfter (node and Redis), cut: all recorded and healed; nothing lost, duplicated or out of order', async () => {
  const s = defineScenario({
    name: 'fault-kinds',
    description: 'every fault kind once',
    proves: ['the runner applies and heals every fault kind'],
    topology: { nodes: 2, serverEnv: { PRESENCE_TTL_MS: 3000, STORE_TIMEOUT_MS: 1000 } },
    workload: { users: 20, devicesPerUser: 1, dmsPerUser: 1, groups: 2, groupSize: 4, sendRate: 30 },
    durationMs: 9000,
    faults: [
      { kind: 'pause', at: 500, duration: 1000, target: 'redis' },
      { kind: 'kill', at: 2000, target: 'node-2', restartAfter: 1000 },
      { kind: 'cut', at: 4500, duration: 800, link: 'client-link:node-1' },
      { kind: 'kill', at: 6000, target: 'redis', restartAfter: 500 },
    ],
    checks: { unseenWithinMs: 5000, presence: false, leaks: true },
  });
  const r = await runScenario(s, { env: 'local', seed: 3, outRoot: out, log: () => {} });
  const kinds = r.report.faults.map((f) => `${f.kind} ${f.target}`);
  expect(kinds).toEqual(expect.arrayContaining(['redis:pause redis', 'node:kill node-2', 'link:disable client-link:node-1', 'redis:kill redis']));
  expect(r.report.faults.filter((f) => f.end === undefined)).toEqual([]);
  // node-2 was killed by the scenario: not an exit by itself
  for (const g of ['lost', 'duplicate', 'order', 'leaks', 'nodes']) {
    const c = r.report.checks.find((x) => x.guarantee === g)!;
    expect(c.ok, `${g}: ${c.summary}`).toBe(true);
  }
  expect(r.report.checks.find((x) => x.guarantee === 'lost')!.checked).toBeGreaterThan(100);
  expect(r.report.notes.some((n) => /node-2 restarted/.test(n))).toBe(true);
});
