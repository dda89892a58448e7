import type { FaultEvent } from '../model/facts.ts';
import { faultTimeline, faultsOverlapping } from './faults.ts';
import type { NodeLogLine } from './samples.ts';
import { DEFAULTS, Findings, plural, type Verdict } from './verdict.ts';

/** A server node's exit that the scenario did not ask for, with the output before it. */
export interface NodeExit {
  /** NODE_ID */
  node: string;
  at: number;
  code: number | null;
  signal: string | null;
  /** the last output lines before the exit, oldest first */
  lastLines: readonly { at: number; stream: string; text: string }[];
}

/**
 * nodes — no server node exits during a run unless the scenario stopped it (a kill, stop
 * or restart fault, or the teardown). `exits` are the exits nobody asked for; each is a
 * violation whose witness is the node's last log lines. checked = nodes watched.
 */
export function check(nodes: readonly string[], exits: readonly NodeExit[], faults: readonly FaultEvent[] = [], maxWitnesses: number = DEFAULTS.maxWitnesses): Verdict {
  const findings = new Findings();
  const tl = faultTimeline(faults, Math.max(0, ...exits.map((e) => e.at)));
  for (const e of exits) {
    findings.add(e.at, () => {
      const how = e.code !== null ? `code ${e.code}` : `signal ${e.signal}`;
      const last = e.lastLines.at(-1)?.text ?? '(no output)';
      const exit: NodeLogLine = { node: e.node, at: e.at, stream: 'exit', text: `[exited: ${how}]` };
      // what was being done to that node when it went: the scenario's faults and attacks on it then
      const onIt = faultsOverlapping(tl, e.at - 1000, e.at).filter((f) => f.target === e.node).map((f) => f.kind);
      const during = onIt.length ? `; in flight on ${e.node}: ${[...new Set(onIt)].join(', ')}` : '';
      const trail: NodeLogLine[] = [...e.lastLines.map((l) => ({ node: e.node, at: l.at, stream: l.stream, text: l.text })), exit];
      return {
        message: `${e.node} exited by itself (${how}) without the scenario stopping it; its last log line: ${last}${during}`,
        first: exit,
        at: e.at,
        trail,
        trailOmitted: 0,
        faultWindow: faultsOverlapping(tl, e.at - DEFAULTS.faultMarginMs, e.at + DEFAULTS.faultMarginMs),
      };
    });
  }
  return findings.verdict('nodes', nodes.length, `${plural(nodes.length, 'node')} watched; ${plural(exits.length, 'exit')} the scenario did not ask for`, maxWitnesses);
}
