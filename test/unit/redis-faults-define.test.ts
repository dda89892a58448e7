import { describe, expect, it } from 'vitest';
import { defineScenario, type ScenarioInput } from '../../harness/scenario/define.ts';
import { windowNode } from '../../harness/scenario/inflight-windows.ts';

const base: ScenarioInput = { name: 'redis', description: 'Redis outages', proves: ['nothing'], topology: { nodes: 2 }, workload: { users: 2 }, durationMs: 5000 };

describe('the stop fault kind is checked when a scenario is defined', () => {
  it('accepts Redis stopped for a while', () => {
    const s = defineScenario({ ...base, faults: [{ kind: 'stop', at: 1000, target: 'redis', restartAfter: 2000 }] });
    expect(s.faults).toEqual([{ kind: 'stop', at: 1000, target: 'redis', restartAfter: 2000 }]);
    expect(windowNode(s.faults[0]!)).toBeUndefined();
  });

  it.each([
    [{ kind: 'stop', at: 1000, target: 'node-1', restartAfter: 2000 }, /faults\.0\.target: must be 'redis' \(a node is stopped and started again by kind 'restart'\)/],
    [{ kind: 'stop', at: 1000, target: 'redis' }, /faults\.0\.restartAfter: /],
    [{ kind: 'stop', at: 1000, target: 'redis', restartAfter: 0 }, /faults\.0\.restartAfter: /],
    [{ kind: 'stop', at: -5, target: 'redis', restartAfter: 100 }, /faults\.0\.at: /],
  ])('%j fails, naming the field', (step, message) => {
    expect(() => defineScenario({ ...base, faults: [step as never] })).toThrow(message);
  });
});

describe('topology.volatileRedis is checked when a scenario is defined', () => {
  const volatile = { ...base, topology: { nodes: 2, volatileRedis: true } };

  it('defaults to a persistent Redis; dms only with a volatile one', () => {
    expect(defineScenario(base).topology.volatileRedis).toBe(false);
    expect(defineScenario({ ...volatile, workload: { users: 4, dmsPerUser: 2 } }).topology.volatileRedis).toBe(true);
  });

  it.each([
    [{ workload: { users: 4, groups: 1, groupSize: 3 } }, /topology\.volatileRedis forgets every group when Redis restarts empty, but workload\.groups is 1: set workload\.groups to 0/],
    [{ membership: { changesPerSec: 2 } }, /topology\.volatileRedis forgets group membership on a restart: drop `membership`/],
    [{ topology: { nodes: 2, volatileRedis: true, serverEnv: { ALLOW_VOLATILE_STORE: 0 } } }, /drop topology\.serverEnv\.ALLOW_VOLATILE_STORE \(set to 1 by itself\), got 0/],
    [{ topology: { nodes: 2, volatileRedis: 'yes' } }, /topology\.volatileRedis: /],
  ])('%j fails, naming the field and the fix', (over, message) => {
    expect(() => defineScenario({ ...volatile, ...(over as Partial<ScenarioInput>) })).toThrow(message);
  });
});
