import { describe, expect, it } from 'vitest';
import { forkChild, formatGc, gcDelta, gcPausesFromMetrics, nextMessage, rawWsTarget, sendHoldsFromMetrics } from '../../harness/bench/bench-kit.ts';
import { collectGarbage } from '../../harness/util/gc.ts';
import { createMetrics } from '../../server/observability/metrics.ts';

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
    // declared but nothing collected yet: all 0
    expect(gcPausesFromMetrics('# TYPE nodejs_gc_duration_seconds histogram\n')).toEqual({ major: { count: 0, ms: 0 }, incremental: { count: 0, ms: 0 }, minor: { count: 0, ms: 0 } });
    expect(gcDelta(null, onlyMinor)).toBeNull();
    expect(gcDelta(onlyMinor, null)).toBeNull();
    expect(formatGc(null)).toBe('GC not read');
  });

  it('an imstorm node counts every collection of a batch: two forced majors in one turn read as two (prom-client alone counted the first entry)', async () => {
    const m = createMetrics({ connections: () => 0, unsentBytes: () => 0, channels: () => 0, framesOut: () => 0 });
    const before = gcPausesFromMetrics(await m.registry.metrics());
    collectGarbage(false); // two full GCs, one event-loop turn
    let delta = gcDelta(before, gcPausesFromMetrics(await m.registry.metrics()));
    for (let i = 0; i < 100 && (delta?.major.count ?? 0) < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
      delta = gcDelta(before, gcPausesFromMetrics(await m.registry.metrics()));
    }
    expect(delta!.major.count).toBeGreaterThanOrEqual(2);
    expect(delta!.major.ms).toBeGreaterThan(0);
  });

  it('the raw-ws baseline counts every collection of a batch too (its IPC `gc` answer)', async () => {
    const child = forkChild('raw-ws-server.ts', { BENCH_GROUP_SIZE: '2' });
    try {
      const { port } = await nextMessage<{ type: string; port: number }>(child, (msg) => msg.type === 'ready', 20_000, 'raw-ws baseline');
      const target = rawWsTarget(child, port);
      const before = await target.gcPauses();
      await target.memory(); // two full GCs in one turn (collectGarbage)
      const delta = gcDelta(before, await target.gcPauses());
      expect(delta!.major.count).toBeGreaterThanOrEqual(2);
      expect(delta!.major.ms).toBeGreaterThan(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe("bench: a step's send holds (MAX_SENDS_IN_FLIGHT)", () => {
  it('reads imstorm_send_holds_total as a node exports it, and null from a server without it', async () => {
    let holds = 0;
    const m = createMetrics({ connections: () => 0, unsentBytes: () => 0, channels: () => 0, framesOut: () => 0, sends: () => ({ inFlight: 3, holds, held: 1, waitingRequests: 0 }) });
    expect(sendHoldsFromMetrics(await m.registry.metrics())).toBe(0);
    holds = 17;
    expect(sendHoldsFromMetrics(await m.registry.metrics())).toBe(17);
    expect(sendHoldsFromMetrics('imstorm_connections 3\n')).toBeNull();
  });
});
