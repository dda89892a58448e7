import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Scenario } from '../../harness/scenario/define.ts';
import { runScenario } from '../../harness/scenario/run.ts';
import messageLoss from '../../scenarios/message-loss.ts';

/**
 * message-loss's controls, each on a short load with a few of its faults: a server whose
 * hole fills come back empty (TEST_BUGS=skip_gap_fill: holes are announced as trimmed) must
 * fail `lost` after the bus drops, with a witness naming the message and a device on a node
 * whose bus connection was dropped; a server that moves a device's cursor when it pushes
 * (TEST_BUGS=cursor_on_push: at-most-once) must fail `inflight`, naming the device, the
 * pushes it held unacked at the fault and the cursor that passed them. The correct server
 * passes the whole scenario in the ci suite.
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

it('control cursor_on_push, client link reset and cut: `inflight` fails, naming the device, the unacked pushes, the window and the cursor that passed them', async () => {
  const s: Scenario = {
    ...messageLoss,
    durationMs: 8_000,
    faults: [
      { kind: 'toxic', at: 2_000, duration: 1_000, link: 'client-link:node-1', toxic: { type: 'reset_peer', stream: 'downstream', toxicity: 1, attributes: { timeout: 100 } } },
      { kind: 'cut', at: 4_000, duration: 1_000, link: 'client-link:node-1' },
    ],
    thresholds: [],
    topology: { ...messageLoss.topology, serverEnv: { ...messageLoss.topology.serverEnv, TEST_BUGS: 'cursor_on_push' } },
  };
  const r = await runScenario(s, { env: 'local', seed: 42, outRoot: out, log: () => {} });
  expect(r.pass).toBe(false);
  const c = r.report.checks.find((x) => x.guarantee === 'inflight')!;
  expect(c.ok).toBe(false);
  // (or, when the cursor a push moved reached the head, "… resumed at … with no conv frame for it (…)")
  // "…u22/d1 held dm:… seqs 12..12 (epoch …) unacked on node-1.….f when w1 (toxic reset_peer {"timeout":100} on client-link:node-1 at 2000 ms) began at t+2.102s; its next connection node-1.….2d resumed at t+3.186s from cursor 14, but since the window the device had acked nothing there: seqs 12..12 were taken as delivered without an ack (…)"
  expect(c.violations[0]!.message).toMatch(/^\S+\/d\d held (dm|g):\S+ seqs \d+\.\.\d+ \(epoch \S+\) unacked on node-1\.\S+ when w[12] \((toxic reset_peer .*|cut client-link:node-1 at 4000 ms)\) began at t\+[\d.]+s; its next connection node-1\.\S+ resumed at t\+[\d.]+s (from cursor \d+|with no conv frame for it \(nothing to replay: its cursor was at the head, at or past \d+\)), but since the window the device had acked (nothing there|only up to \d+): seqs \d+\.\.\d+ were taken as delivered without an ack/);
  // the report's in-flight section counts the pushes not recovered (a witness covers a range of them)
  expect(r.report.inflight!.reduce((n, w) => n + w.pushes.failed, 0)).toBeGreaterThanOrEqual(c.violationsTotal);
  for (const g of ['duplicate', 'order', 'nodes']) expect(r.report.checks.find((x) => x.guarantee === g)!.ok, g).toBe(true);
}, 120_000);
