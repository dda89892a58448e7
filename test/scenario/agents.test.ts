// The same scenario on 4 local fleet processes and on 4 `imstorm agent` processes that
// connect over TCP to the run's control endpoint, as agents on other machines do: the same
// verdicts, every agent's histograms merged into the report, the clocks accounted for.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { RemoteAgents } from '../../harness/fleet/orchestrator.ts';
import type { Scenario } from '../../harness/scenario/define.ts';
import { runScenario, type RunResult } from '../../harness/scenario/run.ts';
import smoke from '../../scenarios/smoke.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/imstorm.js');
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-agents-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(out, { recursive: true, force: true });
});

/** smoke, small: 2 nodes, 80 devices, 8 s of load, a slow client link and a node restart */
const s: Scenario = {
  ...smoke,
  topology: { ...smoke.topology, nodes: 2 },
  workload: { ...smoke.workload, users: 40 },
  durationMs: 8000,
  faults: [
    { kind: 'toxic', at: 1000, duration: 2000, link: 'client-link:node-1', toxic: { type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 150, jitter: 50 } } },
    { kind: 'restart', at: 4000, target: 'node-2' },
  ],
  checks: { ...smoke.checks, leaks: false },
  http: undefined,
  // sized for 8 s of load at smoke's 60 sends/s (~480 sends). No latency bound: with the
  // restart in 8 s of load, p99 is the restarted node's devices waiting for it (1.5–5.2 s
  // here with the machine shared), which says nothing about which fleet measured it
  thresholds: ['throughput.sent.total > 250'],
};

const verdicts = (r: RunResult) => ({
  pass: r.pass,
  checks: Object.fromEntries(r.report.checks.map((c) => [c.guarantee, c.ok])),
  thresholds: Object.fromEntries(r.report.thresholds.map((t) => [t.name, t.pass])),
});

function agent(url: string, token: string, name: string): Promise<number | null> {
  const c = spawn(process.execPath, [BIN, 'agent', '--control', url, '--name', name], { env: { ...process.env, IMSTORM_CONTROL_TOKEN: token }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(c);
  let err = '';
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) =>
    c.on('exit', (code) => {
      if (code !== 0) console.error(`agent ${name} exited ${code}: ${err}`);
      resolve(code);
    }),
  );
}

it('4 agents over TCP give the verdicts 4 local processes give, with every agent\'s latencies merged; on a broken server they fail it as local processes do', async () => {
  const local = await runScenario(s, { env: 'local', seed: 11, processes: 4, outRoot: out, log: () => {} });

  const token = 'test-token-0123456789abcdef';
  const pool = await RemoteAgents.listen({ host: '127.0.0.1', port: 0, token, agents: 4, waitMs: 30_000, log: () => {} });
  const exits = [0, 1, 2, 3].map((i) => agent(pool.url, token, `a${i}`));
  let remote: RunResult;
  let broken: RunResult;
  try {
    remote = await runScenario(s, { env: 'local', seed: 11, agents: pool, outRoot: out, log: () => {} });
    // the same agents take the next scenario's plan: a server that drops a message from replays
    // (4 s of load; node-1's devices cut off for a second, so they replay a backlog when they
    // reconnect — a dm's first message comes from the bus and reads no log)
    broken = await runScenario({ ...s, name: 'smoke-broken', durationMs: 4000, faults: [{ kind: 'cut', at: 1500, duration: 1000, link: 'client-link:node-1' }], topology: { ...s.topology, serverEnv: { ...s.topology.serverEnv, TEST_BUGS: 'drop_replay' } } }, { env: 'local', seed: 11, agents: pool, outRoot: out, log: () => {} });
  } finally {
    await pool.close();
  }
  // each agent exits 0 once the run says bye
  expect(await Promise.all(exits)).toEqual([0, 0, 0, 0]);

  expect(local.pass, local.report.verdict.failures.join('\n')).toBe(true);
  expect(verdicts(remote)).toEqual(verdicts(local));
  expect(remote.report.incomplete).toBeUndefined();
  // every agent held a share, and said how its clock compares
  const agents = remote.report.config.agents as Array<{ agent: string; devices: number; clock: { errorMs: number } }>;
  expect(agents.map((a) => a.agent).sort()).toEqual(['a0', 'a1', 'a2', 'a3']);
  expect(agents.map((a) => a.devices)).toEqual([20, 20, 20, 20]);
  for (const a of agents) expect(a.clock.errorMs).toBeGreaterThan(0);
  expect(remote.report.notes.join('\n')).toMatch(/clocks: .*send → delivered: \d+ receipt\(s\) with sender and receiver on the same agent \(one clock\), [1-9]\d* across agents \(offset-corrected, error within ±[\d.]+ ms\)\. order's connect-sequence rule takes a send as answered before a connect only when earlier by more than (?!0\.0 )\d+\.\d ms \(the two largest residual bounds\)/);
  // connect latencies come from the agents' HdrHistograms only: all 80 devices' first connects at least, merged
  const connect = (r: RunResult) => r.report.latency.metrics.find((m) => m.name === 'connect')!.count;
  expect(connect(remote)).toBeGreaterThanOrEqual(80);
  expect(connect(local)).toBeGreaterThanOrEqual(80);

  // the agent path cannot pass what it should fail: `lost` fails, naming the message
  expect(broken.pass).toBe(false);
  const lost = broken.report.checks.find((c) => c.guarantee === 'lost')!;
  expect(lost.ok).toBe(false);
  expect(lost.violations[0]!.message).toMatch(/^(dm|g):\S+ seq \d+ .* never reached member/);
}, 150_000);
