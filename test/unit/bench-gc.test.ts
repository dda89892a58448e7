import { PerformanceObserver } from 'node:perf_hooks';
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { formatGc, gcDelta, gcPausesFromMetrics } from '../../harness/bench/bench-kit.ts';
import { collectGarbage } from '../../harness/util/gc.ts';

/** the exposition of prom-client's default GC histogram, as an imstorm node serves it */
const metrics = (major: [number, number], incremental: [number, number], minor: [number, number]) => `# HELP nodejs_gc_duration_seconds Garbage collection duration by kind, one of major, minor, incremental or weakcb.
# TYPE nodejs_gc_duration_seconds histogram
nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 3
nodejs_gc_duration_seconds_bucket{le="+Inf",kind="minor"} ${minor[0]}
nodejs_gc_duration_seconds_sum{kind="minor"} ${minor[1]}
nodejs_gc_duration_seconds_count{kind="minor"} ${minor[0]}
nodejs_gc_duration_seconds_bucket{le="+Inf",kind="incremental"} ${incremental[0]}
nodejs_gc_duration_seconds_sum{kind="incremental"} ${incremental[1]}
nodejs_gc_duration_seconds_count{kind="incremental"} ${incremental[0]}
nodejs_gc_duration_seconds_bucket{le="+Inf",kind="major"} ${major[0]}
nodejs_gc_duration_seconds_sum{kind="major"} ${major[1]}
nodejs_gc_duration_seconds_count{kind="major"} ${major[0]}
nodejs_gc_duration_seconds_sum{kind="weakcb"} 0.5
nodejs_gc_duration_seconds_count{kind="weakcb"} 2
`;

describe('bench: GC pauses of a step', () => {
  it('reads counts and ms by kind from /metrics, and what a step added between two readings', () => {
    const before = gcPausesFromMetrics(metrics([2, 0.03], [1, 0.004], [40, 0.2]));
    expect(before).toEqual({ major: { count: 2, ms: 30 }, incremental: { count: 1, ms: 4 }, minor: { count: 40, ms: 200 } });
    const after = gcPausesFromMetrics(metrics([11, 0.1725], [4, 0.031], [200, 1.02]));
    expect(gcDelta(before, after)).toEqual({ major: { count: 9, ms: 142.5 }, incremental: { count: 3, ms: 27 }, minor: { count: 160, ms: 820 } });
    expect(formatGc(gcDelta(before, after))).toBe('GC major 9 (143 ms), incremental 3 (27 ms), minor 160 (820 ms)');
  });

  it('a kind that has not happened yet reads 0; no histogram, or a reading missing, is null and says so', () => {
    const onlyMinor = gcPausesFromMetrics('nodejs_gc_duration_seconds_sum{kind="minor"} 0.01\nnodejs_gc_duration_seconds_count{kind="minor"} 1\n');
    expect(onlyMinor).toEqual({ major: { count: 0, ms: 0 }, incremental: { count: 0, ms: 0 }, minor: { count: 1, ms: 10 } });
    expect(gcPausesFromMetrics('imstorm_connections 3\n')).toBeNull();
    expect(gcDelta(null, onlyMinor)).toBeNull();
    expect(gcDelta(onlyMinor, null)).toBeNull();
    expect(formatGc(null)).toBe('GC not read');
  });

  it("parses what prom-client's own default metrics serve after a real major GC of this process", async () => {
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry });
    // prom-client's observer gets the entry asynchronously: wait for ours to see one too
    const seen = new Promise<void>((resolve) => {
      const obs = new PerformanceObserver(() => {
        obs.disconnect();
        resolve();
      });
      obs.observe({ entryTypes: ['gc'] });
    });
    collectGarbage(false);
    await seen;
    await new Promise((r) => setTimeout(r, 50));
    const p = gcPausesFromMetrics(await registry.metrics());
    expect(p).not.toBeNull();
    expect(p!.major.count).toBeGreaterThanOrEqual(1);
    expect(p!.major.ms).toBeGreaterThan(0);
  });
});
