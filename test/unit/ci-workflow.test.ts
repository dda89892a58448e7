// .github/workflows/imstorm.yml, the CI example README "In CI pipelines" documents: it must be
// a workflow GitHub accepts (checked against the published workflow schema by
// @action-validator/core), run a suite that exists, and read the files a report writes.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { suites } from '../../scenarios/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKFLOW = path.join(ROOT, '.github/workflows/imstorm.yml');
// a CommonJS package with a WebAssembly module beside it
const { validateWorkflow } = createRequire(import.meta.url)('@action-validator/core') as typeof import('@action-validator/core');

type Step = { name?: string; run?: string; uses?: string; env?: Record<string, string>; with?: Record<string, string> };

function schemaErrors(text: string): string[] {
  return validateWorkflow(text).errors.map((e) => `${'path' in e ? e.path : ''} ${e.title}: ${e.detail ?? ''}`);
}

describe('the GitHub Actions example', () => {
  const text = readFileSync(WORKFLOW, 'utf8');
  const steps = (parse(text) as { jobs: { scenarios: { steps: Step[] } } }).jobs.scenarios.steps;

  it('is a valid workflow by the published schema (and the validator does reject a broken one)', () => {
    expect(schemaErrors(text)).toEqual([]);
    expect(schemaErrors(text.replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest')).length).toBeGreaterThan(0);
  });

  it('runs a suite that exists, with containers, and publishes the files each report writes', () => {
    const run = steps.find((s) => s.run?.includes('imstorm run'))!;
    const suite = /imstorm run (\S+)/.exec(run.run!)![1]!;
    expect(suites.has(suite), `suite ${suite}`).toBe(true);
    expect(run.env?.IMSTORM_ENV).toBe('containers');
    const out = /--out (\S+)/.exec(run.run!)![1]!;
    const joined = steps.map((s) => `${s.run ?? ''} ${JSON.stringify(s.with ?? {})}`).join('\n');
    for (const file of ['summary.md', 'junit.xml']) expect(joined).toContain(`${out}/*/${file}`);
  });

  it('`imstorm run` takes the provider from IMSTORM_ENV, as the workflow relies on (a bad value is named)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/imstorm.js'), 'run', 'no-such-scenario'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, IMSTORM_ENV: 'kubernetes' },
    });
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--env \(or IMSTORM_ENV\) must be one of auto, containers, local, external/);
  });
});
