import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Scenario } from '../../harness/scenario/define.ts';
import { runScenario } from '../../harness/scenario/run.ts';
import nodePause from '../../scenarios/node-pause.ts';

/**
 * node-pause's control: a zombie node that does not notice its lease was taken must fail
 * `presence` over time, naming the subscriber, the user and the stretch. (The correct
 * server's pass is the `ci` suite's run in .ci/run.) The load is cut to 20 s: the freeze ends
 * at 10 s and presence is judged again from PRESENCE_TTL_MS + 3 s after it.
 * close_by_device (a late close deregisters the device everywhere) ran here too, with the
 * same checker and the same witness; it is proved once, by presence-race's control in
 * catalogue-controls.test.ts (27 s here for that run).
 */
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-node-pause-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const log = () => {};

function withBug(bug: string): Scenario {
  return { ...nodePause, durationMs: 20_000, topology: { ...nodePause.topology, serverEnv: { ...nodePause.topology.serverEnv, TEST_BUGS: bug } } };
}

const OFFLINE_WHILE_ONLINE = /^subscriber \S+\/d\d \(connection \S+\) showed (\S+) offline \(v \d+, received t\+[\d.]+s\) within t\+[\d.]+s–t\+[\d.]+s, while \1 was online from t\+[\d.]+s to t\+[\d.]+s/;

describe('node-pause', () => {
  // a third control, the node's own freeze handling put back (every connection cut 4408 on
  // resuming), fails `closes.4408 == 0` (17 of them with seed 2); its test is the frozen-node
  // case in test/integration/handshake.test.ts, which needs no scenario run

  it('control ignore_lease_lapse (the resumed node never re-registers: users it still serves shown offline): `presence` fails over time', async () => {
    const r = await runScenario(withBug('ignore_lease_lapse'), { env: 'local', seed: 41, outRoot: out, log });
    expect(r.pass).toBe(false);
    const c = r.report.checks.find((x) => x.guarantee === 'presence')!;
    expect(c.ok).toBe(false);
    expect(c.violations.map((v) => v.message).find((m) => OFFLINE_WHILE_ONLINE.test(m)), c.violations[0]?.message).toBeDefined();
    for (const g of ['lost', 'duplicate', 'order', 'nodes']) expect(r.report.checks.find((x) => x.guarantee === g)!.ok, g).toBe(true);
  });
});
