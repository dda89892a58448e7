import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../harness/checks/unexpected.ts';
import { check as checkLost } from '../../harness/checks/lost.ts';
import type { MemberFact, RecvFact } from '../../harness/model/facts.ts';
import { connect, input, member, population, recv, send, t } from './build.ts';
import { simulate, specArb, toInput } from './model.ts';

const G = 'g:team';
const pop = population({ u1: ['d1'], u2: ['d1'], u3: ['d1'] }, { [G]: ['u1', 'u2'] });

describe('unexpected (hand-made)', () => {
  it('passes receipts by members: before a leave (by seq or by time), after a join', () => {
    const v = check(
      input(
        [
          connect('u1/d1', 'c1', 0),
          connect('u2/d1', 'c2', 0),
          connect('u3/d1', 'c3', 0),
          send('u1/d1', 'c1', G, 'a', 1, 100),
          recv('u2/d1', 'c2', G, 1, 'u1', 'a', 103),
          // u2 leaves at head 1 but gets seq 1 late (a backlog after the leave): it was a member at seq 1
          member(G, 'u2', 'leave', 200, 1),
          recv('u2/d1', 'c2', G, 1, 'u1', 'a', 250, 'backlog'),
          // u3 joins by time (no seq) before seq 2 was sent
          { ...member(G, 'u3', 'join', 300), until: t(310) },
          send('u1/d1', 'c1', G, 'b', 2, 400),
          recv('u3/d1', 'c3', G, 2, 'u1', 'b', 403),
        ],
        { population: pop },
      ),
    );
    // (seq 1, u2/d1) once however often it arrived, (seq 2, u3/d1)
    expect(v).toMatchObject({ guarantee: 'unexpected', ok: true, checked: 2 });
    expect(v.summary).toBe('ok: 2 (message, receiving device) pairs checked');
  });

  it('flags a message pushed to a device whose user had left, naming message, device, connection and the leave', () => {
    const leak = recv('u2/d1', 'c2', G, 2, 'u1', 'b', 403);
    const v = check(
      input(
        [
          connect('u1/d1', 'c1', 0),
          connect('u2/d1', 'c2', 0),
          { ...member(G, 'u2', 'leave', 200), until: t(205) },
          send('u1/d1', 'c1', G, 'b', 2, 400),
          leak,
        ],
        { population: pop },
      ),
    );
    expect(v.violationCount).toBe(1);
    const w = v.violations[0]!;
    expect(w.message).toBe('g:team seq 2 (epoch e1, cmid b from u1, stored after t+0.400s) reached u2/d1 on c2 at t+0.403s (live), but u2 was not a member then (left at t+0.200s)');
    expect(w.first).toBe(leak);
    expect(w.trail.some((f) => 'k' in f && f.k === 'member')).toBe(true);
  });

  it('flags a message before the join (by seq) and a user who never was a member; skips a change overlapping the send', () => {
    const v = check(
      input(
        [
          connect('u1/d1', 'c1', 0),
          connect('u3/d1', 'c3', 0),
          send('u1/d1', 'c1', G, 'a', 1, 100),
          member(G, 'u3', 'join', 150, 1),
          recv('u3/d1', 'c3', G, 1, 'u1', 'a', 160, 'backlog'),
          send('u1/d1', 'c1', G, 'b', 2, 300),
          recv('u3/d1', 'c3', G, 2, 'u1', 'b', 302),
          // u2 leaves while seq 3 is being sent: ambiguous, skipped
          { ...member(G, 'u2', 'leave', 499), until: t(501) },
          send('u1/d1', 'c1', G, 'c', 3, 500),
          recv('u2/d1', 'c2', G, 3, 'u1', 'c', 503),
          // a dm between u1 and u2 reaching u3
          send('u1/d1', 'c1', 'dm:u1:u2', 'd', 1, 600),
          recv('u3/d1', 'c3', 'dm:u1:u2', 1, 'u1', 'd', 603),
        ],
        { population: pop },
      ),
    );
    expect(v.violations.map((w) => w.message)).toEqual([
      'g:team seq 1 (epoch e1, cmid a from u1, stored after t+0.100s) reached u3/d1 on c3 at t+0.160s (backlog), but u3 was not a member then (joined at t+0.150s (head 1))',
      'dm:u1:u2 seq 1 (epoch e1, cmid d from u1, stored after t+0.600s) reached u3/d1 on c3 at t+0.603s (live), but u3 was not a member then (never a member)',
    ]);
    expect(v.summary).toMatch(/1 receipt with a membership change during the send skipped/);
  });

  it('lost holds a leaver to the messages up to its leave and a joiner to those after its join', () => {
    const facts = [
      connect('u1/d1', 'c1', 0),
      connect('u2/d1', 'c2', 0),
      connect('u3/d1', 'c3', 0),
      send('u1/d1', 'c1', G, 'a', 1, 100),
      recv('u1/d1', 'c1', G, 1, 'u1', 'a', 103),
      recv('u2/d1', 'c2', G, 1, 'u1', 'a', 103),
      { ...member(G, 'u2', 'leave', 200), until: t(205) } as MemberFact,
      { ...member(G, 'u3', 'join', 200), until: t(205) } as MemberFact,
      send('u1/d1', 'c1', G, 'b', 2, 400),
      recv('u1/d1', 'c1', G, 2, 'u1', 'b', 403),
      recv('u3/d1', 'c3', G, 2, 'u1', 'b', 403),
    ];
    expect(checkLost(input(facts, { population: pop })).ok).toBe(true);
    // u3 never gets seq 2: lost; u2 missing seq 2 is not
    const v = checkLost(input(facts.filter((f) => !(!Array.isArray(f) && f.k === 'recv' && f.client === 'u3/d1')), { population: pop }));
    expect(v.violations.map((w) => w.message)).toEqual([expect.stringMatching(/^g:team seq 2 .* never reached member u3 on device u3\/d1/)]);
  });
});

