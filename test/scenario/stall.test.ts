import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineScenario } from '../../harness/scenario/define.ts';
import { RunSetupError, runScenario } from '../../harness/scenario/run.ts';

const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-stall-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/**
 * "Nothing hangs silently": a fleet phase that waits on every device fails when no device
 * has been welcomed or synced for a while, naming what stalled — here a node that accepts
 * 4 connections while 12 devices want one (the rest are refused 1013 and retry for ever).
 */
describe('a connect phase that stops moving', () => {
  it('fails as a setup error within the stall window, saying how many devices synced and what to check', async () => {
    const s = defineScenario({
      name: 'stall',
      description: 'more devices than the node accepts',
      proves: ['the run says what stalled instead of hanging'],
      topology: { nodes: 1, redisBehindProxy: false, clientLinksBehindProxy: false, serverEnv: { MAX_CONNECTIONS: 4, ADMIN_PORT: 0 } },
      workload: { users: 12, devicesPerUser: 1, dmsPerUser: 1, sendRate: 1, reconnect: { baseMs: 100, capMs: 300, attempts: 1000 } },
      durationMs: 2000,
      checks: { presence: false, leaks: false },
    });
    const started = Date.now();
    const err = await runScenario(s, { env: 'local', seed: 5, outRoot: out, log: () => {}, stallMs: 3000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunSetupError);
    expect((err as Error).message).toMatch(/^connecting stalled: nothing moved for 3 s — [1-4] of 12 devices synced, [1-4] connections open.* Check the nodes' last log lines/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
