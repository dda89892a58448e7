import type { AttackRecord } from '../attack/answers.ts';
import { PROTOCOL_ANSWERS } from '../attack/protocol-answers.ts';
import { Findings, plural, type Verdict } from './verdict.ts';

/**
 * answers — every bad input the hostile clients sent got the answer PROTOCOL.md defines
 * for its kind (harness/attack/protocol-answers.ts): an error code, a close code, an HTTP
 * status with a JSON {code, message}. The witness quotes an input and what came back.
 *
 * checked = answers compared.
 */
export function check(record: AttackRecord, maxWitnesses = 100): Verdict {
  const findings = new Findings();
  let checked = 0;
  for (const a of record.attacks) {
    for (const [pair, n] of Object.entries(a.answers)) {
      checked += n;
      const [kind, got] = pair.split(' → ') as [string, string];
      const rule = PROTOCOL_ANSWERS[kind];
      if (rule?.allowed.includes(got)) continue;
      const ex = record.examples.find((e) => e.attack === a.attack && e.kind === kind && e.got === got);
      const at = ex?.at ?? 0;
      findings.add(at, () => {
        const message = rule
          ? `${a.attack}: ${plural(n, 'input')} of kind ${kind} answered ${got}, but ${rule.allowed.length ? `the answer is ${rule.allowed.join(' or ')}` : 'none may be'} (${rule.rule}); e.g. on ${ex?.node ?? '?'}: ${ex?.input ?? '?'}`
          : `${a.attack}: ${plural(n, 'input')} of kind ${kind} (no rule for it) answered ${got}; e.g. ${ex?.input ?? '?'}`;
        const first = { node: ex?.node ?? 'attack', at, stream: 'attack', text: `${ex?.input ?? ''} → ${got}` };
        return { message, first, at, trail: [first], trailOmitted: 0, faultWindow: [] };
      });
    }
  }
  const tried = record.attacks.reduce((s, a) => s + a.tried, 0);
  return findings.verdict('answers', checked, `${plural(checked, 'answer')} to ${plural(tried, 'bad input')} of ${plural(record.attacks.length, 'attack')} compared with PROTOCOL.md`, maxWitnesses);
}
