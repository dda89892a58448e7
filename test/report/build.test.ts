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

  it('a run with a lost fleet agent is incomplete: it never passes, and says why in the failures', () => {
    const ok = buildReport({ scenario: 'x', seed: 1, startedAt: 0, endedAt: 1000, verdicts: [] });
    expect(ok.verdict.pass).toBe(true);
    expect(ok.incomplete).toBeUndefined();
    const lost = 'agent a2 lost at t+5.0s in phase "load" (its control connection closed (code 1006)); its 20 devices\' facts up to then are kept, and the run is incomplete';
    const r = buildReport({ scenario: 'x', seed: 1, startedAt: 0, endedAt: 1000, verdicts: [], incomplete: [lost] });
    expect(r.verdict.pass).toBe(false);
    expect(r.incomplete).toEqual([lost]);
    expect(r.verdict.failures).toEqual([`run incomplete: ${lost}`]);
  });
});
