// Device groups, stages and body sizes of a workload plan (harness/fleet/workload.ts), and
// the scenario-level checks of their timing (harness/scenario/define.ts).
import { describe, expect, it } from 'vitest';
import { drawBodySize, planWorkload, slowClients, stageTarget, workloadSchema } from '../../harness/fleet/workload.ts';
import { Rng } from '../../harness/fleet/rng.ts';
import { defineScenario } from '../../harness/scenario/define.ts';

const flat = { users: 30, devicesPerUser: 2, dmsPerUser: 1, groups: 3, groupSize: 5, sendRate: 60, churnRate: 3, presenceSubs: 2 };

describe('device groups', () => {
  it('leave the plan without groups as it was, and give each group its devices and settings', () => {
    const plain = planWorkload(workloadSchema.parse(flat), 7, 'p');
    const w = workloadSchema.parse({
      ...flat,
      deviceGroups: [
        { name: 'heavy', count: 4, sendRate: 20, sendTo: 'groups', memberOf: 2, body: { kind: 'fixed', bytes: 4096 } },
        { name: 'gone', share: 0.1, mode: { kind: 'leave', at: 1000 } },
        { name: 'ahead', count: 5, ack: { kind: 'ahead', by: 9 }, churnRate: 1, slow: true },
      ],
    });
    const plan = planWorkload(w, 7, 'p');
    // the devices, their seeds and the conversations of users outside memberOf are untouched
    expect(plan.devices.map((d) => d.seed)).toEqual(plain.devices.map((d) => d.seed));
    expect(plan.population.convs.filter((c) => c.conv.startsWith('dm:'))).toEqual(plain.population.convs.filter((c) => c.conv.startsWith('dm:')));
    const of = (g: string) => plan.devices.filter((d) => d.group === g);
    expect(of('heavy')).toHaveLength(4);
    expect(of('gone')).toHaveLength(6);
    expect(of('ahead')).toHaveLength(5);
    // a leave group never takes d0: every user keeps a device
    expect(of('gone').every((d) => d.device !== 'd0')).toBe(true);
    // heavy senders are members of the first two chat groups and send only into groups
    for (const d of of('heavy')) {
      expect(d.convs.every((c) => c.startsWith('g:'))).toBe(true);
      for (const g of plan.groups.slice(0, 2)) expect(g.members).toContain(d.user);
      expect(d.body).toEqual({ kind: 'fixed', bytes: 4096 });
    }
    for (const g of plan.groups.slice(0, 2)) expect(plan.population.convs.find((c) => c.conv === `g:${g.id}`)!.members).toEqual(g.members);
    // rates split within each group; the flat ones over the devices no group took
    const sum = (l: typeof plan.devices, k: 'sendRate' | 'churnRate') => l.reduce((a, d) => a + d[k], 0);
    expect(sum(of('heavy'), 'sendRate')).toBeCloseTo(20);
    expect(sum(of('gone'), 'sendRate')).toBe(0);
    expect(sum(of('ahead'), 'churnRate')).toBeCloseTo(1);
    const free = plan.devices.filter((d) => d.group === undefined);
    expect(sum(free, 'sendRate')).toBeCloseTo(60);
    expect(sum(free, 'churnRate')).toBeCloseTo(3);
    expect(of('ahead')[0]!.ack).toEqual({ kind: 'ahead', by: 9 });
    expect(slowClients(plan, w)).toEqual(new Set(of('ahead').map((d) => `${d.user}/${d.device}`)));
  });

  it('refuses what cannot be planned, naming the field and the fix', () => {
    const bad = (deviceGroups: unknown[], more = {}) => workloadSchema.safeParse({ ...flat, ...more, deviceGroups });
    expect(bad([{ name: 'a', count: 2, share: 0.5 }]).error!.issues[0]!.message).toMatch(/exactly one of count .* or share/);
    expect(bad([{ name: 'a', share: 0.7 }, { name: 'b', share: 0.5 }]).error!.issues[0]!.message).toMatch(/shares add up to 1.200: at most 1/);
    expect(bad([{ name: 'a', count: 1 }, { name: 'a', count: 1 }]).error!.issues[0]!.message).toMatch(/"a" names two device groups/);
    expect(bad([{ name: 'a', count: 1, mode: { kind: 'leave', at: 0 } }], { devicesPerUser: 1 }).error!.issues[0]!.message).toMatch(/set devicesPerUser to 2 or more/);
    expect(() => planWorkload(workloadSchema.parse({ ...flat, deviceGroups: [{ name: 'a', count: 50 }, { name: 'b', count: 20 }] }), 1, 'p')).toThrow(
      /workload.deviceGroups\[1\] \("b"\) wants 20 devices but only 10 are left \(60 in all, 50 taken by earlier groups\): lower its count or share, or add users/,
    );
    expect(() => planWorkload(workloadSchema.parse({ ...flat, deviceGroups: [{ name: 'a', count: 1, memberOf: 4 }] }), 1, 'p')).toThrow(/memberOf is 4 but the workload has 3 chat groups/);
  });
});

