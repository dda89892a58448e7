import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineScenario, type ScenarioInput } from '../../harness/scenario/define.ts';
import { runScenario } from '../../harness/scenario/run.ts';

/**
 * The harness catches a broken server: each deliberate bug (a faulty seam the test entry
 * server/test-main.ts wires) must make exactly the checker for its guarantee fail, with a witness that
 * names the message. Real processes, real Redis, the embedded proxy, a real fleet.
 */
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-broken-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function scenario(name: string, bug: string, extra: Partial<ScenarioInput> = {}) {
  return defineScenario({
    name,
    description: `a server with TEST_BUGS=${bug}`,
    proves: ['the harness notices'],
    topology: { nodes: 2, redisBehindProxy: false, clientLinksBehindProxy: true, serverEnv: { TEST_BUGS: bug, SEND_RATE: 1000, SEND_BURST: 1000 } },
    workload: { users: 12, devicesPerUser: 1, dmsPerUser: 1, groups: 2, groupSize: 4, sendRate: 60, bodyBytes: 64, ack: 'batched' },
    durationMs: 4000,
    checks: { unseenWithinMs: 5000, presence: false, leaks: false },
    ...extra,
  });
}

const log = () => {};

describe('a deliberately broken server', () => {
  it('drop_replay (a message dropped from a replay): `lost` fails and names the message and device; report files say so', async () => {
    // Replays that read the log are reconnects' backlogs (a dm's first message comes from the
    // bus, with no read): node-1's devices are cut off for a second while messages are stored.
    const cut = scenario('broken-replay', 'drop_replay', { faults: [{ kind: 'cut', at: 1500, duration: 1000, link: 'client-link:node-1' }] });
    const r = await runScenario(cut, { env: 'local', seed: 11, outRoot: out, log });
    expect(r.pass).toBe(false);
    const lost = r.report.checks.find((c) => c.guarantee === 'lost')!;
    expect(lost.ok).toBe(false);
    const w = lost.violations[0]!;
    // "… conv …, seq …, cmid … never reached <user>/<device> …"
    expect(w.message).toMatch(/(dm|g):\S+/);
    expect(w.message).toMatch(/seq \d+/);
    expect(w.message).toMatch(/cmid \S+/);
    expect(w.trail.length).toBeGreaterThan(0);
    // guarantees the bug does not touch still hold
    expect(r.report.checks.find((c) => c.guarantee === 'duplicate')!.ok).toBe(true);
    const junit = readFileSync(path.join(r.dir, 'junit.xml'), 'utf8');
    const lostCase = /<testcase[^>]*name="[^"]*lost[^"]*"[^>]*>([\s\S]*?)<\/testcase>/i.exec(junit);
    expect(lostCase?.[1]).toMatch(/<failure[^>]*never reached member/);
    expect(readFileSync(path.join(r.dir, 'summary.md'), 'utf8')).toMatch(/FAIL/);
  });

  it('synced_early (`synced` sent before the backlog it closes): `order` fails, naming a conv frame after synced; nothing is lost or duplicated', async () => {
    // node-1's devices are cut off for a second while messages are stored, so they reconnect
    // owed backlogs: each backlog's conv frame comes after the early `synced`
    const cut = scenario('broken-synced-early', 'synced_early', { faults: [{ kind: 'cut', at: 1500, duration: 1000, link: 'client-link:node-1' }] });
    const r = await runScenario(cut, { env: 'local', seed: 17, outRoot: out, log });
    expect(r.pass).toBe(false);
    const order = r.report.checks.find((c) => c.guarantee === 'order')!;
    expect(order.ok).toBe(false);
    // "connection <conn> of <client>: <conv> (epoch <e>) conv frame (cursor c) came at t+…, after synced at t+…, and was followed by seq s (cmid … from …), stored before the connection began at t+… (answered sent at t+…): the connect sequence owed it before synced"
    expect(order.violations[0]!.message).toMatch(
      /^connection \S+ of \S+: (dm|g):\S+ \(epoch \S+\) conv frame \(cursor \d+\) came at t\+[\d.]+s, after synced at t\+[\d.]+s, and was followed by seq \d+ \(cmid \S+ from \S+\), stored before the connection began at t\+[\d.]+s \(answered (sent|dup) at t\+[\d.]+s\): the connect sequence owed it before synced$/,
    );
    // everything is still delivered, once: only `synced` moved
    expect(r.report.checks.find((c) => c.guarantee === 'lost')!.ok).toBe(true);
    expect(r.report.checks.find((c) => c.guarantee === 'duplicate')!.ok).toBe(true);
    // the same run on the correct server: its conv frames after synced (dms' first messages) are right
    const correct = await runScenario({ ...cut, topology: { ...cut.topology, serverEnv: { SEND_RATE: 1000, SEND_BURST: 1000 } } }, { env: 'local', seed: 17, outRoot: out, log });
    expect(correct.report.checks.find((c) => c.guarantee === 'order')).toMatchObject({ ok: true });
    expect(correct.report.verdict.failures).toEqual([]);
  });

  it('dedupe_ignores_sender with clients numbering cmids from 1: `lost` fails, naming a message answered with another sender\'s seq; the same run with unique cmids cannot see the bug', async () => {
    const counter = scenario('broken-cmid-key', 'dedupe_ignores_sender', { workload: { users: 12, devicesPerUser: 1, dmsPerUser: 1, groups: 2, groupSize: 4, sendRate: 60, bodyBytes: 64, ack: 'batched', cmids: 'counter' } });
    const r = await runScenario(counter, { env: 'local', seed: 14, outRoot: out, log });
    expect(r.pass).toBe(false);
    const lost = r.report.checks.find((c) => c.guarantee === 'lost')!;
    expect(lost.ok).toBe(false);
    expect(lost.violations[0]!.message).toMatch(/^(dm|g):\S+ seq \d+ .*cmid d0\.\d+ from \S+/);
    expect(r.report.checks.find((c) => c.guarantee === 'order')!.ok).toBe(true);
    // unique cmids never collide, so the broken key goes unnoticed: why smoke numbers from 1
    const unique = await runScenario(scenario('broken-cmid-key-unique', 'dedupe_ignores_sender'), { env: 'local', seed: 14, outRoot: out, log });
    expect(unique.report.checks.find((c) => c.guarantee === 'lost')!.ok).toBe(true);
  });

  it('skip_dedupe (a resent cmid stored again): `duplicate` fails and names the two seqs', async () => {
    // replies held back by a slow server→client link, then the link cut: sends stored but
    // never answered; the fleet resends them with the same cmid after reconnecting, and the
    // broken server stores them a second time
    const s = scenario('broken-dedupe', 'skip_dedupe', {
      faults: [
        { kind: 'toxic', at: 500, duration: 2500, link: 'client-link:node-1', toxic: { type: 'latency', stream: 'downstream', attributes: { latency: 600 } } },
        { kind: 'cut', at: 1500, duration: 500, link: 'client-link:node-1' },
      ],
    });
    const r = await runScenario(s, { env: 'local', seed: 12, outRoot: out, log });
    const dup = r.report.checks.find((c) => c.guarantee === 'duplicate')!;
    expect(dup.ok).toBe(false);
    expect(dup.violations[0]!.message).toMatch(/cmid \S+/);
    expect(dup.violations[0]!.message).toMatch(/seq/);
    expect(r.pass).toBe(false);
  });

  it('the same scenarios against a correct server pass (the failures above come from the bugs)', async () => {
    const ok = scenario('correct', '', {
      topology: { nodes: 2, redisBehindProxy: false, clientLinksBehindProxy: true, serverEnv: { SEND_RATE: 1000, SEND_BURST: 1000 } },
      faults: [
        { kind: 'toxic', at: 500, duration: 2500, link: 'client-link:node-1', toxic: { type: 'latency', stream: 'downstream', attributes: { latency: 600 } } },
        { kind: 'cut', at: 1500, duration: 500, link: 'client-link:node-1' },
      ],
    });
    const r = await runScenario(ok, { env: 'local', seed: 12, outRoot: out, log });
    expect(r.report.verdict.failures).toEqual([]);
    expect(r.pass).toBe(true);
  });
});
