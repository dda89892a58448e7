// What of a scenario can run against servers the harness did not start (--target), decided
// before any device connects. Process faults (a node or Redis killed, stopped, restarted,
// paused), node→Redis links, a bus connection dropped in Redis and hostile clients (whose
// residue is read in Redis) need what a target does not give; client-link faults need the
// user's Toxiproxy in front of the target, blackholes and reclaim bounds its debug routes.
//
// Such steps refuse the scenario by default, listing each step and why: a PASS without the
// faults that the scenario is about proves something else, so running without them must be
// asked for (--skip-unsupported-faults). Then they are skipped, and the report's "not
// checked" list names every one — never a silent pass.
import type { FaultStep, Scenario } from './define.ts';
import type { TargetSpec } from '../env/target.ts';

/** What the harness found out about the targets before the run (target-topology probes). */
export interface TargetReach {
  /** every target serves POST /debug/gc and GET /debug/state (DEBUG_ROUTES=1) */
  debugRoutes: boolean;
  /** every target answers GET /metrics (with --metrics-token when it wants one) */
  metrics: boolean;
  /** per node, what /metrics or the debug routes answered when they did not (for the report) */
  problems: string[];
}

export interface TargetPlan {
  /** the steps that run */
  faults: FaultStep[];
  /** each step that cannot, with why */
  unsupported: Array<{ step: FaultStep; why: string }>;
  /** the scenario's hostile clients cannot run (their residue is read in Redis) */
  attackUnsupported: string | null;
  /** lines for the report: what was not checked, and why */
  notChecked: string[];
  /** lines for the report's notes: what the checks assume of the target */
  notes: string[];
}

/** The node a step names (node-N in its link or target), or null for Redis. */
function nodeOf(step: FaultStep): number | null {
  const ref = 'link' in step ? step.link : step.kind === 'fleet-pause' ? step.node : step.target;
  const m = /node-(\d+)$/.exec(ref);
  return m ? Number(m[1]) : null;
}

function why(step: FaultStep, spec: TargetSpec, reach: TargetReach): string | null {
  const n = nodeOf(step);
  if (n !== null && n > spec.nodes.length) return `there is no node-${n}: --target names ${spec.nodes.length} server(s)`;
  switch (step.kind) {
    case 'kill':
    case 'restart':
    case 'stop':
    case 'pause':
      return step.target === 'redis' ? `the target's Redis is not the harness's to ${step.kind}` : `${step.target} is a target the harness did not start: it cannot ${step.kind} it`;
    case 'bus-drop':
      return `dropping ${step.target}'s bus connection is done in the target's Redis, which the harness does not reach`;
    case 'toxic':
    case 'cut':
    case 'blackhole':
      if (step.link.startsWith('redis-link:')) return `${step.link} is inside the deployment (node → Redis): no proxy of the harness is on it`;
      if (!spec.toxiproxyUrl) return `${step.link} needs a Toxiproxy in front of the target: give --toxiproxy-url`;
      if (step.kind === 'blackhole' && !reach.debugRoutes) return `the reclaim bound is read from GET /debug/state, which the target does not serve (DEBUG_ROUTES)`;
      return null;
    case 'fleet-pause':
      // the fleet is the harness's own; the reclaim bound reads the node's gauge through its debug routes
      return step.reclaimWithinMs !== undefined && !reach.debugRoutes ? 'the reclaim bound is read from GET /debug/state, which the target does not serve (DEBUG_ROUTES)' : null;
  }
}

/** One step in words: "restart node-3 at 20000 ms"; with `attributes`, a toxic's too (for errors). */
export function stepWords(step: FaultStep, attributes = false): string {
  switch (step.kind) {
    case 'toxic':
      return `toxic ${step.toxic.type}${attributes ? ` ${JSON.stringify(step.toxic.attributes)}` : ''} on ${step.link} at ${step.at} ms`;
    case 'cut':
    case 'blackhole':
      return `${step.kind} ${step.link} at ${step.at} ms`;
    case 'fleet-pause':
      return `fleet-pause of ${step.node}'s fleet process at ${step.at} ms`;
    default:
      return `${step.kind} ${step.target} at ${step.at} ms`;
  }
}

export function planForTarget(s: Scenario, spec: TargetSpec, reach: TargetReach): TargetPlan {
  const unsupported: TargetPlan['unsupported'] = [];
  const faults: FaultStep[] = [];
  for (const step of s.faults) {
    const w = why(step, spec, reach);
    if (w) unsupported.push({ step, why: w });
    else faults.push(step);
  }
  const attackUnsupported = s.attack ? 'hostile clients (scenario `attack`): their residue is read in the target\'s Redis, which the harness does not reach' : null;
  const notChecked: string[] = [
    'nodes: the target\'s processes are not watched from here (an exit or restart of theirs is invisible; the fleet sees only its connections close)',
  ];
  for (const u of unsupported) notChecked.push(`fault step not run: ${stepWords(u.step)} (${u.why})`);
  if (attackUnsupported) notChecked.push(`not run: ${attackUnsupported}`);
  if (s.checks.leaks) {
    notChecked.push('leaks: Redis keys of gone connections (the target\'s Redis is not reached)');
    if (!reach.debugRoutes && reach.metrics) notChecked.push('leaks: heap after GC, open fds and handles against the baseline (they need POST /debug/gc, i.e. DEBUG_ROUTES=1 on the target): only the open-connection gauge from /metrics is judged (the leak table shows their /metrics readings, taken without a GC)');
    if (!reach.metrics && !reach.debugRoutes) notChecked.push(`leaks: not checked at all (/metrics not reachable: ${reach.problems.join('; ') || 'no answer'})`);
  }
  if (!reach.metrics) notChecked.push('server figures (memory, event-loop lag, fds over time): /metrics not reachable');
  const notes: string[] = [];
  const env = Object.entries(s.topology.serverEnv);
  if (env.length) notes.push(`target: the harness sets nothing on a target; the checks assume it runs with the scenario's server settings ${env.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const perNode = Object.entries(s.topology.nodeEnv);
  if (perNode.length) notes.push(`target: the scenario's per-node settings (${perNode.map(([n, e]) => `${n}: ${Object.keys(e).join(', ')}`).join('; ')}) are not applied either`);
  return { faults, unsupported, attackUnsupported, notChecked, notes };
}

/** The refusal when steps cannot run and --skip-unsupported-faults was not given. */
export function refusal(s: Scenario, plan: TargetPlan): string | null {
  const lines = [...plan.unsupported.map((u) => `  - ${stepWords(u.step)}: ${u.why}`), ...(plan.attackUnsupported ? [`  - ${plan.attackUnsupported}`] : [])];
  if (!lines.length) return null;
  return `${s.name} cannot run as written against --target: ${lines.length} part(s) need what the target does not give:\n${lines.join('\n')}\nGive what they need (--toxiproxy-url for client-link faults), run a scenario without them, or pass --skip-unsupported-faults to run the rest (the report lists each part not run).`;
}
