import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Scenario } from '../../harness/scenario/define.ts';
import { runScenario } from '../../harness/scenario/run.ts';
import misbehavingClients from '../../scenarios/misbehaving-clients.ts';
import slowConsumer from '../../scenarios/slow-consumer.ts';

/**
 * Controls of the scenarios built on device groups and client modes: each against a server
 * with one deliberate bug (TEST_BUGS) must fail with the checker or threshold for the class
 * it attacks. The passing side is the `ci` suite, which runs both scenarios.
 */
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-modes-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const log = () => {};

function withBug(s: Scenario, bug: string): Scenario {
  return { ...s, topology: { ...s.topology, serverEnv: { ...s.topology.serverEnv, TEST_BUGS: bug } } };
}

describe('misbehaving-clients', () => {
  it('control ack_past_head (an ack above the head is stored as the cursor): `lost` fails, naming the message, the ack-ahead device and its ack', async () => {
    // 12 s of load: the stages are scaled to it; the pause (5–9 s) and the leave (8 s) still fit
    const r = await runScenario(withBug(misbehavingClients, 'ack_past_head'), { env: 'local', seed: 41, outRoot: out, log, durationMs: 12_000 });
    expect(r.pass).toBe(false);
    const c = r.report.checks.find((x) => x.guarantee === 'lost')!;
    expect(c.ok).toBe(false);
    // "dm:… seq 9 (epoch …, cmid d1.4 from …, answered sent at t+…) never reached member …u3 on device …u3/d1 (…); the device acked ahead: ack 55 while holding 5 at t+… (answered ok by t+…), before this message was stored (not before t+…): clamped to the head, that ack could not cover it"
    expect(c.violations[0]!.message).toMatch(
      /^(dm|g):\S+ seq (\d+) \(epoch \S+, cmid \S+ from \S+, answered sent at t\+[\d.]+s\) never reached member (\S+) on device \3\/d\d \(.*\); the device acked ahead: ack \d+ while holding \d+ at t\+[\d.]+s \(answered ok by t\+[\d.]+s\), before this message was stored \(not before t\+[\d.]+s\): clamped to the head, that ack could not cover it$/,
    );
    for (const g of ['duplicate', 'order', 'nodes']) expect(r.report.checks.find((x) => x.guarantee === g)!.ok, g).toBe(true);
  });
});

describe('slow-consumer', () => {
  it('control never_cut_slow_consumers: `slow` fails naming each device the node kept megabytes for instead of cutting it; the 4413 cuts threshold fails (none)', async () => {
    const short: Scenario = {
      ...slowConsumer,
      durationMs: 13_000,
      workload: {
        ...slowConsumer.workload,
        deviceGroups: slowConsumer.workload.deviceGroups!.map((g) => (g.mode.kind === 'pause' || g.mode.kind === 'throttle' ? { ...g, mode: { ...g.mode, at: 1_000, durationMs: 11_000 } } : g)),
      },
    };
    const r = await runScenario(withBug(short, 'never_cut_slow_consumers'), { env: 'local', seed: 42, outRoot: out, log });
    expect(r.pass).toBe(false);
    // per device: "…u3/d0 stopped reading (pause) at t+… on connection node-1.….c (node-1) and read again at t+… on the same connection: it then read 6.1 MiB in 470 frames until it caught up at t+…, of which the kernel held 2.3 MiB (…): the node kept 3.8 MiB for it in memory, more than SLOW_CONSUMER_BYTES 32 KiB and the slack allow (352 KiB), instead of cutting it 4413"
    const slow = r.report.checks.find((x) => x.guarantee === 'slow')!;
    expect(slow.ok).toBe(false);
    expect(slow.violations[0]!.message).toMatch(
      /^\S+\/d0 stopped reading \((pause|throttle)\) at t\+[\d.]+s on connection (\S+) \(node-\d\) and read again at t\+[\d.]+s on the same connection: it then read [\d.]+ [MK]iB in \d+ frames .*, of which the kernel held [\d.]+ [MK]iB \(its receive queue [\d.]+ [MK]iB, the node's send queue [\d.]+ [MK]iB\): the node kept [\d.]+ MiB for it in memory, more than SLOW_CONSUMER_BYTES 32 KiB and the slack allow \(352 KiB\), instead of cutting it 4413$/,
    );
    // every paused device is named
    expect(new Set(slow.violations.filter((v) => / stopped reading \(pause\)/.test(v.message)).map((v) => v.message.split(' ')[0])).size).toBe(4);
    const cuts = r.report.thresholds.find((x) => x.metric === 'server.*.slowConsumerClosesPerSec.total')!;
    expect(cuts).toMatchObject({ pass: false, observed: 0 });
    const unsent = r.report.thresholds.find((x) => x.metric === 'server.*.unsentBytes.max')!;
    expect(unsent.observed).toBeGreaterThan(2 * 1024 * 1024);
    // the readers were not cut, so nothing had to be caught up: delivery itself holds
    for (const g of ['lost', 'order', 'nodes']) expect(r.report.checks.find((x) => x.guarantee === g)!.ok, g).toBe(true);
  });
});
