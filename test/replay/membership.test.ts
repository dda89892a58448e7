// A capture's group joins and leaves, replayed at their recorded times through the same
// path as a scenario's membership churn (issue 12): real nodes, Redis and fleet. The
// replay makes as many changes as the original, and the checkers judge its deliveries by
// them (a joiner receiving a group's messages is `unexpected` unless its join is known).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { defineScenario } from '../../harness/scenario/define.ts';
import { runScenario } from '../../harness/scenario/run.ts';
import { replay } from '../../harness/replay/replay.ts';

const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-replay-members-'));
const captureDir = path.join(out, 'capture');
afterAll(() => rmSync(out, { recursive: true, force: true }));
const run = { env: 'local' as const, outRoot: out, log: () => {} };

it('joins and leaves captured during the load are replayed at their times, as member facts the checkers use', async () => {
  const original = await runScenario(
    defineScenario({
      name: 'members-captured',
      description: 'captured membership churn',
      proves: ['(the capture)'],
      topology: { nodes: 2, clientLinksBehindProxy: false, serverEnv: { CAPTURE_DIR: captureDir } },
      workload: { users: 12, devicesPerUser: 1, dmsPerUser: 0, groups: 3, groupSize: 5, sendRate: 30, bodyBytes: 64, ack: 'batched' },
      membership: { changesPerSec: 4 },
      durationMs: 4_000,
      checks: { presence: false, leaks: false },
    }),
    { ...run, seed: 3 },
  );
  expect(original.pass).toBe(true);
  const r = await replay(captureDir, { speed: 1, extraFaults: [], impliedFaults: true, serverEnv: {} }, run);
  const changes = r.scenario.workload.recorded!.membership;
  expect(changes.length).toBeGreaterThan(3);
  expect(changes.every((c, i) => i === 0 || c.at >= changes[i - 1]!.at)).toBe(true);
  // made again: as many changes in the replay's window as in the original's
  expect(r.replay!.membershipChanges).toBe(r.original!.membershipChanges);
  expect(r.original!.membershipChanges).toBe(changes.length);
  // judged with them: no delivery to a non-member, nothing lost across the changes
  expect(r.result.report.verdict.failures).toEqual([]);
  const unexpected = r.result.report.checks.find((c) => c.guarantee === 'unexpected')!;
  expect(unexpected.ok).toBe(true);
}, 120_000);
