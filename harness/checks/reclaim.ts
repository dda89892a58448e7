import { fmtT, indexFacts, type FactIndex } from './fact-index.ts';
import type { ReclaimSample } from './samples.ts';
import { DEFAULTS, Findings, plural, type CheckInput, type Verdict } from './verdict.ts';
import { witness } from './witness.ts';
import { maxOf } from '../util/extent.ts';

/**
 * reclaim — clients that vanish without a FIN (a blackholed client link: no byte either
 * way, no close) are reclaimed: the node behind the link holds none of their connections
 * once the scenario's bound after the blackhole began has passed (PROTOCOL.md: no inbound
 * frame or pong for 2×HEARTBEAT_MS closes 4408). Every client of that node goes through
 * the link, so the truth is 0 open connections there. The witness names the connections
 * that were behind the blackhole (welcomed on that node and open when it began).
 *
 * checked = blackholes measured.
 */
export function check(input: CheckInput): Verdict {
  const ix = indexFacts(input);
  const samples = input.reclaims ?? [];
  const findings = new Findings();
  for (const r of samples) {
    // a reading of 0 ends the watch; only a reading at or after the deadline above 0 fails
    if (r.reclaimedAt !== undefined) continue;
    findings.add(r.deadline, () => reclaimWitness(ix, r));
  }
  const times = samples.filter((r) => r.reclaimedAt !== undefined).map((r) => r.reclaimedAt! - r.start);
  const slowest = times.length ? `; slowest reclaim ${maxOf(times)} ms after the blackhole began` : '';
  const frozen = samples.filter((r) => r.cause).length;
  const what = [samples.length - frozen ? plural(samples.length - frozen, 'blackholed client link') : '', frozen ? plural(frozen, 'frozen fleet process', 'frozen fleet processes') : ''].filter(Boolean).join(' and ') || '0 blackholed client links';
  return findings.verdict('reclaim', samples.length, `${what} measured${slowest.replace('the blackhole began', frozen ? 'the fault began' : 'the blackhole began')}`, input.options?.maxWitnesses ?? DEFAULTS.maxWitnesses);
}

function reclaimWitness(ix: FactIndex, r: ReclaimSample) {
  const behind = [...ix.conns.values()].filter((c) => c.welcome?.node === r.node && c.welcome.at <= r.start && (!c.end || c.end.at > r.start));
  const names = behind.map((c) => `${c.conn} (${c.client})`);
  const message =
    `${r.node} still held ${plural(r.connectionsAtDeadline, 'connection')} ${r.deadline - r.start} ms after ${r.cause ?? `${r.link} was blackholed`} at ${fmtT(ix, r.start)} ` +
    `(it had ${r.connectionsAtStart}; the truth is 0): the connections ${r.cause ? 'of those clients' : 'behind it'}: ${names.slice(0, 10).join(', ') || 'none recorded'}${names.length > 10 ? ` and ${names.length - 10} more` : ''}`;
  const gauge = { node: r.node, at: r.deadline, stream: 'gauge', text: `${r.node} open connections = ${r.connectionsAtDeadline}` };
  return witness(ix, message, gauge, behind.flatMap((c) => [c.welcome!, ...(c.end ? [c.end] : [])]));
}
