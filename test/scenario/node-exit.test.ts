import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { defineScenario } from '../../harness/scenario/define.ts';
import { RunAbortedError, runScenario } from '../../harness/scenario/run.ts';

/**
 * A node that exits during a run without the scenario having stopped it fails the run:
 * the `nodes` check names the node and carries its last log lines (here the deliberate
 * uncaught exception of TEST_BUGS=throw_uncaught_later on node-2 alone). Real processes,
 * real Redis, a real fleet. A killed node (fault-kinds.test.ts) does not count.
 */
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-exit-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('a node that dies by itself mid-run: `nodes` fails with its last log lines as the witness', async () => {
  const s = defineScenario({
    name: 'node-exits',
    description: 'node-2 throws an uncaught exception 4 s after it listens',
    proves: ['the harness notices a node that exits by itself'],
    topology: { nodes: 2, redisBehindProxy: false, clientLinksBehindProxy: false, nodeEnv: { 'node-2': { TEST_BUGS: 'throw_uncaught_later' } } },
    // devices of the dead node give up quickly instead of retrying for minutes
    workload: { users: 8, devicesPerUser: 1, dmsPerUser: 1, sendRate: 20, reconnect: { baseMs: 50, capMs: 200, attempts: 3 } },
    durationMs: 6000,
    checks: { unseenWithinMs: 5000, presence: false, leaks: false },
  });
  const r = await runScenario(s, { env: 'local', seed: 21, outRoot: out, log: () => {} });
  expect(r.pass).toBe(false);
  const nodes = r.report.checks.find((c) => c.guarantee === 'nodes')!;
  expect(nodes).toMatchObject({ ok: false, checked: 2, violationsTotal: 1 });
  const w = nodes.violations[0]!;
  expect(w.message).toMatch(/^node-2 exited by itself \(code 1\) without the scenario stopping it/);
  const lines = w.trail.map((x) => (x as { text: string }).text).join('\n');
  expect(lines).toMatch(/deliberate uncaught exception \(TEST_BUGS=throw_uncaught_later\)/);
  expect(lines).toMatch(/\[exited: code 1\]/);
  expect(readFileSync(path.join(r.dir, 'junit.xml'), 'utf8')).toMatch(/node-2 exited by itself/);
  // node-1 still runs: the drain and the final sync wait on their devices as usual
  expect(r.report.notes.join('\n')).not.toMatch(/cut short/);
});

// `imstorm run` of the crash `imstorm explore --seed 2001` found (scenarios/redis-pause-ack-retry.ts)
// stopped with "membership churn: … failed on every node for 15082 ms; last: no node running",
// exit 2 and no report, instead of saying the node crashed.
it('a lone node that dies by itself during membership churn: the run still ends with its verdicts, `nodes` failing', async () => {
  const s = defineScenario({
    name: 'node-exits-churn',
    description: 'the only node throws an uncaught exception 4 s after it listens, while the membership churns',
    proves: ['a crash under membership churn is a verdict on the server, not a harness error'],
    topology: { nodes: 1, redisBehindProxy: false, clientLinksBehindProxy: false, nodeEnv: { 'node-1': { TEST_BUGS: 'throw_uncaught_later' } } },
    workload: { users: 4, devicesPerUser: 1, groups: 1, groupSize: 3, sendRate: 10, reconnect: { baseMs: 50, capMs: 200, attempts: 3 } },
    membership: { changesPerSec: 4 },
    durationMs: 6000,
    checks: { unseenWithinMs: 5000, presence: false, leaks: false },
  });
  const lines: string[] = [];
  const r = await runScenario(s, { env: 'local', seed: 23, outRoot: out, log: (l) => lines.push(l) });
  expect(r.pass).toBe(false);
  expect(r.report.checks.find((c) => c.guarantee === 'nodes')).toMatchObject({ ok: false, checked: 1, violationsTotal: 1 });
  // "no node running (node-1 exited by itself)" is the give-up at once; after the churn's 15 s
  // of retries the message would read "failed on every node for … ms"
  expect(lines.join('\n')).toMatch(/membership churn stopped: .*: no node running \(node-1 exited by itself\) \(see the nodes verdict\)/);
  // with no node left, the drain and the final sync end at once rather than waiting out their
  // limits (the fleet's own resync kept `finish` waiting 21 s, the drain 15 s), and say so
  const cut = /^(the drain|the final sync) cut short: node-1 exited by itself and no node is running \(see the nodes verdict\)$/;
  expect(r.report.notes.filter((n) => cut.test(n)).map((n) => cut.exec(n)![1])).toEqual(['the drain', 'the final sync']);
}, 120_000);

