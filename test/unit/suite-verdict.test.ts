// The suite's last lines: a CI log is often read from its tail alone, so the tail names every
// failed scenario, why it failed and how to repeat it.
import { describe, expect, it } from 'vitest';
import { suiteVerdictLines } from '../../harness/scenario/cli.ts';

describe('suiteVerdictLines', () => {
  it('a suite that passed: one line', () => {
    expect(suiteVerdictLines(19, [], [], 518_000)).toEqual(['suite: 19 of 19 scenarios PASS in 8 min 38 s']);
  });

  it('each failed scenario again under the verdict, with its failures, the command that repeats it and its summary', () => {
    const lines = suiteVerdictLines(
      19,
      [{ name: 'redis-outage', seed: 1620186931, summary: 'reports/2026-12-04T15-20-00Z-redis-outage/summary.md', failures: ['guarantee presence: 2 violation(s); first: u3 offline for u7 at +14.2 s'] }],
      ['hostile-ci'],
      521_000,
    );
    expect(lines).toEqual([
      'suite: 17 of 19 scenarios PASS (FAIL: redis-outage; ERROR: hostile-ci) in 8 min 41 s',
      '  redis-outage: repeat with `imstorm run redis-outage --seed 1620186931`; reports/2026-12-04T15-20-00Z-redis-outage/summary.md',
      '    → guarantee presence: 2 violation(s); first: u3 offline for u7 at +14.2 s',
    ]);
  });
});
