import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Scenario } from '../../harness/scenario/define.ts';
import { runScenario } from '../../harness/scenario/run.ts';
import redisVolatile from '../../scenarios/redis-volatile.ts';

/**
 * redis-volatile's control: a node that does not announce a new epoch (TEST_BUGS=
 * epoch_unannounced) keeps pushing the new epoch's messages on connections that knew the
 * old one, with no `conv` frame; the devices read seq 1, 2, … as going back in the old
 * epoch, and `order` must name the connection, the conversation and the seq. The correct
 * server passing the same scenario is what the `ci` suite shows. Real processes, a real
 * volatile Redis, a real fleet; the load shortened to 10 s (the kill at 5 s stays).
 */
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-volatile-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function withBug(s: Scenario, bug: string, durationMs: number): Scenario {
  return { ...s, durationMs, topology: { ...s.topology, serverEnv: { ...s.topology.serverEnv, TEST_BUGS: bug } } };
}

describe('redis-volatile', () => {
  it('control epoch_unannounced (a new epoch pushed without its conv frame): `order` fails, naming the connection, the conversation and the seq that starts over', async () => {
    const r = await runScenario(withBug(redisVolatile, 'epoch_unannounced', 10_000), { env: 'local', seed: 41, outRoot: out, log: () => {} });
    expect(r.pass).toBe(false);
    const c = r.report.checks.find((x) => x.guarantee === 'order')!;
    expect(c.ok).toBe(false);
    // "connection node-2.….t of …/d1: dm:…:… (epoch E1) went back to seq 1 (cmid …) after seq 3: that message is seq 1 of epoch E2, a new epoch this connection was never told of (no conv frame with it before the msg)"
    // (or "pushed seq 1 again with another message (…)" when the old epoch had only seq 1; or,
    // when no device saw that message under the new epoch, "…: dm:… also has epoch E2 (seen until t+…s), never announced on this connection: …",
    // or, when no fact shows E2 at all, "…: the store came back empty at t+…s (a Redis without persistence restarted), after the previous frame: …")
    expect(c.violations[0]!.message).toMatch(
      /^connection \S+ of \S+\/d\d: dm:\S+ \(epoch \S+\) (went back to seq \d+ \(cmid \S+\) after seq \d+|pushed seq \d+ again with another message \(cmid \S+ from \S+; seq \d+ was cmid \S+ from \S+\))(, having pushed up to \d+)?: (that message is seq \d+ of epoch \S+, a new epoch this connection was never told of \(no conv frame with it before the msg\)|dm:\S+ also has epoch \S+ \(seen until t\+[\d.]+s\), never announced on this connection: a seq that starts over without a conv frame announcing a new epoch|the store came back empty at t\+[\d.]+s \(a Redis without persistence restarted\), after the previous frame: a seq that starts over then without a conv frame is a new epoch never announced on this connection)$/,
    );
    expect(c.violations[0]!.trail.some((f) => (f as { k?: string }).k === 'conv')).toBe(true);
    // the Redis restart itself is no fault of the nodes'
    for (const g of ['unexpected', 'nodes']) expect(r.report.checks.find((x) => x.guarantee === g)!.ok, g).toBe(true);
  }, 120_000);
});
