// `imstorm run --target` against servers the harness did not start: this file starts a real
// redis-server and two real server nodes itself (as a deployment would run them), plus a
// Toxiproxy-compatible API in front of them, and aims the run at their URLs. The correct
// server passes smoke (what a target cannot take is skipped and listed as not checked);
// nodes started with TEST_BUGS=drop_replay fail `lost` through the same path, with tokens
// from a --token-cmd (examples/mint-token.sh).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startToxiproxyServer, type ToxiproxyServer } from '../../harness/faults/proxy-server.ts';
import type { Report } from '../../harness/report/schema.ts';
import { runCommand } from '../../harness/scenario/cli.ts';
import { runScenario } from '../../harness/scenario/run.ts';
import { parseTargetFlags } from '../../harness/env/target.ts';
import smoke from '../../scenarios/smoke.ts';
import { startNode, type NodeHandle } from '../helpers/nodes.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { DEFAULT_JWT_SECRET } from '../helpers/tokens.ts';

const MINT = fileURLToPath(new URL('../../examples/mint-token.sh', import.meta.url));
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-target-'));
let redis: RedisHandle;
let nodes: NodeHandle[] = [];
let toxiproxy: ToxiproxyServer;
// what the nodes of a deployment would be configured with: smoke's server settings (the report notes it assumes them)
const SERVER_ENV = { ...smoke.topology.serverEnv, LOG_LEVEL: 'warn' };

beforeAll(async () => {
  redis = await startRedis();
  toxiproxy = await startToxiproxyServer({ port: 0 });
}, 30_000);
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  await toxiproxy?.close();
  await redis?.cleanup();
  rmSync(out, { recursive: true, force: true });
});

async function startNodes(env: Record<string, string | number>): Promise<string> {
  await Promise.all(nodes.map((n) => n.kill()));
  nodes = await Promise.all([0, 1].map(() => startNode({ redisUrl: redis.url, env })));
  return nodes.map((n) => n.wsUrl).join(',');
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const o: string[] = [];
  const e: string[] = [];
  const saved = process.env.JWT_SECRET;
  process.env.JWT_SECRET = DEFAULT_JWT_SECRET;
  try {
    const code = await runCommand.run(args, { out: (l) => o.push(l), err: (l) => e.push(l) });
    return { code, out: o.join('\n'), err: e.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.JWT_SECRET;
    else process.env.JWT_SECRET = saved;
  }
}

it('smoke through --target and the user\'s Toxiproxy: refused as written (naming the steps), then PASS with --skip-unsupported-faults and the report saying what was not checked', async () => {
  const target = await startNodes(SERVER_ENV);
  const base = ['smoke', '--target', target, '--toxiproxy-url', toxiproxy.url, '--seed', '7', '--clients', '40', '--duration', '8s', '--out', out];

  const refused = await cli(base);
  expect(refused.code).toBe(2);
  expect(refused.err).toContain('smoke cannot run as written against --target: 2 part(s) need what the target does not give:');
  expect(refused.err).toContain('  - toxic latency on redis-link:node-2 at 12000 ms: redis-link:node-2 is inside the deployment (node → Redis): no proxy of the harness is on it');
  expect(refused.err).toContain('  - restart node-3 at 20000 ms: there is no node-3: --target names 2 server(s)');
  // nothing left behind on the user's Toxiproxy
  expect([...toxiproxy.proxies.list()].length).toBe(0);

  const r = await cli([...base, '--skip-unsupported-faults']);
  expect(r.err).toBe('');
  expect(r.code, r.out).toBe(0);
  const dir = path.join(out, readdirSync(out).find((d) => d.endsWith('-smoke'))!);
  const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report;
  expect(report.verdict.pass).toBe(true);
  expect(report.environment.provider).toBe('target');
  expect(report.environment.nodes).toEqual(nodes.map((n, i) => ({ id: `node-${i + 1}`, url: n.wsUrl })));
  // the client-link fault ran, through a proxy on the given Toxiproxy
  expect(report.faults.map((f) => `${f.kind} ${f.target}`)).toEqual(['toxic:latency client-link:node-1']);
  // every guarantee it could judge, judged; `nodes` is not among them, and the report says so
  expect(report.checks.map((c) => c.guarantee).sort()).toEqual(['duplicate', 'inflight', 'leaks', 'lost', 'order', 'presence', 'unexpected', 'unseen']);
  expect(report.checks.find((c) => c.guarantee === 'lost')!.checked).toBeGreaterThan(100);
  expect(report.notChecked).toEqual([
    "nodes: the target's processes are not watched from here (an exit or restart of theirs is invisible; the fleet sees only its connections close)",
    'fault step not run: toxic latency on redis-link:node-2 at 12000 ms (redis-link:node-2 is inside the deployment (node → Redis): no proxy of the harness is on it)',
    'fault step not run: restart node-3 at 20000 ms (there is no node-3: --target names 2 server(s))',
    "leaks: Redis keys of gone connections (the target's Redis is not reached)",
  ]);
  const summary = readFileSync(path.join(dir, 'summary.md'), 'utf8');
  expect(summary).toContain('**Not checked in this run** (4):');
  expect(summary).toContain('- fault step not run: restart node-3 at 20000 ms');
  expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('<h3>Not checked in this run</h3>');
  expect(readFileSync(path.join(dir, 'junit.xml'), 'utf8')).toContain('<testsuite name="imstorm.smoke.not-checked" tests="4" failures="0" errors="0" skipped="4"');
  expect(r.out).toContain('  not checked in this run (4):');
  // the HTTP phase ran against the target's HTTP base, derived from its ws URL
  expect(report.http.length).toBe(3);
}, 60_000);

it('control: nodes with TEST_BUGS=drop_replay fail `lost` through --target, tokens from --token-cmd', async () => {
  const target = await startNodes({ ...SERVER_ENV, TEST_BUGS: 'drop_replay' });
  const spec = parseTargetFlags({ target, tokenCmd: MINT, tokenCmdTimeout: '10' });
  const saved = process.env.JWT_SECRET;
  process.env.JWT_SECRET = DEFAULT_JWT_SECRET; // for the script, not the harness
  try {
    const r = await runScenario(
      { ...smoke, workload: { ...smoke.workload, users: 20 }, durationMs: 4000, faults: [], thresholds: [], checks: { ...smoke.checks, leaks: false, presence: false }, http: undefined },
      // the first test's seed, on the same Redis: a target keeps what earlier runs left, so each run names its users and groups afresh (else: group smoke7g0 exists already, 409)
      { env: 'auto', seed: 7, outRoot: out, target: spec, log: () => {} },
    );
    expect(r.pass).toBe(false);
    const lost = r.report.checks.find((c) => c.guarantee === 'lost')!;
    expect(lost.ok).toBe(false);
    expect(lost.violations[0]!.message).toMatch(/^(dm|g):\S+ seq \d+ .* never reached member \S+ on device \S+\/d\d/);
    for (const g of ['duplicate', 'order', 'unexpected']) expect(r.report.checks.find((c) => c.guarantee === g)!.ok, g).toBe(true);
    expect(r.report.notes.some((n) => /^tokens: --token-cmd ran 40 times in [\d.]+ s/.test(n))).toBe(true);
    expect(r.report.notChecked![0]).toMatch(/^nodes: the target's processes are not watched/);
  } finally {
    if (saved === undefined) delete process.env.JWT_SECRET;
    else process.env.JWT_SECRET = saved;
  }
}, 60_000);