// explore-control's throw_uncaught_later replay, on a machine loaded past CI's: the devices
// took longer to connect than the node took to die, and the run ended "connecting stalled …
// node-1 is not running" — a harness error, no verdict — 30 s later. A node that dies before
// its devices get in (TEST_BUGS=throw_uncaught: 100 ms after it listens, before the fleet's
// processes have started) is a verdict on the server like any other crash.
// With an attack (it starts with the load), the note names it among what was skipped.
it.each([
  { attack: undefined, skipped: 'load, faults, drain and final sync' },
  { attack: { at: 0, durationMs: 2000, protocolFrames: 10 }, skipped: 'load, attack, faults, drain and final sync' },
])('a lone node that dies before its devices connect: the run still ends with its verdicts, `nodes` failing; skipped: $skipped', async ({ attack, skipped }) => {
  const s = defineScenario({
    name: 'node-exits-early',
    description: 'the only node throws an uncaught exception 100 ms after it listens',
    proves: ['a crash before the devices connect is a verdict on the server, not a harness error'],
    topology: { nodes: 1, redisBehindProxy: false, clientLinksBehindProxy: false, nodeEnv: { 'node-1': { TEST_BUGS: 'throw_uncaught' } } },
    // the default reconnect policy: devices keep trying, as the explored case's did
    workload: { users: 4, devicesPerUser: 1, dmsPerUser: 1, sendRate: 10 },
    durationMs: 2000,
    checks: { unseenWithinMs: 5000, presence: false, leaks: false },
    ...(attack ? { attack } : {}),
  });
  const started = Date.now();
  const r = await runScenario(s, { env: 'local', seed: 24, outRoot: out, log: () => {} });
  expect(r.pass).toBe(false);
  expect(r.report.checks.find((c) => c.guarantee === 'nodes')).toMatchObject({ ok: false, checked: 1, violationsTotal: 1 });
  expect(r.report.checks.find((c) => c.guarantee === 'nodes')!.violations[0]!.message).toMatch(/^node-1 exited by itself \(code 1\)/);
  // only `nodes`: with no node to send to, nothing else had anything to judge
  expect(r.report.verdict.failures).toHaveLength(1);
  const why = 'node-1 exited by itself and no node is running (see the nodes verdict)';
  expect(r.report.notes).toContain(`connecting cut short: ${why}`);
  expect(r.report.notes).toContain(`${skipped} skipped: ${why}`);
  // neither the connecting phase's 30 s stall nor the fleet's connects retried for minutes
  expect(Date.now() - started).toBeLessThan(25_000);
}, 120_000);

it('a harness call that fails mid-run stops the run as an error naming the scenario and the phase', async () => {
  // node-1 without its debug routes: the leak baseline's POST /debug/gc is refused
  const s = defineScenario({
    name: 'no-debug-routes',
    description: 'node-1 serves no debug routes, so the leak baseline cannot be taken',
    proves: ['the harness says where it stopped'],
    topology: { nodes: 1, redisBehindProxy: false, clientLinksBehindProxy: false, nodeEnv: { 'node-1': { DEBUG_ROUTES: '0' } } },
    workload: { users: 4, devicesPerUser: 1 },
    durationMs: 2000,
    checks: { unseenWithinMs: 5000, presence: false, leaks: true },
  });
  const err = await runScenario(s, { env: 'local', seed: 22, outRoot: out, log: () => {} }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(RunAbortedError);
  expect((err as Error).message).toBe('no-debug-routes stopped in phase "leak baseline": node-1: POST /debug/gc answered 404; leak checks need DEBUG_ROUTES=1 on the server; every node was still running');
});
