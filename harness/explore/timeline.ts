// A failing run as a timeline people read top to bottom: who connected and sent what, which
// fault acted when, and — last — what was violated, with the checker's witness.
import type { Fact, FaultEvent } from '../model/facts.ts';
import type { Report } from '../report/schema.ts';
import type { FaultStep } from '../scenario/define.ts';
import { faultWords } from './space.ts';

export interface TimelineInput {
  facts: readonly Fact[];
  faults: readonly FaultEvent[];
  /** the scenario's fault schedule, for the header */
  planned: readonly FaultStep[];
  checks: Report['checks'];
  /** the guarantees that count (others failing are shown as such) */
  guarantees: readonly string[];
  /** most event lines before the rest is summarized (default 120) */
  maxLines?: number;
}

interface Line {
  at: number;
  text: string;
  /** lines always kept (faults, violations' first facts) */
  keep: boolean;
}

const secs = (ms: number): string => `t+${(ms / 1000).toFixed(3)}s`;

/** One fact in words, or null for facts the timeline leaves out (acks, windows). */
export function factWords(f: Fact): string | null {
  switch (f.k) {
    case 'send': {
      const answer = f.outcome === 'sent' || f.outcome === 'dup' ? `${f.outcome} seq ${f.seq}` : f.outcome === 'error' ? `error ${f.code}` : 'never answered';
      return `${f.client} send ${f.conv} cmid ${f.cmid}${f.attempts > 1 ? ` (${f.attempts} attempts)` : ''} → ${answer}`;
    }
    case 'recv':
      return `${f.client} got ${f.conv} seq ${f.seq} (cmid ${f.cmid} from ${f.from}, ${f.via}) on ${f.conn}`;
    case 'conn':
      return `${f.client} ${f.event}${f.node ? ` ${f.node}` : ''} ${f.conn}${f.code !== undefined ? ` code ${f.code}` : ''}${f.detail ? ` (${f.detail})` : ''}`;
    case 'gap':
      return `${f.client} gap ${f.conv} ${f.from}..${f.to}${f.trimmed ? ' (trimmed)' : ''} on ${f.conn}`;
    case 'conv':
      return `${f.client} conv ${f.conv} cursor ${f.cursor} head ${f.head} on ${f.conn}`;
    case 'member':
      return `harness ${f.op} ${f.user} ${f.conv}${f.seq !== undefined ? ` at seq ${f.seq}` : ''}`;
    case 'presence':
      return `${f.client} sees ${f.user} ${f.status} (v ${f.v})`;
    case 'ack_ahead':
      return `${f.client} acked ${f.conv} ${f.seq} holding ${f.held}`;
    case 'gone':
      return `${f.client} left for good`;
    case 'stall':
      return `${f.client} stalled (${f.mode})`;
    default:
      return null;
  }
}

const atOf = (f: Fact): number => (f.k === 'send' ? f.sentAt || f.intendedAt : f.at);

/** The timeline as text lines. */
export function renderTimeline(i: TimelineInput): string[] {
  // t+0 is the first recorded fact, as in the checkers' witnesses (their t+… match these)
  const starts = i.facts.map((f) => (f.k === 'send' ? f.sentAt : f.at)).filter((x) => x > 0);
  const t0 = starts.length ? starts.reduce((a, b) => Math.min(a, b)) : i.faults.reduce((a, e) => Math.min(a, e.start), Infinity);
  const failed = i.checks.filter((c) => !c.ok);
  // the facts a witness points at are always shown, whatever the cap
  const witnessed = new Set<unknown>();
  for (const c of failed) for (const v of c.violations) for (const x of v.trail) witnessed.add(JSON.stringify(x));
  const lines: Line[] = [];
  for (const f of i.facts) {
    const text = factWords(f);
    if (text) lines.push({ at: atOf(f), text, keep: witnessed.has(JSON.stringify(f)) });
  }
  for (const e of i.faults) {
    const detail = e.detail ? ` ${JSON.stringify(e.detail)}` : '';
    lines.push({ at: e.start, text: `FAULT ${e.kind} ${e.target}${detail}${e.end !== undefined ? ` until ${secs(e.end - t0)}` : ''}`, keep: true });
  }
  lines.sort((a, b) => a.at - b.at);
  const max = i.maxLines ?? 120;
  const keep = lines.filter((l) => l.keep).length;
  let budget = Math.max(0, max - keep);
  let omitted = 0;
  const out: string[] = [];
  out.push('fault schedule (from the load\'s start):');
  for (const f of i.planned) out.push(`  ${faultWords(f)}`);
  if (!i.planned.length) out.push('  none');
  out.push(`events (${secs(0)} = the first recorded fact, as in the witnesses below):`);
  for (const l of lines) {
    if (!l.keep && budget <= 0) {
      omitted++;
      continue;
    }
    if (!l.keep) budget--;
    out.push(`  ${secs(l.at - t0).padEnd(11)} ${l.text}`);
  }
  if (omitted) out.push(`  … ${omitted} more event(s) left out (every fault and every fact a witness names is shown)`);
  out.push('violated:');
  for (const c of failed) {
    out.push(`  ${c.guarantee}${i.guarantees.includes(c.guarantee) ? '' : ' (not among --guarantees: not counted)'}: ${c.summary}`);
    for (const v of c.violations.slice(0, 3)) out.push(`    - ${v.message}`);
    if (c.violationsTotal > 3) out.push(`    … ${c.violationsTotal - 3} more`);
  }
  return out;
}
