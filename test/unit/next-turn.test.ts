// settledResources: a leak sample's handles once this turn's queued immediates ran. A CI run
// of the half-open scenario failed its leak check on "1 active Immediate handles after every
// client left, baseline 0": the sample had counted a turn's own pending cork release.
import { describe, expect, it } from 'vitest';
import { settledResources } from '../../server/util/next-turn.ts';

const immediates = (r: string[]) => r.filter((t) => t === 'Immediate').length;

describe('settledResources', () => {
  it('does not count an immediate queued earlier in the same turn (it has run by then)', async () => {
    const before = immediates(process.getActiveResourcesInfo());
    setImmediate(() => {});
    expect(immediates(process.getActiveResourcesInfo())).toBe(before + 1);
    expect(immediates(await settledResources())).toBe(before);
  });

  it('does not count an immediate queued after its own in the same turn', async () => {
    const before = immediates(process.getActiveResourcesInfo());
    const sample = settledResources();
    setImmediate(() => {});
    expect(immediates(await sample)).toBe(before);
  });

  it('still counts an immediate that re-arms itself every turn, and timers', async () => {
    let turns = 0;
    const loop = () => {
      if (++turns < 50) setImmediate(loop);
    };
    setImmediate(loop);
    const t = setTimeout(() => {}, 10_000);
    try {
      const r = await settledResources();
      expect(immediates(r)).toBeGreaterThanOrEqual(1);
      expect(r).toContain('Timeout');
    } finally {
      clearTimeout(t);
      turns = 50;
    }
  });
});
