// `imstorm run --target`: the flags, --token-cmd's output checks, what of a scenario a
// target can take, and the leak checker on /metrics-only samples. The real runs against
// real nodes are test/scenario/target.test.ts.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpBaseOf, parseTargetFlags, type TargetSpec } from '../../harness/env/target.ts';
import { runTokenCmd, tokenProblem, tokenSource } from '../../harness/env/target-tokens.ts';
import { planForTarget, refusal } from '../../harness/scenario/target-plan.ts';
import { checkLeakSamples } from '../../harness/checks/index.ts';
import { runCommand } from '../../harness/scenario/cli.ts';
import { runSubcommand } from '../../harness/subcommand.ts';
import { mintToken } from '../../harness/util/tokens.ts';
import { connectTargetEnv } from '../../harness/env/target-env.ts';
import { connectRemoteNode } from '../../harness/env/remote-node.ts';
import { freePort } from '../../harness/env/procs.ts';
import smoke from '../../scenarios/smoke.ts';

const SECRET = 'x'.repeat(32);
const flags = (over: Parameters<typeof parseTargetFlags>[0] = {}) => parseTargetFlags({ target: 'ws://127.0.0.1:8080/ws,ws://127.0.0.1:8081/ws', jwtSecret: SECRET, ...over });

describe('parseTargetFlags', () => {
  it('derives each HTTP base from its ws URL (http for ws, https for wss, the path without /ws), or takes --http in order', () => {
    const s = flags();
    expect(s.nodes).toEqual([
      { id: 'node-1', wsUrl: 'ws://127.0.0.1:8080/ws', httpUrl: 'http://127.0.0.1:8080' },
      { id: 'node-2', wsUrl: 'ws://127.0.0.1:8081/ws', httpUrl: 'http://127.0.0.1:8081' },
    ]);
    expect(s.httpDerived).toBe(true);
    expect(httpBaseOf(new URL('wss://chat.example.com/im/ws'))).toBe('https://chat.example.com/im');
    const h = flags({ http: 'http://10.0.0.1:9000/,http://10.0.0.2:9000' });
    expect(h.nodes.map((n) => n.httpUrl)).toEqual(['http://10.0.0.1:9000', 'http://10.0.0.2:9000']);
    expect(h.httpDerived).toBe(false);
    expect(h.auth).toEqual({ kind: 'jwt', secret: SECRET });
  });

  it.each([
    [{ target: 'http://127.0.0.1:8080/ws' }, /^--target: "http:\/\/127\.0\.0\.1:8080\/ws" must start with ws:\/\/ or wss:\/\//],
    [{ target: 'not a url' }, /^--target: "not a url" is not a URL; give e\.g\. ws:\/\//],
    [{ target: ' , ' }, /^--target: give one or more WebSocket URLs/],
    [{ target: 'ws://a:1/ws,ws://a:1/ws' }, /^--target: ws:\/\/a:1\/ws is given twice/],
    [{ target: 'ws://a:1/chat' }, /^--target: cannot derive the HTTP base URL of ws:\/\/a:1\/chat .* give --http/],
    [{ http: 'http://a:1' }, /^--http: 1 URL\(s\) for 2 --target URL\(s\); give one HTTP base URL per target/],
    [{ http: 'ftp://a:1,http://b:2' }, /^--http: "ftp:\/\/a:1" must start with http:\/\/ or https:\/\//],
    [{ jwtSecret: undefined }, /^--target needs the users' tokens: set JWT_SECRET .* or give --token-cmd/],
    [{ jwtSecret: 'short' }, /^--jwt-secret has 5 bytes; the server accepts no secret under 32/],
    [{ tokenCmd: 'echo x' }, /^--jwt-secret and --token-cmd both given/],
    [{ jwtSecret: undefined, tokenCmd: '  ' }, /^--token-cmd is empty/],
    [{ jwtSecret: undefined, tokenCmd: 'x', tokenCmdTimeout: '0' }, /^--token-cmd-timeout: "0" must be a number of seconds/],
    [{ tokenCmdTimeout: '5' }, /^--token-cmd-timeout only applies with --token-cmd/],
    [{ toxiproxyUrl: 'tcp://a:8474' }, /^--toxiproxy-url: "tcp:\/\/a:8474" must start with http:\/\/ or https:\/\//],
    [{ target: 'wss://a/ws', toxiproxyUrl: 'http://a:8474' }, /^--toxiproxy-url with wss:\/\/ targets/],
    [{ target: 'ws://u:p@a:1/ws' }, /^--target: .* carries credentials/],
    [{ conflicting: ['--nodes'] }, /^--nodes cannot be used with --target/],
  ] as const)('refuses %j naming the flag and the fix', (over, message) => {
    expect(() => flags(over as Parameters<typeof parseTargetFlags>[0])).toThrow(message);
  });

  it('takes JWT_SECRET from the environment when no flag gives tokens', () => {
    expect(flags({ jwtSecret: undefined, envJwtSecret: SECRET }).auth).toEqual({ kind: 'jwt', secret: SECRET });
  });
});

describe('reaching a target', () => {
  it('a Toxiproxy that does not answer, or a target not ready in time: the message names the flag and the URL', async () => {
    const port = await freePort();
    await expect(connectTargetEnv({ ...flags(), toxiproxyUrl: `http://127.0.0.1:${port}` })).rejects.toThrow(new RegExp(`^--toxiproxy-url: no Toxiproxy API answers at http://127\\.0\\.0\\.1:${port} \\(GET /version: .*\\); start one in front of the targets`));
    await expect(connectRemoteNode({ id: 'node-1', wsUrl: `ws://127.0.0.1:${port}/ws`, httpUrl: `http://127.0.0.1:${port}` }, { timeoutMs: 600 })).rejects.toThrow(new RegExp(`^--target node-1 \\(ws://127\\.0\\.0\\.1:${port}/ws\\): not ready within 0\\.6 s at http://127\\.0\\.0\\.1:${port}/readyz \\(.*ECONNREFUSED.*\\); check the server is up`));
  });
});

describe('--token-cmd', () => {
  const later = Date.now() + 3600_000;
  it('checks what a command printed: one JWT for that sub and dev, expiring after the run', async () => {
    const good = await mintToken(SECRET, 'alice', { dev: 'd1', expiresIn: '2h' });
    expect(tokenProblem(good, 'alice', 'd1', later)).toBeNull();
    expect(tokenProblem('', 'alice', 'd1', later)).toBe('printed nothing');
    expect(tokenProblem(`${good} extra`, 'alice', 'd1', later)).toMatch(/^printed more than one word/);
    expect(tokenProblem('hello', 'alice', 'd1', later)).toMatch(/not a JWT/);
    expect(tokenProblem(good, 'bob', 'd1', later)).toBe('printed a token for sub "alice", not bob: use IMSTORM_USER');
    expect(tokenProblem(good, 'alice', 'd2', later)).toMatch(/^printed a token for device "d1", not d2: put IMSTORM_DEVICE in its `dev` claim/);
    expect(tokenProblem(await mintToken(SECRET, 'alice', { dev: 'd1', expiresIn: '1m' }), 'alice', 'd1', later)).toMatch(/expires at .* before the run can end/);
    // no dev claim is the server's default device
    expect(tokenProblem(await mintToken(SECRET, 'alice', { expiresIn: '2h' }), 'alice', 'default', later)).toBeNull();
  });

  it('runs the command with IMSTORM_USER and IMSTORM_DEVICE; a failure, a hang past the deadline or bad output names --token-cmd, the user and device', async () => {
    const good = await mintToken(SECRET, 'alice', { dev: 'd1', expiresIn: '2h' });
    await expect(runTokenCmd(`test "$IMSTORM_USER/$IMSTORM_DEVICE" = alice/d1 && printf '%s\\n' '${good}'`, 5000, 'alice', 'd1', later)).resolves.toBe(good);
    await expect(runTokenCmd('echo nope >&2; exit 3', 5000, 'alice', 'd1', later)).rejects.toThrow(/^--token-cmd for user alice device d1: exited with code 3; stderr: nope; fix the command/);
    const t0 = Date.now();
    await expect(runTokenCmd('sleep 5', 300, 'alice', 'd1', later)).rejects.toThrow(/^--token-cmd for user alice device d1: no answer within 0\.3 s \(killed\)/);
    expect(Date.now() - t0).toBeLessThan(3000);
    await expect(runTokenCmd(`printf '%s' '${good}'`, 5000, 'bob', 'd1', later)).rejects.toThrow(/^--token-cmd for user bob device d1: printed a token for sub "alice", not bob/);
  });

  it('a token source stops the run at the first call that fails', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-tokcmd-'));
    try {
      // each call leaves a file; u1 fails at once while u2 takes 0.3 s to succeed: after u1's failure, u3's call never starts
      const u2 = await mintToken(SECRET, 'u2', { dev: 'd0', expiresIn: '2h' });
      const src = tokenSource({ kind: 'cmd', command: `touch "${dir}/$IMSTORM_USER"; [ "$IMSTORM_USER" = u1 ] && exit 1; sleep 0.3; echo ${u2}`, timeoutMs: 5000 }, { validUntilMs: later, concurrency: 2 });
      await expect(src.prefetch(['u1', 'u2', 'u3'].map((user) => ({ user, device: 'd0' })))).rejects.toThrow(/^--token-cmd for user u1 device d0: exited with code 1/);
      await new Promise((r) => setTimeout(r, 800));
      expect(readdirSync(dir).sort()).toEqual(['u1', 'u2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('planForTarget', () => {
  const reach = { debugRoutes: true, metrics: true, problems: [] };
  const spec = (over: Partial<TargetSpec> = {}): TargetSpec => ({ ...flags(), ...over });

  it("smoke against two targets without a Toxiproxy: every fault step is refused, each named with why", () => {
    const plan = planForTarget(smoke, spec(), reach);
    expect(plan.faults).toEqual([]);
    expect(refusal(smoke, plan)).toBe(
      [
        'smoke cannot run as written against --target: 3 part(s) need what the target does not give:',
        '  - toxic latency on client-link:node-1 at 5000 ms: client-link:node-1 needs a Toxiproxy in front of the target: give --toxiproxy-url',
        '  - toxic latency on redis-link:node-2 at 12000 ms: redis-link:node-2 is inside the deployment (node → Redis): no proxy of the harness is on it',
        '  - restart node-3 at 20000 ms: there is no node-3: --target names 2 server(s)',
        'Give what they need (--toxiproxy-url for client-link faults), run a scenario without them, or pass --skip-unsupported-faults to run the rest (the report lists each part not run).',
      ].join('\n'),
    );
    expect(plan.notChecked[0]).toMatch(/^nodes: the target's processes are not watched/);
    expect(plan.notChecked).toContain('leaks: Redis keys of gone connections (the target\'s Redis is not reached)');
    expect(plan.notes[0]).toBe("target: the harness sets nothing on a target; the checks assume it runs with the scenario's server settings PRESENCE_TTL_MS=5000, SEND_RATE=200, SEND_BURST=400");
  });

  it('with a Toxiproxy, client-link faults run; without debug routes, blackholes do not and leaks judge only the gauge', () => {
    const s = { ...smoke, faults: [...smoke.faults, { kind: 'blackhole' as const, at: 1000, duration: 2000, link: 'client-link:node-2', reclaimWithinMs: 1000 }] };
    const plan = planForTarget(s, spec({ toxiproxyUrl: 'http://127.0.0.1:8474' }), { debugRoutes: false, metrics: true, problems: ['node-1 GET /debug/state: 404'] });
    expect(plan.faults.map((f) => f.kind)).toEqual(['toxic']);
    expect(plan.unsupported.map((u) => u.step.kind)).toEqual(['toxic', 'restart', 'blackhole']);
    expect(plan.notChecked).toContain('fault step not run: blackhole client-link:node-2 at 1000 ms (the reclaim bound is read from GET /debug/state, which the target does not serve (DEBUG_ROUTES))');
    expect(plan.notChecked.some((x) => x.startsWith('leaks: heap after GC, open fds and handles'))).toBe(true);
  });
});

describe('leaks on /metrics-only samples', () => {
  const sample = (node: string, connections: number, heap: number) => ({ at: Date.now(), node, connections, openFds: 40, heapUsedAfterGc: heap, activeHandles: {}, gaugeOnly: true as const });
  it('judges the open-connection gauge and nothing else', () => {
    const ok = checkLeakSamples({ baseline: [sample('node-1', 0, 10e6)], after: [sample('node-1', 0, 90e6)] });
    expect(ok.ok).toBe(true);
    expect(ok.summary).toMatch(/only the open-connection gauge judged for node-1/);
    const bad = checkLeakSamples({ baseline: [sample('node-1', 0, 10e6)], after: [sample('node-1', 3, 10e6)] });
    expect(bad.ok).toBe(false);
    expect(bad.violations[0]!.message).toBe('node-1: open-connection gauge is 3 after every client left (must be 0)');
  });
});

describe('imstorm run --target flags', () => {
  const run = async (args: string[]) => {
    const err: string[] = [];
    // no JWT_SECRET from whoever runs the tests
    const saved = process.env.JWT_SECRET;
    delete process.env.JWT_SECRET;
    try {
      // as the CLI dispatches it: a UsageError is printed with the usage, exit 2
      const code = await runSubcommand(runCommand, args, { out: () => {}, err: (l) => err.push(l) });
      return { code, err: err.join('\n').split('\n')[0] };
    } finally {
      if (saved !== undefined) process.env.JWT_SECRET = saved;
    }
  };
  it.each([
    [['smoke', '--target', 'ws://127.0.0.1:1/ws'], /^imstorm run: --target needs the users' tokens: set JWT_SECRET/],
    [['smoke', '--http', 'http://127.0.0.1:1'], /^imstorm run: --http only applies with --target/],
    [['smoke', '--target', 'ws://127.0.0.1:1/ws', '--nodes', '3', '--jwt-secret', SECRET], /^imstorm run: --nodes cannot be used with --target/],
    [['smoke', '--target', 'ws://127.0.0.1:1/ws', '--env', 'local', '--jwt-secret', SECRET], /^imstorm run: --env cannot be used with --target/],
    [['smoke', '--target', 'ws://10.1.1.1:1/ws', '--source-addresses', '2', '--jwt-secret', SECRET], /^imstorm run: --source-addresses spreads connections over 127\.0\.0\.2/],
  ])('%j: exit 2 naming the flag', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});
