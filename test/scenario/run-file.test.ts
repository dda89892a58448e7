// `imstorm run ./file.ts`: a scenario file of one's own, importing from the public entry
// 'imstorm', run end to end through bin/imstorm.js (real processes, real Redis).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/imstorm.js');
// inside the repository, so `import … from 'imstorm'` resolves to the package itself
const dir = mkdtempSync(path.join(ROOT, 'test/scenario/.tmp-run-file-'));
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-run-file-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

function imstorm(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return path.relative(ROOT, p);
}

describe('imstorm run <file>', () => {
  it('runs the example scenario file end to end and writes its report', () => {
    const r = imstorm('run', './examples/cut-redis-link.ts', '--env', 'local', '--duration', '5s', '--seed', '7', '--out', out);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^cut-redis-link: PASS — thresholds 2\/2, guarantees 7\/7$/m);
    expect(r.stdout).toMatch(/report: .*cut-redis-link\/report\.html/);
  });

  it('a run the harness cannot finish says ERROR with the phase and exits 2 (no verdict), instead of a bare stack', () => {
    const f = file(
      'no-debug.ts',
      "import { defineScenario } from 'imstorm';\nexport default defineScenario({ name: 'no-debug', description: 'x', proves: ['x'], topology: { nodes: 1, redisBehindProxy: false, clientLinksBehindProxy: false, nodeEnv: { 'node-1': { DEBUG_ROUTES: '0' } } }, workload: { users: 2 }, durationMs: 1000 });\n",
    );
    const r = imstorm('run', f, '--env', 'local', '--seed', '7', '--out', out);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toMatch(/^no-debug: ERROR — no-debug stopped in phase "leak baseline": node-1: POST \/debug\/gc answered 404; leak checks need DEBUG_ROUTES=1 on the server; every node was still running$/m);
    expect(r.stderr).toMatch(/imstorm run: no-debug could not finish \(ERROR above\): no verdict on it/);
  });

  it.each([
    ['a missing file', () => './no/such/scenario.ts', /no scenario file at .*no\/such\/scenario\.ts/],
    ['a file without a default export', () => file('none.ts', "export const x = 1;\n"), /has no default export; write `export default defineScenario\(\{ … \}\)`/],
    ['a file that does not load', () => file('broken.ts', "import { nothing } from './nowhere.ts';\nexport default nothing;\n"), /cannot load .*broken\.ts: .*nowhere\.ts/],
    [
      'a scenario with a misspelt threshold',
      () => file('typo.ts', "import { defineScenario } from 'imstorm';\nexport default { name: 'typo', description: 'x', proves: ['x'], topology: { nodes: 1 }, workload: { users: 2 }, durationMs: 1000, thresholds: ['latency.sendToSnet.p99 < 5'] };\n"),
      /typo\.ts: invalid scenario "typo":\n\s+thresholds\.0: latency metric "sendToSnet"/,
    ],
    [
      // outside the repository, 'imstorm' still resolves (the file loads, and is judged on its content)
      'a scenario file outside the project, with a misspelt threshold',
      () => {
        const p = path.join(out, 'elsewhere.ts');
        writeFileSync(p, "import { defineScenario } from 'imstorm';\nexport default defineScenario({ name: 'elsewhere', description: 'x', proves: ['x'], topology: { nodes: 1 }, workload: { users: 2 }, durationMs: 1000, thresholds: ['latency.sendToSnet.p99 < 5'] });\n");
        return p;
      },
      /elsewhere\.ts: invalid scenario "elsewhere":\n\s+thresholds\.0: latency metric "sendToSnet"/,
    ],
  ])('%s: exit 2 with one clear line, nothing started', (_what, target, message) => {
    const r = imstorm('run', target(), '--env', 'local');
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/connecting/);
  });
});
