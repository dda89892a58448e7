import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { defineScenario } from '../../harness/scenario/define.ts';
import { RunSetupError, runScenario } from '../../harness/scenario/run.ts';

/**
 * A fault step the proxy API refuses (a latency of 1.5 ms: Toxiproxy's attributes are
 * integers, so the API answers 400) ends the run as a setup error naming the step and the
 * API's reason — `imstorm run` exits 2 for it — instead of an unhandled rejection (vitest
 * fails a test on one) or a judged run. The run stops at the failure, not after its duration.
 */
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-faulterr-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

it('a proxy API error in a fault step: RunSetupError with the step and the reason, at once', async () => {
  const s = defineScenario({
    name: 'bad-fault',
    description: 'a toxic the proxy API refuses',
    proves: ['a failed fault step is a setup error'],
    topology: { nodes: 1, redisBehindProxy: true, clientLinksBehindProxy: true },
    workload: { users: 4, devicesPerUser: 1, dmsPerUser: 1, sendRate: 5 },
    durationMs: 60_000,
    faults: [{ kind: 'toxic', at: 200, duration: 1000, link: 'redis-link:node-1', toxic: { type: 'latency', attributes: { latency: 1.5 } } }],
    checks: { presence: false, leaks: false },
  });
  const started = Date.now();
  const err = await runScenario(s, { env: 'local', seed: 5, outRoot: out, log: () => {} }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RunSetupError);
  expect((err as Error).message).toMatch(/^fault step failed: toxic latency \{"latency":1\.5\} on redis-link:node-1 at 200 ms: .*400/s);
  expect(Date.now() - started).toBeLessThan(30_000);
});