describe('stages', () => {
  const stages = [
    { durationMs: 1000, target: 1 },
    { durationMs: 2000, target: 1 },
    { durationMs: 1000, target: 0 },
  ];
  it('ramp linearly from the previous target (the first from 0), and are 0 after the last', () => {
    expect([0, 500, 1000, 2500, 3500, 4000, 9000].map((ms) => stageTarget(stages, ms))).toEqual([0, 0.5, 1, 1, 0.5, 0, 0]);
    expect(stageTarget(undefined, 123)).toBe(1);
  });

  it('must add up to durationMs, and client modes must end within it', () => {
    const s = { name: 'x', description: 'x', proves: ['x'], topology: { nodes: 1 }, durationMs: 5000 };
    expect(() => defineScenario({ ...s, workload: { ...flat, stages } })).toThrow(/workload.stages last 4000 ms in all but durationMs is 5000: make them add up to durationMs/);
    expect(defineScenario({ ...s, durationMs: 4000, workload: { ...flat, stages } }).workload.stages).toHaveLength(3);
    expect(() => defineScenario({ ...s, workload: { ...flat, deviceGroups: [{ name: 'p', count: 1, mode: { kind: 'pause', at: 4000, durationMs: 2000 } }] } })).toThrow(
      /workload.deviceGroups\[0\] \("p"\) mode pause ends at 6000 ms, after the load \(durationMs 5000\)/,
    );
  });
});

describe('body sizes', () => {
  it('stay within each distribution', () => {
    const rng = new Rng(3);
    const draw = (b: Parameters<typeof drawBodySize>[0]) => Array.from({ length: 2000 }, () => drawBodySize(b, rng));
    expect(new Set(draw({ kind: 'fixed', bytes: 100 }))).toEqual(new Set([100]));
    const u = draw({ kind: 'uniform', min: 100, max: 200 });
    expect(Math.min(...u)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...u)).toBeLessThanOrEqual(200);
    const l = draw({ kind: 'lognormal', median: 200, sigma: 1, max: 5000 }).sort((a, b) => a - b);
    expect(l[0]).toBeGreaterThanOrEqual(16);
    expect(l.at(-1)).toBeLessThanOrEqual(5000);
    expect(l[1000]).toBeGreaterThan(150);
    expect(l[1000]).toBeLessThan(260);
    const w = draw({ kind: 'weighted', sizes: [{ bytes: 50, weight: 9 }, { bytes: 9000, weight: 1 }] });
    const big = w.filter((x) => x === 9000).length;
    expect(w.every((x) => x === 50 || x === 9000)).toBe(true);
    expect(big).toBeGreaterThan(120);
    expect(big).toBeLessThan(290);
  });
});
