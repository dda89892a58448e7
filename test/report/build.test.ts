import { describe, expect, it } from 'vitest';
import { Findings } from '../../harness/checks/verdict.ts';
import { buildReport } from '../../harness/report/build.ts';

describe('buildReport', () => {
  it('counts every violation a checker found, not only the witnesses it kept', () => {
    const f = new Findings();
    for (let i = 0; i < 250; i++) f.add(i, () => ({ message: `violation ${i}`, first: { k: 'synthetic' } as never, at: i, trail: [], trailOmitted: 0, faultWindow: [] }));
    const verdict = f.verdict('lost', 1000, 'synthetic', 100);
    expect(verdict.violations).toHaveLength(100);
    const report = buildReport({ scenario: 'many', seed: 1, startedAt: 0, endedAt: 1000, verdicts: [verdict] });
    const lost = report.checks.find((c) => c.guarantee === 'lost')!;
    expect(lost.violationsTotal).toBe(250);
    expect(lost.violations.length).toBeLessThanOrEqual(100);
  });
});
