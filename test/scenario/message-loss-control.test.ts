import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Scenario } from '../../harness/scenario/define.ts';
import { runScenario } from '../../harness/scenario/run.ts';
import messageLoss from '../../scenarios/message-loss.ts';

/**
 * message-loss's control: a server whose hole fills come back empty (TEST_BUGS=skip_gap_fill:
 * holes are announced as trimmed) must fail `lost`, with a witness naming the message and a
 * device on a node whose bus connection the scenario dropped. The correct server passes
 * the full scenario in the ci suite. Short load: the two bus drops only.
 */
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-message-loss-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('control skip_gap_fill, bus connections dropped alone: `lost` fails, naming the message and a device of a node whose bus dropped', async () => {
  const s: Scenario = {
    ...messageLoss,
    durationMs: 10_000,
    faults: [
      { kind: 'bus-drop', at: 3_000, target: 'node-3' },
      { kind: 'bus-drop', at: 5_000, target: 'node-1' },
    ],
    thresholds: [],
    topology: { ...messageLoss.topology, serverEnv: { ...messageLoss.topology.serverEnv, TEST_BUGS: 'skip_gap_fill' } },
  };
  const r = await runScenario(s, { env: 'local', seed: 41, outRoot: out, log: () => {} });
  expect(r.pass).toBe(false);
  const lost = r.report.checks.find((x) => x.guarantee === 'lost')!;
  expect(lost.ok).toBe(false);
  // "dm:…u14:…u28 seq 8 (epoch …, cmid d0.5 from …u14, answered sent at t+3.291s) never reached member …u14 on device …u14/d1 (last connection node-3.….13 ended at t+12.493s code 1000)"
  const w = lost.violations[0]!;
  expect(w.message).toMatch(/^(dm|g):\S+ seq \d+ \(epoch \S+, cmid d\d\.\d+ from \S+, answered sent at t\+[\d.]+s\) never reached member \S+ on device \S+\/d\d \(last connection node-[13]\.\S+ /);
  expect(w.faultWindow.map((f) => f.kind)).toContain('bus:drop');
  // each drop is on the timeline from the kill until the node subscribed again
  expect(r.report.faults.filter((f) => f.kind === 'bus:drop').map((f) => f.target)).toEqual(['node-3', 'node-1']);
  for (const g of ['duplicate', 'order', 'nodes']) expect(r.report.checks.find((x) => x.guarantee === g)!.ok, g).toBe(true);
}, 120_000);
