import { describe, expect, it } from 'vitest';
import { benchHtml } from '../../harness/bench/bench-html.ts';
import { configKey, fanoutStep, flatRatios, idlePresence, idleStep, type BenchResult } from '../../harness/bench/bench-result.ts';
import { benchCommand, summaryLines } from '../../harness/bench/cli.ts';
import { runSubcommand } from '../../harness/subcommand.ts';

const step = (target: 'raw-ws' | 'imstorm', offeredPerSec: number, deliveredPerSec: number, cpu: number, p99: number, warmup = false) => ({
  target,
  warmup,
  offeredPerSec,
  deliveredPerSec,
  latencyMs: { p50: 1, p99 },
  cpuMicrosPerDelivery: { server: cpu, ...(target === 'imstorm' ? { withRedis: cpu + 10 } : {}) },
  eventLoopLagP99Ms: 1,
  loadavg1: 1,
  pass: true,
});
const fanout = (steps: ReturnType<typeof step>[]) => ({
  config: { receivers: 1000, groupSize: 100, rates: [1000, 5000], stepSeconds: 3, ackEveryMs: 50 },
  connected: { 'raw-ws': { connectsPerSec: 1, perConnection: { heapKiB: 2, rssKiB: 4 } }, imstorm: { connectsPerSec: 1, perConnection: { heapKiB: 3, rssKiB: 5 } } },
  steps,
});

describe("bench result: a sweep's step ratios", () => {
  it('CPU and p99 ratios come from the rates both servers carried; a saturated rate only counts in deliveredShortfall', () => {
    const s = fanoutStep(fanout([step('raw-ws', 1000, 1000, 200, 1, true), step('raw-ws', 1000, 1000, 30, 10), step('imstorm', 1000, 990, 60, 20), step('raw-ws', 5000, 5000, 25, 12), step('imstorm', 5000, 1000, 900, 4000)]), 'f.json');
    expect(s.points.map((p) => p.offeredPerSec)).toEqual([1000, 5000]);
    expect(s.ratioRates).toEqual([1000]);
    expect(s.ratios).toMatchObject({ cpuPerDelivery: 2, cpuPerDeliveryWithRedis: 2.33, p99: 2, heapPerConnection: 1.5, rssPerConnection: 1.25 });
    // median of 1000/990 and 5000/1000
    expect(s.ratios['deliveredShortfall']).toBeCloseTo(3.005, 1);
    expect(flatRatios([s])['fanout.cpuPerDelivery']).toBe(2);
    expect(configKey([s])).toBe('fanout:1000/g100@1000,5000/3s');
  });

  it('with no rate carried by both, the lowest rate stands for the step', () => {
    const s = fanoutStep(fanout([step('raw-ws', 5000, 3000, 20, 900), step('imstorm', 5000, 2000, 80, 4000), step('raw-ws', 1000, 900, 40, 300), step('imstorm', 1000, 800, 100, 600)]), 'f.json');
    expect(s.ratioRates).toEqual([1000]);
    expect(s.ratios['cpuPerDelivery']).toBe(2.5);
  });
});

describe('bench result: the idle step with presence subscriptions', () => {
  const idleJson = (presenceSubs: number, heapKiB: number, rssKiB: number) => ({
    idle: {
      connections: 1000,
      presenceSubs,
      nodes: 1,
      fleetProcesses: 1,
      connectPerSec: 900,
      serverPerConnection: { rssKiB, heapKiB },
      clientRssAddedKiBPerConnection: 9,
      clientHeapAddedKiBPerConnection: 3,
      rawWsClientRssAddedKiBPerConnection: 8,
      rawWsClientHeapAddedKiBPerConnection: 2,
      rawWsServerPerConnection: { connections: 1000, heapKiB: 2.8, rssKiB: 7 },
      loadavg1: 1,
    },
  });

  it('is set beside the idle figures, as ratios to them, and printed under the idle step', () => {
    const idle = idleStep(idleJson(0, 3.3, 4), 'idle.json');
    idle.presence = idlePresence(idle, idleJson(50, 5.7, 7.1), 'idle-presence.json');
    expect(idle.presence).toEqual({ subscriptions: 50, connections: 1000, heapKiBPerConnection: 5.7, rssKiBPerConnection: 7.1, heapRatioToIdle: 1.73, rssRatioToIdle: 1.77, source: 'idle-presence.json' });
    const r = { steps: [idle] } as unknown as BenchResult;
    expect(summaryLines(r)).toContain('idle with 50 presence subscriptions each: imstorm heap 5.7 KiB RSS 7.1 KiB/conn (×1.73 and ×1.77 the idle figures above)');
    expect(benchHtml({ ...r, at: 'now', commit: null, node: 'v22', machine: { cpus: 2, loadavgStart: [1], loadavgEnd: [1], pinning: 'off' }, quick: true, testBugs: null, seconds: 1, ratios: {}, config: '' } as BenchResult)).toContain('<b>50 presence subscriptions</b>');
  });

  it('an idle run read after a memory-reducing GC compares only with runs read the same way', () => {
    const full = idleStep(idleJson(0, 3.3, 9), 'idle.json');
    const reduce = idleStep({ idle: { ...idleJson(0, 3.3, 4).idle, gc: 'reduce' as const } }, 'idle.json');
    expect(full.config['gc']).toBe('full');
    expect(configKey([full])).toBe('idle:1000');
    expect(configKey([reduce])).toBe('idle:1000/gc-reduce');
  });

  it('refuses a twin run that had no subscriptions (the wrong file)', () => {
    const idle = idleStep(idleJson(0, 3.3, 4), 'idle.json');
    expect(() => idlePresence(idle, idleJson(0, 3.3, 4), 'idle.json')).toThrow(/without presence subscriptions/);
  });
});

