import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../harness/checks/lost.ts';
import { close, connect, convFrame, dmPair, fault, input, member, population, recv, send, t } from './build.ts';
import { simulate, specArb, toInput } from './model.ts';

const DM = 'dm:u1:u2';

describe('lost (hand-made)', () => {
  it('passes when every member device received every acked message; unknown outcomes are never failures', () => {
    const v = check(
      input([
        connect('u1/d1', 'c1', 0),
        connect('u2/d1', 'c2', 0),
        send('u1/d1', 'c1', DM, 'c-1', 1, 100),
        recv('u1/d1', 'c1', DM, 1, 'u1', 'c-1', 101),
        recv('u2/d1', 'c2', DM, 1, 'u1', 'c-1', 101),
        // answered dup with the same seq: the same message
        send('u1/d1', 'c1', DM, 'c-1', 1, 150, { outcome: 'dup' }),
        // never answered, never seen: unknown, not a failure
        send('u1/d1', 'c1', DM, 'c-2', undefined, 200),
        // answered unavailable, but stored: recovered
        send('u2/d1', 'c2', DM, 'c-3', undefined, 300, { outcome: 'error', code: 'unavailable', answeredAt: t(2300) }),
        recv('u2/d1', 'c2', DM, 2, 'u2', 'c-3', 301),
        // a definite error is not an unknown outcome
        send('u2/d1', 'c2', DM, 'c-4', undefined, 400, { outcome: 'error', code: 'rate_limited', answeredAt: t(401) }),
      ]),
    );
    expect(v).toMatchObject({ guarantee: 'lost', ok: true, checked: 2, violations: [], violationCount: 0 });
    expect(v.summary).toBe(
      'ok: 1 acked message × member devices = 2 deliveries checked; 2 unknown-outcome sends (1 recovered, 1 not seen; neither is a failure)',
    );
  });

  it('names the conv, seq, cmid, member, device and its last connection of a message that never arrived', () => {
    const sent2 = send('u1/d1', 'c1', DM, 'c-2', 2, 200);
    const v = check(
      input(
        [
          connect('u1/d1', 'c1', 0),
          connect('u2/d1', 'c2', 0),
          send('u1/d1', 'c1', DM, 'c-1', 1, 100),
          recv('u1/d1', 'c1', DM, 1, 'u1', 'c-1', 101),
          recv('u2/d1', 'c2', DM, 1, 'u1', 'c-1', 101),
          sent2,
          recv('u1/d1', 'c1', DM, 2, 'u1', 'c-2', 201),
          close('u2/d1', 'c2', 500),
        ],
        { faults: [fault('f1', 'toxic:latency', 'client-link:node-1', 150, 250), fault('f2', 'node:kill', 'node-2', 9000, 9500)] },
      ),
    );
    expect(v.ok).toBe(false);
    expect(v.violationCount).toBe(1);
    const w = v.violations[0]!;
    expect(w.message).toBe('dm:u1:u2 seq 2 (epoch e1, cmid c-2 from u1, answered sent at t+0.202s) never reached member u2 on device u2/d1 (last connection c2 ended at t+0.500s code 1006)');
    expect(w.first).toBe(sent2);
    expect(w.at).toBe(t(200));
    // the device's lifecycle and its receipts around the seq, in time order
    expect(w.trail.map((f) => ('k' in f ? `${f.k}:${f.k === 'conn' ? f.event : f.k === 'recv' ? f.seq : f.k === 'send' ? f.cmid : ''}` : 'sample'))).toEqual([
      'conn:connect',
      'conn:welcome',
      'recv:1',
      'send:c-2',
      'conn:close',
    ]);
    expect(w.faultWindow.map((f) => f.id)).toEqual(['f1']);
  });

  it('counts a member from the seq after its join to the seq of its leave (and a dm by its id)', () => {
    const G = 'g:team';
    const pop = population({ u1: ['d1'], u2: ['d1'], u3: ['d1', 'd2'] }, { [G]: ['u1', 'u2'] });
    const facts = [
      connect('u1/d1', 'c1', 0),
      send('u1/d1', 'c1', G, 'a', 1, 100),
      member(G, 'u3', 'join', 150, 1),
      send('u1/d1', 'c1', G, 'b', 2, 200),
      member(G, 'u2', 'leave', 250, 2),
      send('u1/d1', 'c1', G, 'c', 3, 300),
      recv('u1/d1', 'c1', G, 1, 'u1', 'a', 101),
      recv('u1/d1', 'c1', G, 2, 'u1', 'b', 201),
      recv('u1/d1', 'c1', G, 3, 'u1', 'c', 301),
      recv('u2/d1', 'c2', G, 1, 'u1', 'a', 401, 'backlog'),
      recv('u2/d1', 'c2', G, 2, 'u1', 'b', 401, 'backlog'),
      recv('u3/d1', 'c3', G, 2, 'u1', 'b', 401, 'backlog'),
      recv('u3/d1', 'c3', G, 3, 'u1', 'c', 401, 'backlog'),
    ];
    const v = check(input(facts, { population: pop }));
    // u3/d2 never connected: it misses 2 and 3 (joined at 1), not 1
    expect(v.violations.map((w) => w.message.replace(/ \(epoch.*?\)/, ''))).toEqual([
      `${G} seq 2 never reached member u3 on device u3/d2 (never welcomed)`,
      `${G} seq 3 never reached member u3 on device u3/d2 (never welcomed)`,
    ]);
    // 1: u1,u2 · 2: u1,u2,u3×2 · 3: u1,u3×2
    expect(v.checked).toBe(2 + 4 + 3);
  });

  it('skips a member whose change without a seq happened while the message was being stored', () => {
    const G = 'g:team';
    const pop = population({ u1: ['d1'], u2: ['d1'] }, { [G]: ['u1'] });
    const v = check(
      input([connect('u1/d1', 'c1', 0), send('u1/d1', 'c1', G, 'a', 1, 100), member(G, 'u2', 'join', 101), recv('u1/d1', 'c1', G, 1, 'u1', 'a', 105)], { population: pop }),
    );
    expect(v.ok).toBe(true);
    expect(v.summary).toContain('1 member with a membership change during the send skipped');
  });

  it('compares within an epoch: a receipt of the same seq in another epoch, or of another message at that seq, does not count', () => {
    const v = check(
      input([
        connect('u1/d1', 'c1', 0),
        connect('u2/d1', 'c2', 0),
        // e1 had seq 1 = x; the store lost it, and x's retry was stored again in e2
        recv('u2/d1', 'c2', DM, 1, 'u1', 'x', 50, 'live', 'e1'),
        send('u1/d1', 'c1', DM, 'x', 1, 100, { epoch: 'e2' }),
        recv('u1/d1', 'c1', DM, 1, 'u1', 'x', 101, 'live', 'e2'),
        send('u1/d1', 'c1', DM, 'y', 2, 200, { epoch: 'e2' }),
        recv('u1/d1', 'c1', DM, 2, 'u1', 'y', 201, 'live', 'e2'),
        recv('u2/d1', 'c2', DM, 2, 'u2', 'other', 201, 'live', 'e2'),
      ]),
    );
    expect(v.violations.map((w) => w.message.slice(0, 40))).toEqual(['dm:u1:u2 seq 1 (epoch e2, cmid x from u1', 'dm:u1:u2 seq 2 (epoch e2, cmid y from u1']);
  });

  it('does not hold messages of an epoch the store later lost', () => {
    const v = check(
      input([
        connect('u1/d1', 'c1', 0),
        send('u1/d1', 'c1', DM, 'x', 1, 100),
        recv('u1/d1', 'c1', DM, 1, 'u1', 'x', 101),
        convFrame('u1/d1', 'c1', DM, 0, 0, 500, 'e2'),
      ]),
    );
    expect(v.ok).toBe(true);
    expect(v.summary).toContain('1 acked message of epochs the store later lost not checked');
  });

  it('attributes a send without a recorded epoch to the epoch of its receipt, else to the only one', () => {
    const v = check(
      input([
        connect('u1/d1', 'c1', 0),
        connect('u2/d1', 'c2', 0),
        send('u1/d1', 'c1', DM, 'x', 1, 100, { epoch: undefined }),
        recv('u1/d1', 'c1', DM, 1, 'u1', 'x', 101),
        send('u1/d1', 'c1', DM, 'y', 2, 200, { epoch: undefined }),
      ]),
    );
    expect(v.violations.map((w) => w.message.slice(0, 40))).toEqual(['dm:u1:u2 seq 1 (epoch e1, cmid x from u1', 'dm:u1:u2 seq 2 (epoch e1, cmid y from u1', 'dm:u1:u2 seq 2 (epoch e1, cmid y from u1']);
  });

  it('a send answered before a store wipe is not guessed into an epoch first seen after it (explore --volatile, 2026-12-02)', () => {
    // u1's x (seq 1) was answered 9 ms before a volatile Redis was wiped and never delivered;
    // after the wipe the dm began again as e2, whose seq 1 is u2's y: x went with the store
    const facts = [
      connect('u1/d1', 'c1', 0),
      connect('u2/d1', 'c2', 0),
      send('u1/d1', 'c1', DM, 'x', 1, 100, { epoch: undefined }),
      send('u2/d1', 'c2', DM, 'y', 1, 400, { epoch: undefined }),
      recv('u1/d1', 'c1', DM, 1, 'u2', 'y', 402, 'live', 'e2'),
      recv('u2/d1', 'c2', DM, 1, 'u2', 'y', 402, 'live', 'e2'),
    ];
    const v = check(input(facts, { options: { storeWipes: [t(111)] } }));
    expect(v.violations.map((w) => w.message)).toEqual([]);
    expect(v.summary).toContain('1 acked message of epochs the store later lost not checked');
    // without the wipe, e2 is the only epoch the run saw, and x is owed in it
    expect(check(input(facts)).violations.map((w) => w.message.slice(0, 40))).toEqual(['dm:u1:u2 seq 1 (epoch e2, cmid x from u1', 'dm:u1:u2 seq 1 (epoch e2, cmid x from u1']);
    // a conversation no fact ever shows an epoch of: what was answered before the wipe went with it too
    const alone = [connect('u1/d1', 'c1', 0), connect('u2/d1', 'c2', 0), send('u1/d1', 'c1', DM, 'x', 1, 100, { epoch: undefined })];
    expect(check(input(alone, { options: { storeWipes: [t(111)] } })).violations).toEqual([]);
    expect(check(input(alone)).violations).toHaveLength(2);
    // a SIGTERMed Redis answers for up to a cron tick after the stop began: a send answered
    // 61 ms into the stop, before the store was back, went with it too (explore --volatile,
    // seed 2202: answered 72 ms into a stop that was back 722 ms after it began)
    const during = [connect('u1/d1', 'c1', 0), connect('u2/d1', 'c2', 0), send('u1/d1', 'c1', DM, 'x', 1, 170, { epoch: undefined }), send('u2/d1', 'c2', DM, 'y', 1, 900, { epoch: undefined }), recv('u1/d1', 'c1', DM, 1, 'u2', 'y', 902, 'live', 'e2'), recv('u2/d1', 'c2', DM, 1, 'u2', 'y', 902, 'live', 'e2')];
    expect(check(input(during, { options: { storeWipes: [t(111)], storeBackAt: [t(830)] } })).violations).toEqual([]);
    expect(check(input(during, { options: { storeWipes: [t(111)] } })).violations).toHaveLength(2);
    // answered after the wipe began (and no time it was back known): judged in the epoch that followed it
    const after = [connect('u1/d1', 'c1', 0), connect('u2/d1', 'c2', 0), send('u1/d1', 'c1', DM, 'x', 1, 200, { epoch: undefined }), recv('u1/d1', 'c1', DM, 2, 'u2', 'y', 402, 'live', 'e2')];
    expect(check(input(after, { options: { storeWipes: [t(111)] } })).violations.map((w) => w.message.slice(0, 40))).toEqual(['dm:u1:u2 seq 1 (epoch e2, cmid x from u1', 'dm:u1:u2 seq 1 (epoch e2, cmid x from u1']);
  });

  describe('a message resent after a store wipe, stored again at the same seq (review 2026-12-05, F2 control)', () => {
    // dm; x1 stored as seq 1 of e1 and received by u1/d1 and u2/d1; the volatile store is
    // wiped at t+1.000s and back at t+1.200s; u1/d1 resends x1 (same cmid), stored again as
    // seq 1 of e2 and answered `sent` at t+1.602s. u2/d1 and a new device u2/d2, both
    // connected after the wipe and told e2, are owed it. Before the fix the send was filed
    // under e1 (the first epoch with a receipt of that seq, sender and cmid), an epoch the
    // wipe took by the time it was answered, and nothing was checked.
    const pop = population({ u1: ['d1'], u2: ['d1', 'd2'] });
    const wipe = { storeWipes: [t(1000)], storeBackAt: [t(1200)] };
    const noEpoch = { epoch: undefined };
    const facts = (delivered: boolean) => [
      ...dmPair(),
      recv('u1/d1', 'c1', DM, 1, 'u1', 'x1', 12, 'live', 'e1'),
      recv('u2/d1', 'c2', DM, 1, 'u1', 'x1', 12, 'live', 'e1'),
      close('u1/d1', 'c1', 1010),
      close('u2/d1', 'c2', 1010),
      ...connect('u1/d1', 'c3', 1500),
      ...connect('u2/d1', 'c4', 1500),
      ...connect('u2/d2', 'c5', 1500),
      convFrame('u1/d1', 'c3', DM, 0, 0, 1502, 'e2'),
      convFrame('u2/d1', 'c4', DM, 0, 0, 1502, 'e2'),
      convFrame('u2/d2', 'c5', DM, 0, 0, 1502, 'e2'),
      send('u1/d1', 'c3', DM, 'x1', 1, 1600, { ...noEpoch, intendedAt: t(10), attempts: 2 }),
      recv('u1/d1', 'c3', DM, 1, 'u1', 'x1', 1602, 'live', 'e2'),
      ...(delivered ? [recv('u2/d1', 'c4', DM, 1, 'u1', 'x1', 1603, 'live', 'e2'), recv('u2/d2', 'c5', DM, 1, 'u1', 'x1', 1603, 'live', 'e2')] : []),
    ];
    const run = (delivered: boolean) => check(input(facts(delivered), { population: pop, options: { runEnd: t(60_000), ...wipe } }));

    it('fails when u2/d1 and u2/d2 never get it: a send answered after the store was back is filed in that incarnation, not under e1', () => {
      const v = run(false);
      expect(v.ok).toBe(false);
      expect(v.violations.map((w) => w.message)).toEqual([
        'dm:u1:u2 seq 1 (epoch e2, cmid x1 from u1, answered sent at t+1.602s) never reached member u2 on device u2/d1 (last connection c4 still open)',
        'dm:u1:u2 seq 1 (epoch e2, cmid x1 from u1, answered sent at t+1.602s) never reached member u2 on device u2/d2 (last connection c5 still open)',
      ]);
      expect(v.summary).not.toContain('of epochs the store later lost');
    });

    it('passes when both get it under e2 (the correct server)', () => {
      const v = run(true);
      expect(v).toMatchObject({ ok: true, checked: 3 });
    });

    it('a send answered after the store was back, before its new epoch was first seen, is not guessed into the epoch the wipe took', () => {
      // no receipt names the resend's epoch (nobody got it); e2 is first seen at t+1.800s,
      // after its answer at t+1.302s: by time alone it was guessed into e1 and not checked
      const later = [
        ...dmPair(),
        send('u1/d1', 'c1', DM, 'x0', 1, 10, noEpoch),
        recv('u1/d1', 'c1', DM, 1, 'u1', 'x0', 12, 'live', 'e1'),
        recv('u2/d1', 'c2', DM, 1, 'u1', 'x0', 12, 'live', 'e1'),
        close('u1/d1', 'c1', 1010),
        close('u2/d1', 'c2', 1010),
        ...connect('u1/d1', 'c3', 1250),
        ...connect('u2/d1', 'c4', 1250),
        send('u1/d1', 'c3', DM, 'x1', 1, 1300, noEpoch),
        convFrame('u1/d1', 'c3', DM, 0, 1, 1800, 'e2'),
        convFrame('u2/d1', 'c4', DM, 0, 1, 1800, 'e2'),
      ];
      const v = check(input(later, { options: { runEnd: t(60_000), ...wipe } }));
      expect(v.violations.map((w) => w.message.replace(/ \(last connection.*$/, ''))).toEqual([
        'dm:u1:u2 seq 1 (epoch e2, cmid x1 from u1, answered sent at t+1.302s) never reached member u1 on device u1/d1',
        'dm:u1:u2 seq 1 (epoch e2, cmid x1 from u1, answered sent at t+1.302s) never reached member u2 on device u2/d1',
      ]);
      expect(v.summary).toContain('1 acked message of epochs the store later lost not checked');
    });
  });

  it('receipts filed under no epoch count in the epoch in force, which stays the current one (review M1)', () => {
    const DM = 'dm:u1:u2';
    const noEpoch = { epoch: undefined };
    const facts = [
      ...connect('u1/d1', 'c1', 0),
      ...connect('u2/d1', 'c2', 0),
      ...connect('u2/d2', 'c3', 0),
      convFrame('u2/d1', 'c2', DM, 0, 1, 1),
      convFrame('u2/d2', 'c3', DM, 0, 1, 1),
      send('u1/d1', 'c1', DM, 'm1', 1, 0, noEpoch),
      recv('u2/d1', 'c2', DM, 1, 'u1', 'm1', 3),
      recv('u2/d2', 'c3', DM, 1, 'u1', 'm1', 3),
      // u1/d1 was sent no conv frame: it files its own messages under no epoch (''), seen last
      recv('u1/d1', 'c1', DM, 1, 'u1', 'm1', 4, 'live', ''),
      send('u1/d1', 'c1', DM, 'm2', 2, 10, noEpoch),
      recv('u2/d1', 'c2', DM, 2, 'u1', 'm2', 13),
      recv('u1/d1', 'c1', DM, 2, 'u1', 'm2', 14, 'live', ''),
      // u2/d2 never gets seq 2: before, '' was taken for the newest epoch and e1 for one lost with the store, and nothing was checked
    ];
    const v = check(input(facts));
    expect(v.violations.map((w) => w.message)).toEqual(['dm:u1:u2 seq 2 (epoch e1, cmid m2 from u1, answered sent at t+0.012s) never reached member u2 on device u2/d2 (last connection c3 still open)']);
    expect(v.summary).toMatch(/2 acked messages × member devices = 6 deliveries checked/);
    // u1/d1's receipts under no epoch count for it in e1
    expect(check(input([...facts, recv('u2/d2', 'c3', DM, 2, 'u1', 'm2', 15)])).ok).toBe(true);
  });

  it('caps witnesses at maxWitnesses, earliest first, and keeps the count', () => {
    const facts = [connect('u1/d1', 'c1', 0)];
    const more = [];
    for (let i = 10; i >= 1; i--) more.push(send('u1/d1', 'c1', DM, `m${i}`, i, i * 100), recv('u1/d1', 'c1', DM, i, 'u1', `m${i}`, i * 100 + 1));
    const v = check(input([...facts, ...more], { options: { maxWitnesses: 3 } }));
    expect(v.violationCount).toBe(10);
    expect(v.violations.map((w) => (w.first as { seq: number }).seq)).toEqual([1, 2, 3]);
    expect(v.summary.startsWith('10 violations (first 3 shown): ')).toBe(true);
  });
});

describe('lost (generated runs)', () => {
  it('a run that keeps the guarantee passes', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const run = simulate(spec);
        const v = check(toInput(run));
        expect(v.violations.map((w) => w.message)).toEqual([]);
        expect(v.ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('dropping every receipt of one message by one device is flagged exactly', () => {
    fc.assert(
      fc.property(
        specArb.filter((s) => s.ops.some((o) => o.kind === 'send')),
        fc.nat(),
        (spec, pick) => {
          const run = simulate(spec);
          const recvs = run.facts.filter((f) => f.k === 'recv');
          fc.pre(recvs.length > 0);
          const victim = recvs[pick % recvs.length]!;
          const facts = run.facts.filter((f) => !(f.k === 'recv' && f.client === victim.client && f.conv === victim.conv && f.seq === victim.seq));
          const v = check(toInput(run, facts));
          expect(v.violationCount).toBe(1);
          const w = v.violations[0]!;
          expect(w.message).toContain(`${victim.conv} seq ${victim.seq} (epoch e1, cmid ${victim.cmid} from ${victim.from},`);
          expect(w.message).toContain(`on device ${victim.client} (`);
          expect(w.first).toMatchObject({ k: 'send', conv: victim.conv, seq: victim.seq, cmid: victim.cmid });
        },
      ),
      { numRuns: 200 },
    );
  });
});
