import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../harness/checks/presence.ts';
import type { PresenceFact } from '../../harness/model/facts.ts';
import { close, connect, fault, input, population, presence, t } from './build.ts';
import { simulate, specArb, toInput } from './model.ts';

const pop = population({ u1: ['d1'], u2: ['d1'], u3: ['d1'] }, {});

/** u1 (c1) and u3 (c3) stay; u2 (c2) leaves at 500. u1 subscribes to u2 and u3. */
function base() {
  return [
    connect('u1/d1', 'c1', 0),
    connect('u2/d1', 'c2', 10),
    connect('u3/d1', 'c3', 20),
    presence('u1/d1', 'c1', 'u2', 'online', 1, 30),
    presence('u1/d1', 'c1', 'u3', 'online', 2, 30),
    close('u2/d1', 'c2', 500),
  ];
}

describe('presence (hand-made)', () => {
  it("passes when each open subscriber's highest-v frame matches the connections", () => {
    // the offline frame (v 3) arrives before a stale online one (v 1 again): highest v wins
    const v = check(input([...base(), presence('u1/d1', 'c1', 'u2', 'offline', 3, 510), presence('u1/d1', 'c1', 'u2', 'online', 1, 520)], { population: pop }));
    expect(v).toMatchObject({ guarantee: 'presence', ok: true, checked: 2 });
    expect(v.summary).toBe('ok: 2 (subscriber, user) views checked at t+0.520s');
  });

  it('flags a subscriber holding online for a user without an open connection', () => {
    const v = check(input(base(), { population: pop }));
    expect(v.violationCount).toBe(1);
    const w = v.violations[0]!;
    expect(w.message).toBe('subscriber u1/d1 (connection c1) holds u2 online (v 1, received t+0.030s) at t+0.500s, but u2 has no open connection (last c2 of u2/d1 ended t+0.500s code 1006)');
    expect(w.first).toEqual(presence('u1/d1', 'c1', 'u2', 'online', 1, 30));
    // the frames it holds about u2 and u2's connection lifecycle
    expect(w.trail.map((f) => ('k' in f && f.k === 'conn' ? `${f.client}:${f.event}` : 'k' in f ? f.k : ''))).toEqual(['u2/d1:connect', 'u2/d1:welcome', 'presence', 'u2/d1:close']);
  });

  it('flags a subscriber holding offline for a user with an open connection', () => {
    const v = check(input([...base(), presence('u1/d1', 'c1', 'u2', 'offline', 3, 510), presence('u1/d1', 'c1', 'u3', 'offline', 4, 600)], { population: pop }));
    expect(v.violations.map((w) => w.message)).toEqual([
      'subscriber u1/d1 (connection c1) holds u3 offline (v 4, received t+0.600s) at t+0.600s, but u3 has open connection c3 (u3/d1, welcomed t+0.021s)',
    ]);
  });

  it('keeps the highest v a device saw on any of its connections, and examines only open subscribers', () => {
    const facts = [
      ...base(),
      presence('u1/d1', 'c1', 'u2', 'offline', 3, 510),
      close('u1/d1', 'c1', 600),
      connect('u1/d1', 'c4', 700),
      // the new connection's subscription answer is older than what c1 saw
      presence('u1/d1', 'c4', 'u2', 'online', 1, 702),
      // u3 subscribed on c3 to u1 but c3 is closed by the reading: not examined
      presence('u3/d1', 'c3', 'u1', 'offline', 9, 703),
      close('u3/d1', 'c3', 800),
    ];
    const v = check(input(facts, { population: pop }));
    expect(v).toMatchObject({ ok: true, checked: 1 });
  });

  it('skips users still connecting or disconnecting after quiescence, reads at the given time, or against a given truth', () => {
    expect(check(input(base(), { population: pop, options: { presence: { quiescentAt: t(400) } } }))).toMatchObject({ ok: true, checked: 1 });
    expect(check(input(base(), { population: pop, options: { presence: { quiescentAt: t(400) } } })).summary).toContain('1 view of users still connecting or disconnecting after quiescence skipped');
    expect(check(input(base(), { population: pop, options: { presence: { at: t(400) } } })).ok).toBe(true);
    const given = check(input(base(), { population: pop, options: { presence: { truth: { u2: true, u3: false } } } }));
    expect(given.violations.map((w) => w.message.replace(/.*, but /, ''))).toEqual(['the truth given says offline']);
    expect(check(input(base(), { population: pop, options: { presence: { truth: new Map([['u2', true], ['u3', true]]) } } })).ok).toBe(true);
  });

  it('ends a connection at its close, or at its error when it recorded no close', () => {
    const err = (client: string, conn: string, at: number) => ({ k: 'conn' as const, client, conn, event: 'error' as const, at: t(at), detail: 'ECONNRESET' });
    const facts = [connect('u1/d1', 'c1', 0), connect('u2/d1', 'c2', 0), presence('u1/d1', 'c1', 'u2', 'online', 1, 5)];
    // an error, then the close later: open until the close
    expect(check(input([...facts, err('u2/d1', 'c2', 100), close('u2/d1', 'c2', 300)], { population: pop, options: { presence: { at: t(200) } } })).ok).toBe(true);
    // an error and no close: over at the error
    const v = check(input([...facts, err('u2/d1', 'c2', 100)], { population: pop, options: { presence: { at: t(200) } } }));
    expect(v.violations[0]!.message).toContain('but u2 has no open connection (last c2 of u2/d1 ended t+0.100s)');
  });

  it('says so when nothing could be examined', () => {
    expect(check(input([connect('u1/d1', 'c1', 0)], { population: pop })).summary).toBe('ok: 0 (subscriber, user) views checked at t+0.001s; nothing to check: no open connection held presence frames');
  });
});