describe('imstorm bench: flags', () => {
  const run = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runSubcommand(benchCommand, args, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('refuses bad flags with exit 2, naming the flag and the fix, before starting anything', async () => {
    for (const [args, msg] of [
      [['--steps', 'nope'], '--steps takes a comma list of idle, storm, fanout, dm'],
      [['--idle-connections', '5'], '--idle-connections must be a whole number between 10 and 200000'],
      [['--connections', '11'], '--connections must be even (the 1:1 step pairs them)'],
      [['--receivers', '1000', '--group-size', '300'], '--receivers 1000 must be a multiple of --group-size 300, e.g. 900'],
      [['--bogus'], "Unknown option '--bogus'"],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(`imstorm bench: ${msg}`);
      expect(r.err).toContain('Usage: imstorm bench');
    }
  });

  it('--help prints the usage and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: imstorm bench /);
  });
});

describe("bench result: who waited for a core, and latency by window, in a sweep's figures", () => {
  const withSignals = (target: 'raw-ws' | 'imstorm', offered: number, wait: number, fromS: number) => ({
    ...step(target, offered, offered, 50, 10),
    latencyByWindow: [{ fromS, messages: 500, p50Ms: 2.25, p99Ms: 140.4 }],
    contention: { waitPct: { server: wait, ...(target === 'imstorm' ? { redis: wait - 5 } : {}) }, cpuPressurePct: 40 },
  });

  it('medians of the runs of a rate, per side; the windows one list a run; the table, the chart and the summary show them', () => {
    const s = fanoutStep(fanout([withSignals('raw-ws', 1000, 10, 0), withSignals('imstorm', 1000, 20, 0), withSignals('imstorm', 1000, 30, 5)]), 'f.json');
    const p = s.points[0]!;
    expect(p.imstorm).toMatchObject({ waitedForCorePct: 25, redisWaitedForCorePct: 20, cpuPressurePct: 40 });
    expect(p.rawWs.waitedForCorePct).toBe(10);
    expect(p.rawWs).not.toHaveProperty('redisWaitedForCorePct');
    expect(p.imstorm.latencyByWindow!.map((ws) => ws[0]!.fromS)).toEqual([0, 5]);
    const r = { steps: [s], at: 'now', commit: null, node: 'v22', machine: { cpus: 2, loadavgStart: [1], loadavgEnd: [1], pinning: 'off' }, quick: true, testBugs: null, seconds: 1, ratios: {}, config: '' } as unknown as BenchResult;
    const html = benchHtml(r);
    expect(html).toContain('<td>25 % (Redis 20 %)<br><span class="muted">pressure 40 %</span></td>');
    expect(html).toContain('imstorm: 2.3/140 · 2.3/140 ms; raw-ws: 2.3/140 ms');
    expect(html).toContain("'server waited for a core'");
    expect(summaryLines(r).join('\n')).toContain('waited for a core 25 %');
  });

  it('a step file from before the signals reads as no figure, not as zero', () => {
    const s = fanoutStep(fanout([step('raw-ws', 1000, 1000, 30, 10), step('imstorm', 1000, 990, 60, 20)]), 'f.json');
    expect(s.points[0]!.imstorm.waitedForCorePct).toBeNull();
    expect(s.points[0]!.imstorm.latencyByWindow).toEqual([[]]);
    expect(benchHtml({ steps: [s], at: 'now', commit: null, node: 'v22', machine: { cpus: 2, loadavgStart: [1], loadavgEnd: [1], pinning: 'off' }, quick: true, testBugs: null, seconds: 1, ratios: {}, config: '' } as unknown as BenchResult)).not.toContain('by 5 s of send time');
  });
});
