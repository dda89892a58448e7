import { describe, expect, it } from 'vitest';
import { HTTP_ROUTE_NAMES, imRoutes } from '../../harness/measure/http-load.ts';
import { metricPathProblem } from '../../harness/report/thresholds.ts';
import { defineScenario, type ScenarioInput } from '../../harness/scenario/define.ts';
import { scenarios, suites } from '../../scenarios/index.ts';

const base: ScenarioInput = {
  name: 'typo',
  description: 'a scenario with a misspelt threshold',
  proves: ['nothing'],
  topology: { nodes: 1 },
  workload: { users: 2 },
  durationMs: 1000,
};

describe('threshold metric paths are checked when a scenario is defined', () => {
  it('every suite names registered scenarios; ci and full together cover every registered scenario', () => {
    for (const [name, suite] of suites) for (const sc of suite.scenarios) expect(scenarios.has(sc), `suite ${name}: ${sc}`).toBe(true);
    const covered = new Set([...suites.get('ci')!.scenarios, ...suites.get('full')!.scenarios]);
    expect([...scenarios.keys()].filter((n) => !covered.has(n))).toEqual([]);
  });

  it('every registered scenario names only metrics a report can have', () => {
    for (const s of scenarios.values()) for (const t of s.thresholds) expect(metricPathProblem(t.split(/\s*(<=|>=|==|!=|<|>)\s*/)[0]!), `${s.name}: ${t}`).toBeNull();
  });

  it.each([
    ['latency.sendToDelivred.p99 < 500', /latency metric "sendToDelivred" .* is not one of connect, helloToWelcome/],
    ['latency.sendToSent.p98 < 500', /latency statistic "p98"/],
    ['throughput.sendz.total > 1', /throughput counter "sendz"/],
    ['server.*.rss.max < 1e9', /node series "rss" .* is not one of connections, rssBytes/],
    ['server.node1.rssBytes.max < 1e9', /server target "node1" .* must be \*, redis or node-N/],
    ['server.redis.usedMemoryBytes.peak < 1e9', /server aggregate "peak"/],
    ['http.post.p99 < 100', /HTTP route "post" .* is not one of postMessage, history, healthz/],
    ['checks.lsot.violations == 0', /guarantee "lsot"/],
    ['errors.unavailible < 10', /error code "unavailible"/],
    ['run.seconds < 10', /run has only .durationSec/],
    ['p99 < 10', /unknown metric path "p99"/],
  ])('%s fails before any run, naming the part', (threshold, message) => {
    expect(() => defineScenario({ ...base, thresholds: [threshold] })).toThrow(message);
  });

  it('what a report has is accepted, k6 percentile syntax included', () => {
    const ok = ['latency.sendToDelivered.p(99.9) < 500', 'throughput.connections.max > 1', 'server.*.rssBytes.max < 1e9', 'server.node-2.eventLoopLagMs.max < 200', 'server.redis.usedMemoryBytes.last < 1e9', 'http.postMessage.errorRatio < 0.01', 'checks.failed == 0', 'checks.lost.ok == 1', 'errors.internal == 0', 'faults.count >= 1', 'run.durationSec < 60'];
    expect(defineScenario({ ...base, thresholds: ok }).thresholds).toEqual(ok);
  });

  it('the HTTP route names thresholds accept are the routes the load drives', () => {
    expect(imRoutes({ convs: ['dm:a:b'] }).map((r) => r.name)).toEqual([...HTTP_ROUTE_NAMES]);
  });
});

describe('fleet-pause and replaceRate are checked when a scenario is defined', () => {
  const pause = { kind: 'fleet-pause' as const, at: 1000, duration: 3000, node: 'node-2', reclaimWithinMs: 2000 };
  it('a fleet-pause needs one fleet process per node, a node the topology has, and no device moving onto that node', () => {
    expect(() => defineScenario({ ...base, topology: { nodes: 2 }, durationMs: 5000, faults: [pause] })).toThrow(/a fleet-pause fault freezes the fleet process of node-2's devices: set topology.fleetPerNode: true/);
    expect(() => defineScenario({ ...base, topology: { nodes: 1, fleetPerNode: true }, durationMs: 5000, faults: [pause] })).toThrow(/targets node-2, but the topology has 1 nodes/);
    expect(() => defineScenario({ ...base, topology: { nodes: 2, fleetPerNode: true }, workload: { users: 2, failover: true }, durationMs: 5000, faults: [pause] })).toThrow(/counts every connection of node-2, but workload failover\/rotate moves other devices there/);
    expect(defineScenario({ ...base, topology: { nodes: 2, fleetPerNode: true }, durationMs: 5000, faults: [pause] }).faults[0]).toMatchObject(pause);
  });

  it('replaceRate needs other nodes to go to', () => {
    expect(() => defineScenario({ ...base, workload: { users: 2, replaceRate: 1 } })).toThrow(/workload.replaceRate: a replacement opens the new connection on the next node: set reconnect.rotate \(or failover\)/);
  });
});