describe('presence (generated runs)', () => {
  it('a run that keeps the guarantee passes', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const v = check(toInput(simulate(spec)));
        expect(v.violations.map((w) => w.message)).toEqual([]);
        expect(v.checked).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it("flipping the frame a subscriber holds for a user is flagged exactly", () => {
    fc.assert(
      fc.property(specArb, fc.nat(), (spec, pick) => {
        const run = simulate(spec);
        const openConns = new Set(run.conns.filter((c) => c.closeAt === undefined).map((c) => c.conn));
        // the frames held: per (client, user) the highest v; only subscribers open at the end
        const held = new Map<string, PresenceFact>();
        for (const f of run.facts) {
          if (f.k !== 'presence') continue;
          const k = f.client + '\0' + f.user;
          const h = held.get(k);
          if (!h || f.v > h.v || (f.v === h.v && f.at >= h.at)) held.set(k, f);
        }
        const subscribedOpen = new Set(run.facts.filter((f) => f.k === 'presence' && openConns.has(f.conn)).map((f) => (f as PresenceFact).client + '\0' + (f as PresenceFact).user));
        const candidates = [...held.entries()].filter(([k]) => subscribedOpen.has(k)).map(([, f]) => f);
        fc.pre(candidates.length > 0);
        const victim = candidates[pick % candidates.length]!;
        const flipped: PresenceFact = { ...victim, status: victim.status === 'online' ? 'offline' : 'online' };
        const v = check(toInput(run, run.facts.map((f) => (f === victim ? flipped : f))));
        expect(v.violationCount).toBe(1);
        expect(v.violations[0]!.first).toBe(flipped);
        expect(v.violations[0]!.message).toMatch(new RegExp(`^subscriber ${victim.client} \\(connection c\\d+\\) holds ${victim.user} ${flipped.status} \\(v ${victim.v},`));
      }),
      { numRuns: 200 },
    );
  });
});

describe('presence over time (overTime)', () => {
  const overTime = { settleMs: 1000, afterFaultMs: 3000 };
  /** u2 leaves at 500 and stays away; the run goes on to 6000 (u3 keeps sending frames' worth of time) */
  const late = (offlineAt: number) => [...base(), presence('u1/d1', 'c1', 'u2', 'offline', 3, offlineAt), presence('u1/d1', 'c1', 'u3', 'online', 2, 6000)];

  it('passes when the subscriber learns the change within the settle time', () => {
    const v = check(input(late(520), { population: pop, options: { presence: { overTime } } }));
    expect(v.ok).toBe(true);
    expect(v.summary).toMatch(/settled stretches of \(subscriber connection, user\) checked over time \(settle 1000 ms, 3000 ms after a fault\); \d+ \(user, v\)s? checked for one status/);
  });

  it('flags a wrong online the end state no longer shows (the offline came 4 s late)', () => {
    const facts = late(4800);
    // read at the end, the view is right: this is what a final sync hides
    expect(check(input(facts, { population: pop })).ok).toBe(true);
    const v = check(input(facts, { population: pop, options: { presence: { overTime } } }));
    expect(v.violations.map((w) => w.message)).toEqual([
      'subscriber u1/d1 (connection c1) showed u2 online (v 1, received t+0.030s) within t+1.500s–t+6.000s, while u2 was offline from t+0.500s to t+6.000s (checked from 1000 ms after that began and after the subscriber connected)',
    ]);
  });

  it('does not judge presence while a fault and afterFaultMs past it quiet it', () => {
    const v = check(input(late(4800), { population: pop, faults: [fault('f1', 'node:restart', 'node-2', 400)], options: { presence: { overTime } } }));
    // the restart at 400 (instant) quiets 400..3400; from 3400 to 4800 the view is still wrong
    expect(v.violations.map((w) => w.message)).toEqual([
      'subscriber u1/d1 (connection c1) showed u2 online (v 1, received t+0.030s) within t+3.400s–t+6.000s, while u2 was offline from t+0.500s to t+6.000s (checked from 1000 ms after that began and after the subscriber connected, and 3000 ms after a fault)',
    ]);
    // a hostile client's attack is load, not a fault: it quiets nothing
    const attacked = check(input(late(4800), { population: pop, faults: [fault('a1', 'attack:protocol-fuzz', 'node-1', 400, 5000)], options: { presence: { overTime } } }));
    expect(attacked.violations[0]!.message).toMatch(/within t\+1\.500s–t\+6\.000s/);
    const healed = check(input(late(3300), { population: pop, faults: [fault('f1', 'node:restart', 'node-2', 400)], options: { presence: { overTime } } }));
    expect(healed.ok).toBe(true);
  });

  it('a node killed and left down quiets presence only afterFaultMs past the kill: its users must converge within it', () => {
    const killed = [fault('f1', 'node:kill', 'node-2', 400)];
    // left down to the end of the run: as a fault it lasts until healed, but presence must settle PRESENCE_TTL_MS after it
    const v = check(input(late(4800), { population: pop, faults: killed, options: { presence: { overTime } } }));
    expect(v.violations.map((w) => w.message)).toEqual([
      'subscriber u1/d1 (connection c1) showed u2 online (v 1, received t+0.030s) within t+3.400s–t+6.000s, while u2 was offline from t+0.500s to t+6.000s (checked from 1000 ms after that began and after the subscriber connected, and 3000 ms after a fault)',
    ]);
    expect(check(input(late(3300), { population: pop, faults: killed, options: { presence: { overTime } } })).ok).toBe(true);
  });

  it('lets the server learn a change before the user\'s own device records it (the last 500 ms of a stretch are open)', () => {
    // u2's offline reaches the subscriber 400 ms before u2's device records its close
    const facts = [...connect('u1/d1', 'c1', 0), ...connect('u2/d1', 'c2', 10), presence('u1/d1', 'c1', 'u2', 'online', 1, 30), presence('u1/d1', 'c1', 'u2', 'offline', 2, 4600), close('u2/d1', 'c2', 5000), presence('u1/d1', 'c1', 'u2', 'offline', 2, 8000)];
    expect(check(input(facts, { population: pop, options: { presence: { overTime } } })).ok).toBe(true);
    // 2.4 s early is more than that
    const early = [...connect('u1/d1', 'c1', 0), ...connect('u2/d1', 'c2', 10), presence('u1/d1', 'c1', 'u2', 'online', 1, 30), presence('u1/d1', 'c1', 'u2', 'offline', 2, 2600), close('u2/d1', 'c2', 5000), presence('u1/d1', 'c1', 'u2', 'offline', 2, 8000)];
    expect(check(input(early, { population: pop, options: { presence: { overTime } } })).violations[0]!.message).toMatch(/^subscriber u1\/d1 \(connection c1\) showed u2 offline \(v 2, received t\+2\.600s\) within t\+1\.011s–t\+4\.500s, while u2 was online from t\+0\.011s to t\+5\.000s/);
  });

  it('a connection its device closed itself may be gone on the server from the close frame on, before the device records `close`', () => {
    // the replay's final sync (found in a replay of a smoke capture): u2/d1 and u2/d2 both close
    // themselves; the server let d2 go at 5050, when d1's new connection was not welcomed yet,
    // so u2 was offline for a moment and u1 saw it; d2's device recorded its close only at 5300,
    // after d1's welcome (5200): by the devices' records alone u2 was online throughout
    const two = population({ u1: ['d1'], u2: ['d1', 'd2'] }, {});
    const closingOf = (client: string, conn: string, at: number) => ({ k: 'conn' as const, client, conn, event: 'closing' as const, at: t(at) });
    const facts = [
      ...connect('u1/d1', 'c1', 0),
      ...connect('u2/d1', 'c2', 10),
      ...connect('u2/d2', 'c3', 20),
      presence('u1/d1', 'c1', 'u2', 'online', 1, 30),
      closingOf('u2/d1', 'c2', 5000),
      close('u2/d1', 'c2', 5010, 1000),
      closingOf('u2/d2', 'c3', 5030),
      presence('u1/d1', 'c1', 'u2', 'offline', 2, 5060),
      // u1's own final-sync close, before u2's online (v 3) reached it
      closingOf('u1/d1', 'c1', 5100),
      ...connect('u2/d1', 'c4', 5199),
      close('u2/d2', 'c3', 5300, 1000),
      close('u1/d1', 'c1', 5310, 1000),
      ...connect('u1/d1', 'c5', 5400),
      presence('u1/d1', 'c5', 'u2', 'online', 3, 5410),
      presence('u1/d1', 'c5', 'u2', 'online', 3, 9000),
    ];
    expect(check(input(facts, { population: two, options: { presence: { overTime } } })).ok).toBe(true);
    // without the `closing` records the same view is judged against "online throughout"
    const unrecorded = facts.filter((f) => !(f.k === 'conn' && f.event === 'closing'));
    expect(check(input(unrecorded, { population: two, options: { presence: { overTime } } })).violations[0]!.message).toMatch(/^subscriber u1\/d1 \(connection c1\) showed u2 offline \(v 2, received t\+5\.060s\).*while u2 was online from t\+0\.011s to t\+/);
    // a wrong offline while a device is still open, before anyone began closing, is still flagged
    const wrong = facts.map((f) => (f.k === 'presence' && f.v === 2 ? { ...f, at: t(3000) } : f));
    expect(check(input(wrong, { population: two, options: { presence: { overTime } } })).violations[0]!.message).toMatch(/showed u2 offline \(v 2, received t\+3\.000s\)/);
  });

  it('the time between a device\'s connect and its welcome is neither online nor offline (the server registers it during hello)', () => {
    // u2 connects at 3000 but reads its welcome only at 4500 (a loaded node): u1 sees it online at 3200
    const slow = [
      ...connect('u1/d1', 'c1', 0),
      presence('u1/d1', 'c1', 'u2', 'offline', 1, 30),
      { k: 'conn' as const, client: 'u2/d1', conn: 'c2', event: 'connect' as const, at: t(3000) },
      presence('u1/d1', 'c1', 'u2', 'online', 2, 3200),
      { k: 'conn' as const, client: 'u2/d1', conn: 'c2', event: 'welcome' as const, at: t(4500), node: 'node-1' },
      presence('u1/d1', 'c1', 'u2', 'online', 2, 9000),
    ];
    expect(check(input(slow, { population: pop, options: { presence: { overTime } } })).ok).toBe(true);
    // online before the device even connected is still wrong
    const early = slow.map((f) => (f.k === 'presence' && f.at === t(3200) ? { ...f, at: t(2000) } : f));
    expect(check(input(early, { population: pop, options: { presence: { overTime } } })).violations[0]!.message).toMatch(/showed u2 online \(v 2, received t\+2\.000s\) within t\+1\.001s–t\+2\.500s, while u2 was offline from t\+0\.000s to t\+3\.000s/);
  });

  it('a handshake recorded under a provisional id (as the fleet records it) ends at its welcome, not at the end of the run', () => {
    const facts = [
      ...connect('u1/d1', 'c1', 0),
      { k: 'conn' as const, client: 'u2/d1', conn: 'pending:u2/d1:1', event: 'connect' as const, at: t(10) },
      { k: 'conn' as const, client: 'u2/d1', conn: 'c2', event: 'welcome' as const, at: t(20), node: 'node-1' },
      presence('u1/d1', 'c1', 'u2', 'online', 1, 30),
      close('u2/d1', 'c2', 500),
      presence('u1/d1', 'c1', 'u2', 'online', 2, 6000),
    ];
    // u2 is gone from 500 on, but u1 never hears it
    expect(check(input(facts, { population: pop, options: { presence: { overTime } } })).violations[0]!.message).toMatch(/showed u2 online \(v 1, received t\+0\.030s\) within t\+1\.500s–t\+6\.000s, while u2 was offline from t\+0\.500s to t\+6\.000s/);
  });

  it('flags one v that two subscribers saw with different statuses', () => {
    const facts = [...late(520), ...connect('u3/d1', 'c5', 40), presence('u3/d1', 'c5', 'u2', 'offline', 1, 600)];
    const v = check(input(facts, { population: pop, options: { presence: { overTime } } }));
    expect(v.violations.map((w) => w.message)).toContain('u2 v 1 is online to u1/d1 (t+0.030s) but offline to u3/d1 (t+0.600s): one v must name one state');
  });
});

describe('presence: device limit and replacements (devices.ts)', () => {
  const pop3 = population({ u1: ['d0', 'd1', 'd2'], u2: ['d0'] }, {});
  const refused = (client: string, conn: string, at: number) => [{ k: 'conn' as const, client, conn, event: 'connect' as const, at: t(at) }, close(client, conn, at + 5, 4429)];

  it('passes a refusal at the limit and flags a third device welcomed at MAX_DEVICES 2', () => {
    const ok = check(input([connect('u1/d0', 'a', 0), connect('u1/d1', 'b', 10), refused('u1/d2', 'p', 100)], { population: pop3, options: { presence: { maxDevices: 2 } } }));
    expect(ok).toMatchObject({ ok: true });
    expect(ok.summary).toContain('device limit (MAX_DEVICES 2): 2 welcomes and 1 refusal (4429) checked');
    const over = check(input([connect('u1/d0', 'a', 0), connect('u1/d1', 'b', 10), connect('u1/d2', 'c', 100), close('u1/d2', 'c', 3000, 1000)], { population: pop3, options: { presence: { maxDevices: 2 } } }));
    expect(over.violations.map((v) => v.message)).toEqual([
      'u1 had 3 devices welcomed and open at once from t+0.101s for more than 1000 ms — u1/d0 on a (welcomed t+0.001s), u1/d1 on b (welcomed t+0.011s), u1/d2 on c (welcomed t+0.101s) — but MAX_DEVICES is 2: the last of them should have been refused 4429',
    ]);
  });

  it('flags a refusal while the user had room, but not one within a just-closed connection\'s deregistration', () => {
    // d1 closed at 50: the server may still hold its registration for 2 s, so a refusal at 100 is fine; at 3000 it is not
    const facts = [connect('u1/d0', 'a', 0), connect('u1/d1', 'b', 10), close('u1/d1', 'b', 50, 1000), refused('u1/d2', 'p', 100), refused('u1/d2', 'q', 3000)];
    const v = check(input(facts, { population: pop3, options: { presence: { maxDevices: 2 } } }));
    expect(v.violations.map((x) => x.message)).toEqual([
      "u1/d2's hello (connection q, from t+3.000s) was refused 4429 at t+3.005s, but u1 had only 1 other device that may have been open then (u1/d0 (a); MAX_DEVICES is 2): a device within the limit, or one replacing itself, must be welcomed",
    ]);
  });

  it('flags a replaced connection closed other than 4409, or never', () => {
    const rep = (conn: string, at: number) => ({ k: 'replace' as const, client: 'u1/d0', conn, at: t(at) });
    const right = check(input([connect('u1/d0', 'a', 0), rep('a', 100), connect('u1/d0', 'b', 100), close('u1/d0', 'a', 150, 4409)], { population: pop3 }));
    expect(right).toMatchObject({ ok: true });
    expect(right.summary).toContain('1 connection left open while its device connected again checked for its 4409');
    const wrong = check(input([connect('u1/d0', 'a', 0), rep('a', 100), connect('u1/d0', 'b', 100), close('u1/d0', 'a', 9000, 1006)], { population: pop3 }));
    expect(wrong.violations.map((x) => x.message)).toEqual([
      'u1/d0 connected again at t+0.100s leaving its connection a open; the new connection b was welcomed at t+0.101s on node-1, but the old one was closed 1006 at t+9.000s (PROTOCOL.md: a second connection of the same device closes the older one with 4409, also on another node)',
    ]);
  });
});