describe('unexpected (generated runs)', () => {
  it('a run that keeps the guarantee passes', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const v = check(toInput(simulate(spec)));
        expect(v.violations.map((w) => w.message)).toEqual([]);
        expect(v.ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('one message pushed to a device of a user who was not a member at its seq is flagged exactly', () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, pickMsg) => {
        const run = simulate(spec);
        const members = (conv: string, seq: number) => {
          const s = new Set(run.population.convs.find((c) => c.conv === conv)!.members);
          for (const f of run.facts) if (f.k === 'member' && f.conv === conv && f.seq! < seq) f.op === 'join' ? s.add(f.user) : s.delete(f.user);
          return s;
        };
        // (message, device) pairs where the device's user was not a member at that seq
        const outsiders = run.msgs.flatMap((m) => {
          const inside = members(m.conv, m.seq);
          return run.population.users.filter((u) => !inside.has(u.user)).flatMap((u) => u.devices.map((d) => ({ m, client: `${u.user}/${d}` })));
        });
        fc.pre(outsiders.length > 0);
        const { m, client } = outsiders[pickMsg % outsiders.length]!;
        const at = m.send.answeredAt! + 1;
        const leak: RecvFact = { k: 'recv', client, conn: 'leak-conn', conv: m.conv, epoch: 'e1', seq: m.seq, from: m.from, cmid: m.cmid, at, via: 'live' };
        const v = check(toInput(run, [...run.facts, leak]));
        expect(v.violationCount).toBe(1);
        const w = v.violations[0]!;
        expect(w.message).toContain(`${m.conv} seq ${m.seq} (epoch e1, cmid ${m.cmid} from ${m.from},`);
        expect(w.message).toContain(`reached ${client} on leak-conn`);
        expect(w.first).toBe(leak);
      }),
      { numRuns: 200 },
    );
  });
});
