// Runs explored cases one after another on ONE environment and topology (Redis, the fault
// proxies, the nodes): each run gets a fresh namespace of users and conversations, and the
// runner (harness/scenario/run.ts with RunOptions.topology) starts again only what an
// earlier run left down. A run past its deadline tears the topology down (which ends the
// run) and the next run starts a fresh one.
import { randomBytes } from 'node:crypto';
import { defineScenario, type Scenario } from '../scenario/define.ts';
import { runScenario, RunAbortedError, RunSetupError } from '../scenario/run.ts';
import { startTopology, type Topology } from '../env/topology.ts';
import type { EnvChoice } from '../env/environment.ts';
import type { Guarantee } from '../model/guarantees.ts';
import type { Fact } from '../model/facts.ts';
import type { Report } from '../report/schema.ts';
import { devicesOf, EXPLORE_SERVER_ENV, toScenario, type ExploreCase } from './space.ts';

/** What one run of a case came to. */
export type RunOutcome =
  | { status: 'pass'; ms: number }
  | { status: 'fail'; ms: number; failed: Guarantee[]; report: Report; facts: Fact[]; scenario: Scenario }
  /** the harness could not finish the run (no verdict on the server): never counted as a violation */
  | { status: 'error'; ms: number; message: string };

export interface CaseRunnerOptions {
  env: EnvChoice;
  /** the nodes' environment besides EXPLORE_SERVER_ENV (e.g. TEST_BUGS) */
  serverEnv: Record<string, string | number>;
  /** the guarantees whose failure counts as a violation */
  guarantees: readonly Guarantee[];
  /** the topology's node count (cases use its first `case.nodes`) */
  nodes: number;
  /** Redis without AOF: its kills, stops and restarts wipe it (`imstorm explore --volatile`) */
  volatileRedis?: boolean;
  /** a run may take its load phase, its faults and this much more (setup, drain, final sync, checks) */
  slackMs?: number;
  log?: (line: string) => void;
}

/** A fresh environment's start (Redis, the proxies, the case's nodes), on top of a run's deadline. */
const FRESH_START_MS = 60_000;

export class CaseRunner {
  #topology: Topology | null = null;
  #runs = 0;
  readonly #o: CaseRunnerOptions;
  /** a random part of every namespace: two explorations on one Redis never share users */
  readonly #session = randomBytes(2).toString('hex');

  constructor(o: CaseRunnerOptions) {
    this.#o = o;
  }

  get runs(): number {
    return this.#runs;
  }

  /** The topology, started on first use (and again after a run past its deadline tore it down). */
  async topology(): Promise<Topology> {
    if (this.#topology) return this.#topology;
    this.#topology = await startTopology({
      nodes: this.#o.nodes,
      redisBehindProxy: true,
      clientLinksBehindProxy: true,
      serverEnv: { DEBUG_ROUTES: 1, LOG_LEVEL: 'warn', ...(this.#o.volatileRedis ? { ALLOW_VOLATILE_STORE: 1 } : {}), ...EXPLORE_SERVER_ENV, ...this.#o.serverEnv },
      ...(this.#o.volatileRedis ? { envOptions: { volatileRedis: true } } : {}),
      envChoice: this.#o.env,
      maxProxiedClients: Number.MAX_SAFE_INTEGER,
      log: (l) => this.#o.log?.(l),
    });
    return this.#topology;
  }

  /** The scenario a case runs as (what a saved counterexample replays). */
  scenario(c: ExploreCase, name = 'explore'): Scenario {
    return defineScenario(toScenario(c, { name, serverEnv: this.#o.serverEnv, presence: this.#o.guarantees.includes('presence'), volatileRedis: this.#o.volatileRedis ?? false }));
  }

  /** How long a run of `c` may take before it is torn down. */
  deadlineMs(c: ExploreCase): number {
    const s = this.scenario(c);
    const faultsEnd = Math.max(0, ...s.faults.map((f) => f.at + ('duration' in f ? f.duration : 0) + ('restartAfter' in f ? (f.restartAfter ?? 0) : 0)));
    return Math.max(s.durationMs, faultsEnd) + (this.#o.slackMs ?? 60_000) + devicesOf(c) * 50;
  }

  /** One run of `c` on the shared topology. */
  async run(c: ExploreCase): Promise<RunOutcome> {
    const start = Date.now();
    const n = ++this.#runs;
    let t: Topology;
    try {
      t = await this.topology();
    } catch (err) {
      return { status: 'error', ms: Date.now() - start, message: `environment: ${err instanceof Error ? err.message : String(err)}` };
    }
    return this.#judge(c, n, start, { topology: t, namespace: `x${this.#session}r${n.toString(36)}` }, () => this.#dropTopology());
  }

  /**
   * One run of `c` as its saved file replays it (`imstorm run`): a fresh environment with
   * only the case's nodes, started for this run and stopped after it. What the kept case is
   * confirmed on, so its reproduce rate is the one its file shows: on the warm shared
   * topology (3 nodes, long-running), cursor_on_push's and skip_gap_fill's default-budget
   * finds failed 8 of 10, and their files replayed only 7 and 5 of 10 (2026-12-02).
   */
  async runFresh(c: ExploreCase): Promise<RunOutcome> {
    const start = Date.now();
    const n = ++this.#runs;
    // the run stops its own environment when it ends; past its deadline it counts as a run
    // without a verdict, and is still waited for (its phases end by their own stall limits),
    // so no two fresh environments ever run at once
    return this.#judge(c, n, start, {}, async () => {});
  }

  async #judge(c: ExploreCase, n: number, start: number, where: { topology?: Topology; namespace?: string }, onLate: () => Promise<void>): Promise<RunOutcome> {
    const scenario = this.scenario(c);
    const deadline = this.deadlineMs(c) + (where.topology ? 0 : FRESH_START_MS);
    let timer: NodeJS.Timeout | undefined;
    const run = runScenario(scenario, {
      env: this.#o.env,
      seed: c.seed,
      ...where,
      writeReport: false,
      keepFacts: true,
      stallMs: 15_000,
      log: () => {},
    });
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadline)));
    try {
      const r = await Promise.race([run, late]);
      if (r === 'late') {
        // ending the topology ends the run (its fleet loses every node); the next run starts afresh
        this.#o.log?.(`run ${n} passed its deadline of ${Math.round(deadline / 1000)} s: tearing the topology down`);
        await onLate();
        await run.catch(() => {});
        return { status: 'error', ms: Date.now() - start, message: `passed its deadline of ${Math.round(deadline / 1000)} s` };
      }
      const failed = r.report.checks.filter((x) => !x.ok && this.#o.guarantees.includes(x.guarantee)).map((x) => x.guarantee);
      if (!failed.length) return { status: 'pass', ms: Date.now() - start };
      return { status: 'fail', ms: Date.now() - start, failed, report: r.report, facts: r.facts ?? [], scenario };
    } catch (err) {
      if (err instanceof RunAbortedError || err instanceof RunSetupError) {
        // a run that could not finish may leave the topology in any state: start afresh
        if (where.topology) await this.#dropTopology();
        return { status: 'error', ms: Date.now() - start, message: err.message };
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async #dropTopology(): Promise<void> {
    const t = this.#topology;
    this.#topology = null;
    await t?.stop({ graceMs: 1000 }).catch(() => {});
  }

  async stop(): Promise<void> {
    await this.#dropTopology();
  }
}
