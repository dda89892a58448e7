import { describe, expect, it } from 'vitest';
import { check } from '../../harness/checks/reclaim.ts';
import type { ConnFact } from '../../harness/model/facts.ts';
import { close, input, t } from './build.ts';

const welcome = (client: string, conn: string, at: number, node: string): ConnFact[] => [
  { k: 'conn', client, conn, event: 'connect', at: t(at) },
  { k: 'conn', client, conn, event: 'welcome', at: t(at + 1), node },
];

describe('reclaim (hand-made)', () => {
  const facts = [welcome('u1/d1', 'c1', 0, 'node-1'), welcome('u2/d1', 'c2', 0, 'node-1'), close('u2/d1', 'c2', 500), welcome('u3/d1', 'c3', 0, 'node-2')];

  it('passes a blackhole whose node read 0 connections in time, and says how fast', () => {
    const v = check(input(facts, { reclaims: [{ link: 'client-link:node-1', node: 'node-1', start: t(1000), deadline: t(4000), connectionsAtStart: 1, reclaimedAt: t(3200), connectionsAtDeadline: 0 }] }));
    expect(v).toMatchObject({ guarantee: 'reclaim', ok: true, checked: 1 });
    expect(v.summary).toBe('ok: 1 blackholed client link measured; slowest reclaim 2200 ms after the blackhole began');
  });

  it('flags a node still holding connections at the deadline, naming those that were behind the link', () => {
    const v = check(input(facts, { reclaims: [{ link: 'client-link:node-1', node: 'node-1', start: t(1000), deadline: t(4000), connectionsAtStart: 1, connectionsAtDeadline: 1 }] }));
    expect(v.violationCount).toBe(1);
    // c2 had closed before the blackhole, c3 is on node-2
    expect(v.violations[0]!.message).toBe('node-1 still held 1 connection 3000 ms after client-link:node-1 was blackholed at t+1.000s (it had 1; the truth is 0): the connections behind it: c1 (u1/d1)');
    expect(v.violations[0]!.trail.some((f) => 'conn' in f && f.conn === 'c1')).toBe(true);
  });
});
