// The hostile clients during a scenario's load (scenario field `attack`): started `at` ms
// into the load against every node's direct address, awaited when the load ends, judged by
// `answers` and `residue`, and said in the report (seed, counts per attack, figures).
import { HostileAttack, type HostileResult } from '../attack/index.ts';
import type { NodeLimits } from '../attack/context.ts';
import { check as checkAnswers } from '../checks/answers.ts';
import { check as checkResidue } from '../checks/residue.ts';
import type { Verdict } from '../checks/verdict.ts';
import type { Topology } from '../env/topology.ts';
import type { Report } from '../report/schema.ts';
import { resolveMetric } from '../report/thresholds.ts';
import type { Scenario } from './define.ts';

/** The attack of a running scenario; stop() resolves with what it recorded. */
export interface RunningAttack {
  stop(): Promise<HostileResult>;
}

/** PROTOCOL.md's defaults, over which the scenario's server environment wins. */
function limits(env: Scenario['topology']['serverEnv']): NodeLimits {
  const n = (k: string, d: number) => (env[k] === undefined ? d : Number(env[k]));
  return {
    maxFrameBytes: n('MAX_FRAME_BYTES', 65536),
    maxBodyBytes: n('MAX_BODY_BYTES', 16384),
    presenceSubsMax: n('PRESENCE_SUBS_MAX', 1000),
    groupMax: n('GROUP_MAX', 1000),
    helloTimeoutMs: n('HELLO_TIMEOUT_MS', 5000),
    headersTimeoutMs: n('HTTP_HEADERS_TIMEOUT_MS', 10000),
  };
}

/** The seed of a run's attack (fast-check's seeds), from the run's seed. */
export const attackSeed = (seed: number): number => (seed ^ 0x686f7374) | 0;

/** Starts the scenario's attack `at` ms from now (the load's start); null when it has none. */
export function startAttack(s: Scenario, t: Topology, seed: number, log: (line: string) => void): RunningAttack | null {
  const p = s.attack;
  if (!p) return null;
  const aSeed = attackSeed(seed);
  const attack = new HostileAttack({
    params: p,
    nodes: t.nodes.map((n) => {
      const port = Number(new URL(n.directUrl).port);
      return { id: n.id, port, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws` };
    }),
    limits: limits(s.topology.serverEnv),
    redisUrl: t.redis.url,
    jwtSecret: t.jwtSecret,
    seed: aSeed,
    prefix: `hx${(aSeed >>> 0).toString(36)}`,
    begin: (kind, node) => {
      const e = t.faults.begin(kind, node, {});
      return (detail) => {
        Object.assign(e.detail!, detail);
        t.faults.end(e.id);
      };
    },
    log,
  });
  const started = new Promise<void>((r) => setTimeout(r, p.at)).then(() => attack.start());
  started.catch(() => {});
  return {
    async stop() {
      await started;
      const r = await attack.stop();
      log(`attack done: ${r.record.attacks.reduce((n, a) => n + a.tried, 0)} bad inputs in ${((r.end - r.start) / 1000).toFixed(1)} s`);
      return r;
    },
  };
}

export function attackVerdicts(r: HostileResult): Verdict[] {
  return [checkAnswers(r.record), checkResidue(r.residue)];
}

/** Lines for the report: the seed, what was tried per attack, and the figures the scenario is about. */
export function attackNotes(r: HostileResult, report: Pick<Report, 'latency' | 'series' | 'server' | 'http' | 'checks' | 'faults' | 'durationMs'>): string[] {
  const fig = (m: string, unit: (v: number) => string) => {
    const x = resolveMetric(report, m);
    return x.value === null ? `n/a (${x.reason})` : unit(x.value);
  };
  const lines = [
    `attack: seed ${r.seed} (a run with the same --seed generates the same fast-check frames and HTTP requests), ${((r.end - r.start) / 1000).toFixed(1)} s`,
    `attack figures: other users' send→sent p99 ${fig('latency.sendToSent.p99', (v) => `${v.toFixed(0)} ms`)}; node RSS peak ${fig('server.*.rssBytes.max', (v) => `${(v / 1048576).toFixed(0)} MiB`)}; longest event-loop delay ${fig('server.*.eventLoopDelayMaxMs.max', (v) => `${v.toFixed(0)} ms`)}`,
  ];
  for (const a of r.record.attacks) {
    const answers = Object.entries(a.answers).sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ×${n}`).join('; ');
    lines.push(`attack ${a.attack}: ${a.tried} tried${answers ? ` — ${answers}` : ''}`);
  }
  return lines;
}
