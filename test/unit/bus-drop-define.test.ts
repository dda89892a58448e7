import { describe, expect, it } from 'vitest';
import { defineScenario, type ScenarioInput } from '../../harness/scenario/define.ts';
import { windowNode } from '../../harness/scenario/inflight-windows.ts';

const base: ScenarioInput = { name: 'bus', description: 'bus-drop steps', proves: ['nothing'], topology: { nodes: 3 }, workload: { users: 2 }, durationMs: 5000 };

describe('the bus-drop fault kind is checked when a scenario is defined', () => {
  it('accepts node-N of the topology', () => {
    expect(defineScenario({ ...base, faults: [{ kind: 'bus-drop', at: 1000, target: 'node-3' }] }).faults).toEqual([{ kind: 'bus-drop', at: 1000, target: 'node-3' }]);
  });

  it.each([
    [{ kind: 'bus-drop', at: 1000, target: 'redis' }, /faults\.0\.target: must be node-N \(the node whose bus connection is dropped\)/],
    [{ kind: 'bus-drop', at: 1000, target: 'node-4' }, /fault at 1000 ms targets node-4, but the topology has 3 nodes/],
    [{ kind: 'bus-drop', at: -1, target: 'node-1' }, /faults\.0\.at: /],
    [{ kind: 'bus-drop', target: 'node-1' }, /faults\.0\.at: /],
  ])('%j fails, naming the field', (step, message) => {
    expect(() => defineScenario({ ...base, faults: [step as never] })).toThrow(message);
  });

  it('in-flight windows look at the node a step hits (every node for Redis itself)', () => {
    expect(windowNode({ kind: 'bus-drop', at: 0, target: 'node-2' })).toBe('node-2');
    expect(windowNode({ kind: 'cut', at: 0, duration: 1, link: 'redis-link:node-3' })).toBe('node-3');
    expect(windowNode({ kind: 'kill', at: 0, target: 'redis' })).toBeUndefined();
  });
});
