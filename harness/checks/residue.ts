import type { ResidueSample } from '../attack/residue.ts';
import { Findings, plural, type Verdict } from './verdict.ts';

/**
 * residue — requests the server refused wrote nothing: no key of a group whose creation
 * was refused (keys counted by pattern before and after the attack), and no user listed
 * by a refused create or add is a member of that group or has it in its index.
 *
 * checked = keys and (group, user) pairs examined.
 */
export function check(s: ResidueSample, maxWitnesses = 100): Verdict {
  const findings = new Findings();
  for (const text of s.found) {
    const first = { node: 'redis', at: s.at, stream: 'keys', text };
    findings.add(s.at, () => ({ message: `redis: ${text}`, first, at: s.at, trail: [first], trailOmitted: 0, faultWindow: [] }));
  }
  const checked = s.groupKeysAfter + 2 * s.refusedMembers;
  return findings.verdict(
    'residue',
    checked,
    `attacker group keys ${s.groupKeysBefore} before, ${s.groupKeysAfter} after, for ${plural(s.createdGroups, 'group')} created; ${plural(s.refusedGroups, 'refused group')} and ${plural(s.refusedMembers, 'listed (group, user) pair')} of refused requests checked`,
    maxWitnesses,
  );
}
