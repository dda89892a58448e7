// From capture records to a recorded plan (fast, in memory): devices and their steps at
// their recorded times (scaled by --speed, cut by --from/--to, --users), membership from the
// HTTP records and the traffic, and the faults the capture implies.
import { describe, expect, it } from 'vitest';
import { recordedSchema } from '../../harness/fleet/recorded.ts';
import { divergences, sideBySide, summarize } from '../../harness/replay/compare.ts';
import type { FaultEvent } from '../../harness/model/facts.ts';
import { faultsOfRun, planReplay } from '../../harness/replay/plan.ts';
import { comparisonWindows, replayScenario } from '../../harness/replay/replay.ts';
import { faultStep } from '../../harness/scenario/define.ts';
import type { CaptureData, NodeRecord } from '../../harness/replay/read.ts';
import { captureRecord } from '../../server/capture/schema.ts';

const T = 1_764_000_000_000;
/** records of one node incarnation, each checked against the schema the server writes */
function recs(node: string, incarnation: string, list: Record<string, unknown>[]): NodeRecord[] {
  return list.map((r) => ({ ...captureRecord.parse({ m: (r.w as number) - T, ...r }), node, incarnation }));
}
function capture(...parts: NodeRecord[][]): CaptureData {
  const records = parts.flat().sort((a, b) => a.w - b.w);
  return { dir: 'cap', files: [], records, nodes: [...new Set(records.map((r) => r.node))].sort() };
}

const node1 = recs('node-1', 'node-1.a', [
  { k: 'node', w: T, event: 'start', node: 'node-1', incarnation: 'node-1.a' },
  { k: 'redis', w: T + 1, link: 'cmd', state: 'up' },
  { k: 'redis', w: T + 2, link: 'bus', state: 'up' },
  { k: 'http', w: T + 10, method: 'POST', route: 'POST /v1/groups', status: 201, ms: 1, user: 'a', group: 'g1', users: ['b', 'c'] },
  { k: 'open', w: T + 100, conn: 'node-1.a.1' },
  { k: 'hello', w: T + 100, conn: 'node-1.a.1', user: 'a', device: 'd0' },
  { k: 'in', w: T + 1100, conn: 'node-1.a.1', t: 'send', id: 's1', conv: 'g:g1', cmid: 'a.1', bytes: 80, hash: 'abcdefabcdef' },
  { k: 'out', w: T + 1102, conn: 'node-1.a.1', t: 'sent', id: 's1', conv: 'g:g1', seq: 1, cmid: 'a.1', dup: false },
  { k: 'in', w: T + 1300, conn: 'node-1.a.1', t: 'ack', conv: 'dm:a:b', seq: 4 },
  { k: 'in', w: T + 1400, conn: 'node-1.a.1', t: 'history', id: 'q1', conv: 'dm:a:b', after: 2, limit: 50 },
  { k: 'close', w: T + 2100, conn: 'node-1.a.1', code: 1006, reason: '', by: 'client' },
  { k: 'open', w: T + 3100, conn: 'node-1.a.2' },
  { k: 'hello', w: T + 3100, conn: 'node-1.a.2', user: 'a', device: 'd0' },
  // the Redis link cut for 1.5 s; the bus went with it
  { k: 'redis', w: T + 4100, link: 'bus', state: 'down' },
  { k: 'redis', w: T + 4100, link: 'cmd', state: 'down' },
  { k: 'redis', w: T + 5600, link: 'cmd', state: 'up' },
  { k: 'redis', w: T + 5700, link: 'bus', state: 'up' },
  { k: 'node', w: T + 8100, event: 'stop', node: 'node-1', incarnation: 'node-1.a', signal: 'SIGTERM' },
]);
const node1b = recs('node-1', 'node-1.b', [{ k: 'node', w: T + 8600, event: 'start', node: 'node-1', incarnation: 'node-1.b' }]);
const node2 = recs('node-2', 'node-2.a', [
  { k: 'redis', w: T + 1, link: 'cmd', state: 'up' },
  { k: 'open', w: T + 150, conn: 'node-2.a.1' },
  { k: 'hello', w: T + 150, conn: 'node-2.a.1', user: 'b', device: 'd1' },
  { k: 'out', w: T + 1103, conn: 'node-2.a.1', t: 'msg', conv: 'g:g1', seq: 1, via: 'live' },
  // the bus link alone, while the command link stays up
  { k: 'redis', w: T + 2600, link: 'bus', state: 'down' },
  { k: 'redis', w: T + 2700, link: 'bus', state: 'up' },
  { k: 'close', w: T + 6100, conn: 'node-2.a.1', code: 4409, reason: 'replaced', by: 'server' },
  { k: 'open', w: T + 6600, conn: 'node-2.a.2' },
  { k: 'hello', w: T + 6600, conn: 'node-2.a.2', user: 'b', device: 'd1' },
  // records end without a stop: killed
  { k: 'in', w: T + 9100, conn: 'node-2.a.2', t: 'ack', conv: 'g:g1', seq: 1 },
]);
const node2b = recs('node-2', 'node-2.b', [{ k: 'node', w: T + 10_100, event: 'start', node: 'node-2', incarnation: 'node-2.b' }]);
const cap = capture(node1, node1b, node2, node2b);

describe('planReplay', () => {
  it('devices, steps timed from the first hello, membership, and the faults the capture implies', () => {
    const p = planReplay(cap, { speed: 1 });
    expect(p.t0).toBe(T + 100);
    const a = p.recorded.devices.find((d) => d.user === 'a')!;
    expect(a.node).toBe(1);
    expect(a.steps).toEqual([
      { op: 'send', at: 1000, conv: 'g:g1', cmid: 'a.1', bytes: 80 },
      { op: 'ack', at: 1200, conv: 'dm:a:b', seq: 4 },
      { op: 'history', at: 1300, conv: 'dm:a:b', after: 2, limit: 50 },
      { op: 'drop', at: 2000, code: 1006 },
      { op: 'connect', at: 3000 },
    ]);
    const b = p.recorded.devices.find((d) => d.user === 'b')!;
    // closed by the server (4409): no drop step; its reconnect is a step
    expect(b).toMatchObject({ node: 2, steps: [{ op: 'connect', at: 6500 }, { op: 'ack', at: 9000, conv: 'g:g1', seq: 1 }] });
    expect(p.recorded.groups).toEqual([{ id: 'g1', owner: 'a', members: ['a', 'b', 'c'] }]);
    expect(p.recorded.dms).toEqual(['dm:a:b']);
    expect(p.faults).toEqual([
      { kind: 'bus-drop', at: 2500, target: 'node-2' },
      { kind: 'cut', at: 4000, duration: 1500, link: 'redis-link:node-1' },
      { kind: 'restart', at: 8000, target: 'node-1' },
      { kind: 'kill', at: 9000, target: 'node-2', restartAfter: 1000 },
    ]);
    expect(p.nodes).toBe(2);
    // the kill's restart (10 s) and a tail of 2 s for the answers
    expect(p.durationMs).toBe(12_000);
    expect(p.lastStepMs).toBe(10_000);
  });

  it('--speed 2 halves every time; --from/--to cut the window; --users keeps those users only', () => {
    const fast = planReplay(cap, { speed: 2 });
    expect(fast.recorded.devices.find((d) => d.user === 'a')!.steps.map((s) => s.at)).toEqual([500, 600, 650, 1000, 1500]);
    expect(fast.faults.map((f) => f.at)).toEqual([1250, 2000, 4000, 4500]);
    const part = planReplay(cap, { speed: 1, fromMs: 1500, toMs: 4500 });
    expect(part.recorded.devices.find((d) => d.user === 'a')!.steps).toEqual([{ op: 'drop', at: 500, code: 1006 }, { op: 'connect', at: 1500 }]);
    expect(part.faults.map((f) => f.kind)).toEqual(['bus-drop', 'cut']);
    const onlyB = planReplay(cap, { speed: 1, users: ['b'] });
    expect(onlyB.recorded.devices.map((d) => d.user)).toEqual(['b']);
    expect(() => planReplay(cap, { speed: 1, users: ['nobody'] })).toThrow(/no recorded device of nobody/);
    expect(() => planReplay(cap, { speed: 1, fromMs: 5000, toMs: 4000 })).toThrow(/--from 5000 ms is not before --to 4000 ms/);
  });
});

// What the capture records beyond sends, acks and history (issue 12): group joins and leaves
// replayed at their times, read marks, HTTP sends and presence subscriptions as steps.
describe('planReplay: membership, read marks, HTTP sends, presence', () => {
  const node = recs('node-1', 'node-1.a', [
    { k: 'node', w: T, event: 'start', node: 'node-1', incarnation: 'node-1.a' },
    // g1 created by a with b; g2 created before the capture (seen from the traffic only)
    { k: 'http', w: T + 10, method: 'POST', route: 'POST /v1/groups', status: 201, ms: 1, user: 'a', group: 'g1', users: ['b'] },
    // before the window (--from 1000): c joins g1, then b leaves it
    { k: 'http', w: T + 20, method: 'POST', route: 'POST /v1/groups/:group/members', status: 200, ms: 1, user: 'a', group: 'g1', users: ['c'] },
    { k: 'http', w: T + 30, method: 'DELETE', route: 'DELETE /v1/groups/:group/members/:user', status: 200, ms: 1, user: 'a', group: 'g1', users: ['b'] },
    { k: 'open', w: T + 100, conn: 'node-1.a.1' },
    { k: 'hello', w: T + 100, conn: 'node-1.a.1', user: 'a', device: 'd0' },
    { k: 'open', w: T + 110, conn: 'node-1.a.2' },
    { k: 'hello', w: T + 110, conn: 'node-1.a.2', user: 'e', device: 'p1' },
    // before the window: e subscribes to a and b, then drops b
    { k: 'in', w: T + 200, conn: 'node-1.a.2', t: 'presence.sub', id: 'q1', users: ['a', 'b'] },
    { k: 'in', w: T + 300, conn: 'node-1.a.2', t: 'presence.unsub', id: 'q2', users: ['b'] },
    // before the window: b (in g1 then) sends in it, as does d in g2
    { k: 'in', w: T + 400, conn: 'node-1.a.1', t: 'send', id: 's0', conv: 'g:g2', cmid: 'a.0', bytes: 10, hash: 'abcdefabcdef' },
    // the window: from T + 1100
    { k: 'in', w: T + 1200, conn: 'node-1.a.1', t: 'read', conv: 'g:g1', seq: 3 },
    { k: 'http', w: T + 1300, method: 'POST', route: 'POST /v1/groups/:group/members', status: 200, ms: 2, user: 'c', group: 'g1', users: ['d'] },
    { k: 'http', w: T + 1400, method: 'DELETE', route: 'DELETE /v1/groups/:group/members/:user', status: 200, ms: 2, user: 'c', group: 'g1', users: ['c'] },
    // a refused change is not replayed
    { k: 'http', w: T + 1450, method: 'POST', route: 'POST /v1/groups/:group/members', status: 403, ms: 2, user: 'x', group: 'g1', users: ['y'] },
    // HTTP sends: as the token's device; as another device of the user; by a user with no recorded device
    { k: 'http', w: T + 1500, method: 'POST', route: 'POST /v1/messages', status: 201, ms: 3, user: 'a', device: 'd0', conv: 'g:g1', cmid: 'h1', bytes: 120 },
    { k: 'http', w: T + 1600, method: 'POST', route: 'POST /v1/messages', status: 201, ms: 3, user: 'e', device: 'server-bot', conv: 'dm:a:e', cmid: 'h2', bytes: 30 },
    { k: 'http', w: T + 1700, method: 'POST', route: 'POST /v1/messages', status: 201, ms: 3, user: 'z', device: 'd9', conv: 'dm:a:z', cmid: 'h3', bytes: 30 },
    { k: 'in', w: T + 1800, conn: 'node-1.a.2', t: 'presence.sub', id: 'q3', users: ['c'] },
    { k: 'in', w: T + 1900, conn: 'node-1.a.2', t: 'presence.unsub', id: 'q4', users: ['a'] },
    // d joined at 1300: its traffic does not make it a member from the start
    { k: 'in', w: T + 2000, conn: 'node-1.a.3', t: 'ack', conv: 'g:g1', seq: 1 },
    { k: 'in', w: T + 2100, conn: 'node-1.a.1', t: 'send', id: 's1', conv: 'g:g1', cmid: 'a.1', bytes: 10, hash: 'abcdefabcdef' },
  ]);
  // d's hello is recorded after the traffic above only in this fixture's order by time: its connection opened before
  const dConn = recs('node-1', 'node-1.a', [
    { k: 'open', w: T + 1050, conn: 'node-1.a.3' },
    { k: 'hello', w: T + 1050, conn: 'node-1.a.3', user: 'd', device: 'd0' },
  ]);
  const c2 = capture(node, dConn);

  it('groups as they were when the window began; joins and leaves inside it at their times, with who asked', () => {
    const p = planReplay(c2, { speed: 1, fromMs: 1000 });
    expect(p.t0).toBe(T + 1100);
    const g1 = p.recorded.groups.find((g) => g.id === 'g1')!;
    // b left and c joined before the window; d joins inside it (its traffic is after its join)
    expect(g1).toEqual({ id: 'g1', owner: 'a', members: ['a', 'c'] });
    // g2 from the traffic
    expect(p.recorded.groups.find((g) => g.id === 'g2')).toEqual({ id: 'g2', owner: 'a', members: ['a'] });
    expect(p.recorded.membership).toEqual([
      { at: 200, group: 'g1', user: 'd', op: 'join', by: 'c' },
      { at: 300, group: 'g1', user: 'c', op: 'leave', by: 'c' },
    ]);
    // --speed scales them like every step
    expect(planReplay(c2, { speed: 2, fromMs: 1000 }).recorded.membership.map((c) => c.at)).toEqual([100, 150]);
    // the last change counts towards the load's length
    const onlyChanges = planReplay(c2, { speed: 1, fromMs: 1000, toMs: 1250 });
    expect(onlyChanges.recorded.membership).toEqual([{ at: 200, group: 'g1', user: 'd', op: 'join', by: 'c' }]);
    expect(onlyChanges.lastStepMs).toBe(200);
  });

  it('a capture from its first hello: every change is replayed, the joiner is not a member from the start', () => {
    const p = planReplay(c2, { speed: 1 });
    // the window starts at a's hello (T + 100): the changes at T + 20/30 came before it
    expect(p.recorded.groups.find((g) => g.id === 'g1')!.members).toEqual(['a', 'c']);
    expect(p.recorded.membership.map((c) => `${c.op} ${c.user}`)).toEqual(['join d', 'leave c']);
  });

  it('read marks, HTTP sends (as the token\'s device, else another of the user\'s), presence sub/unsub as steps', () => {
    const p = planReplay(c2, { speed: 1, fromMs: 1000 });
    const a = p.recorded.devices.find((d) => d.user === 'a')!;
    expect(a.steps).toEqual([
      { op: 'read', at: 100, conv: 'g:g1', seq: 3 },
      { op: 'http-send', at: 400, conv: 'g:g1', cmid: 'h1', bytes: 120 },
      { op: 'send', at: 1000, conv: 'g:g1', cmid: 'a.1', bytes: 10 },
    ]);
    const e = p.recorded.devices.find((d) => d.user === 'e')!;
    // subscribed to a before the window (b dropped again): at its first connection; the later ones at their times
    expect(e.presenceSubs).toEqual(['a']);
    expect(e.steps).toEqual([
      { op: 'http-send', at: 500, conv: 'dm:a:e', cmid: 'h2', bytes: 30 },
      { op: 'presence.sub', at: 700, users: ['c'] },
      { op: 'presence.unsub', at: 800, users: ['a'] },
    ]);
    // z has no recorded device: its HTTP send is said, not replayed
    expect(p.notes).toEqual(['1 HTTP send(s) (POST /v1/messages) by users with no recorded device (outside CAPTURE_SAMPLE or --users) not replayed']);
    // --users leaves out the others' HTTP sends without a note
    expect(planReplay(c2, { speed: 1, fromMs: 1000, users: ['a'] }).notes).toEqual([]);
    // from the first hello: e's subscriptions are all steps of its own (its first connection is the connect phase's)
    const whole = planReplay(c2, { speed: 1 }).recorded.devices.find((d) => d.user === 'e')!;
    expect(whole.presenceSubs).toEqual([]);
    expect(whole.steps.filter((s) => s.op.startsWith('presence')).map((s) => [s.op, s.at])).toEqual([['presence.sub', 100], ['presence.unsub', 200], ['presence.sub', 1700], ['presence.unsub', 1800]]);
  });

  it('the recorded plan carries the changes into the scenario (they parse as a saved scenario\'s data)', () => {
    const p = planReplay(c2, { speed: 1, fromMs: 1000 });
    expect(recordedSchema.parse(JSON.parse(JSON.stringify(p.recorded)))).toEqual(p.recorded);
    // a plan saved before membership was recorded still loads, with no changes
    const { membership: _m, ...old } = p.recorded;
    expect(recordedSchema.parse(old).membership).toEqual([]);
  });
});

describe('summarize and divergences: HTTP sends, reads, presence, membership, sweeps', () => {
  const orig = capture(
    recs('node-1', 'node-1.a', [
      { k: 'open', w: T + 100, conn: 'node-1.a.1' },
      { k: 'hello', w: T + 100, conn: 'node-1.a.1', user: 'a', device: 'd0' },
      { k: 'in', w: T + 200, conn: 'node-1.a.1', t: 'read', conv: 'g:g1', seq: 3 },
      { k: 'in', w: T + 250, conn: 'node-1.a.1', t: 'presence.sub', id: 'q1', users: ['b'] },
      { k: 'http', w: T + 300, method: 'POST', route: 'POST /v1/messages', status: 201, ms: 3, user: 'a', device: 'd0', conv: 'g:g1', cmid: 'h1', bytes: 120 },
      { k: 'http', w: T + 310, method: 'POST', route: 'POST /v1/messages', status: 200, ms: 3, user: 'a', device: 'd0', conv: 'g:g1', cmid: 'h1', bytes: 120 },
      { k: 'http', w: T + 320, method: 'POST', route: 'POST /v1/messages', status: 201, ms: 3, user: 'a', device: 'd0', conv: 'g:g1', cmid: 'h2', bytes: 120 },
      { k: 'http', w: T + 400, method: 'POST', route: 'POST /v1/groups/:group/members', status: 200, ms: 2, user: 'a', group: 'g1', users: ['c', 'd'] },
      { k: 'http', w: T + 410, method: 'DELETE', route: 'DELETE /v1/groups/:group/members/:user', status: 403, ms: 2, user: 'x', group: 'g1', users: ['a'] },
      { k: 'sweep', w: T + 500, incarnation: 'node-2.a', connections: 7 },
    ]),
  );
  // the replay: h1 answered 201, h2 refused
  const rep = capture(
    recs('node-1', 'node-1.b', [
      { k: 'open', w: T + 100, conn: 'node-1.b.1' },
      { k: 'hello', w: T + 100, conn: 'node-1.b.1', user: 'a', device: 'd0' },
      { k: 'http', w: T + 300, method: 'POST', route: 'POST /v1/messages', status: 201, ms: 3, user: 'a', device: 'd0', conv: 'g:g1', cmid: 'h1', bytes: 120 },
      { k: 'http', w: T + 320, method: 'POST', route: 'POST /v1/messages', status: 403, ms: 3, user: 'a', device: 'd0', conv: 'g:g1', cmid: 'h2', bytes: 120 },
    ]),
  );

  it('counts them on each side', () => {
    const s = summarize(orig, T, T + 1000);
    expect(s).toMatchObject({ sends: 3, httpSends: 3, answers: { sent: 2, dup: 1 }, reads: 1, presenceSubs: 1, membershipChanges: 2, swept: 7 });
    const r = summarize(rep, T, T + 1000);
    expect(r).toMatchObject({ sends: 2, httpSends: 2, answers: { sent: 1, 'http 403': 1 }, reads: 0, swept: 0 });
    const table = sideBySide(s, r, { original: null, replay: {} });
    expect(table).toContain('| HTTP sends | 3 | 2 (-33 %) |');
    expect(table).toContain('| read marks | 1 | 0 (-100 %) |');
    expect(table).toContain('| connections swept offline | 7 | 0 (-100 %) |');
  });

  it("the server's send→sent percentiles keep a latency of about a millisecond to the hundredth", () => {
    // three sends answered 1.234, 1.256 and 1.278 ms later (stamps to the microsecond): a p50
    // rounded to the tenth (1.3) would hide a 2 % move in a step of 8 %
    const sends = [0, 1, 2].flatMap((i) => [
      { k: 'in', w: T + 10 * i, m: 10 * i, conn: 'node-1.d.1', t: 'send', id: `s${i}`, conv: 'g:g1', cmid: `c${i}`, bytes: 10 },
      { k: 'out', w: T + 10 * i + 1, m: 10 * i + 1.234 + 0.022 * i, conn: 'node-1.d.1', t: 'sent', id: `s${i}`, conv: 'g:g1', seq: i + 1, cmid: `c${i}`, dup: false },
    ]);
    const s = summarize(capture(recs('node-1', 'node-1.d', sends)), T, T + 1000);
    expect(s.sendToSent).toEqual({ p50: 1.26, p99: 1.28, n: 3 });
  });

  it('devices: those heard from in the window, whether their hello fell inside it or before it', () => {
    const c = capture(
      recs('node-1', 'node-1.c', [
        { k: 'open', w: T + 100, conn: 'node-1.c.1' },
        { k: 'hello', w: T + 100, conn: 'node-1.c.1', user: 'a', device: 'd0' },
        { k: 'open', w: T + 200, conn: 'node-1.c.2' },
        { k: 'hello', w: T + 200, conn: 'node-1.c.2', user: 'b', device: 'd1' },
        { k: 'in', w: T + 1200, conn: 'node-1.c.1', t: 'ack', conv: 'g:g1', seq: 1 },
        { k: 'open', w: T + 1300, conn: 'node-1.c.3' },
        { k: 'hello', w: T + 1300, conn: 'node-1.c.3', user: 'c', device: 'd2' },
      ]),
    );
    // a/d0 acked in the window and c/d2 said hello in it; b/d1 was silent (the replay's side
    // begins after its connect phase, so hellos alone made the original's count 300 against 116)
    expect(summarize(c, T + 1000, T + 2000).devices).toBe(2);
  });

  it('an HTTP send answered differently is a divergence, by user and cmid (its last answer counts)', () => {
    const d = divergences(orig, [T, T + 1000], rep, [T, T + 1000]);
    expect(d.list.filter((x) => x.kind === 'send-answered-differently').map((x) => x.what)).toEqual(['send a h2: answered sent in the original, http 403 in the replay']);
    // h1: 201 then a dup 200 in the original, 201 in the replay: the same outcome
    expect(d.list.some((x) => x.what.includes('a h1'))).toBe(false);
  });
});

describe('the side-by-side windows', () => {
  it("the replay's is as long as the original's, scaled by the speed, also where the original's load ended within a second of its last step", () => {
    // the original's load ended 500 ms after its last step (at 30,000 ms): both windows 30.5 s
    const plan = { t0: T, t1: T + 30_500, lastStepMs: 30_000 };
    expect(comparisonWindows(plan, 1, 5_000)).toEqual({ original: [T, T + 30_500], replay: [5_000, 35_500] });
    // at --speed 2 the replay's steps came twice as fast: half the window
    expect(comparisonWindows({ ...plan, lastStepMs: 15_000 }, 2, 5_000)).toEqual({ original: [T, T + 30_500], replay: [5_000, 20_250] });
    // a capture with no end of load: the steps and 1 s for their answers, on both sides
    expect(comparisonWindows({ t0: T, t1: T + 60_000, lastStepMs: 30_000 }, 1, 0)).toEqual({ original: [T, T + 31_000], replay: [0, 31_000] });
  });
});

// A report's capture: what the report knows and the capture cannot (issue 12, "within 10 %
// of the original"): the original faults a node does not see, its settings, its load's end.
describe('replaying a report: the original run\'s faults, settings and load window', () => {
  const ev = (kind: string, target: string, start: number, end: number | undefined, detail?: Record<string, unknown>): FaultEvent => ({ id: `${kind}@${start}`, kind, target, start, ...(end !== undefined ? { end } : {}), ...(detail ? { detail } : {}) });
  const timeline: FaultEvent[] = [
    ev('toxic:latency', 'client-link:node-1', T + 1100, T + 3100, { name: 'latency_downstream_t1', stream: 'downstream', toxicity: 1, attributes: { latency: 150, jitter: 50 } }),
    ev('toxic:latency', 'redis-link:node-2', T + 4100, T + 5100, { name: 't2', stream: 'upstream', toxicity: 0.5, attributes: { latency: 300 } }),
    // implied by the capture already (cut of redis-link, restart): not doubled
    ev('link:disable', 'redis-link:node-1', T + 4100, T + 5600),
    ev('node:restart', 'node-1', T + 8100, T + 8600),
    ev('link:disable', 'client-link:node-2', T + 6000, T + 6500),
    ev('node:pause', 'node-2', T + 7000, T + 7400),
    // before the window
    ev('toxic:latency', 'client-link:node-2', T + 50, T + 90, { attributes: { latency: 10 } }),
  ];

  it('faultsOfRun: toxics, client-link cuts and pauses at their times from the replay\'s start; the rest is the capture\'s to imply', () => {
    const { faults, notes } = faultsOfRun(timeline, T + 100, T + 20_000, 1);
    expect(faults).toEqual([
      { kind: 'toxic', at: 1000, duration: 2000, link: 'client-link:node-1', toxic: { type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 150, jitter: 50 } } },
      { kind: 'toxic', at: 4000, duration: 1000, link: 'redis-link:node-2', toxic: { type: 'latency', stream: 'upstream', toxicity: 0.5, attributes: { latency: 300 } } },
      { kind: 'cut', at: 5900, duration: 500, link: 'client-link:node-2' },
      { kind: 'pause', at: 6900, duration: 400, target: 'node-2' },
    ]);
    expect(notes[0]).toBe('toxic latency on client-link:node-1 at 1000 ms for 2000 ms: from the original run\'s fault timeline ({"latency":150,"jitter":50})');
    // each a valid scenario fault step
    for (const f of faults) expect(faultStep.parse(f)).toEqual(f);
    expect(faultsOfRun(timeline, T + 100, T + 20_000, 2).faults.map((f) => [f.at, 'duration' in f ? f.duration : 0])).toEqual([[500, 1000], [2000, 500], [2950, 250], [3450, 200]]);
  });

  it('replayScenario: the original nodes\' settings under --server-env, its faults beside the implied ones, the window cut at its load\'s end', () => {
    const run = { serverEnv: { SEND_RATE: 200, PRESENCE_TTL_MS: 5000 }, nodeEnv: { 'node-2': { LOG_LEVEL: 'warn' } }, faults: timeline, loadEnd: T + 9100 };
    const opts = { speed: 1, extraFaults: [], impliedFaults: true, serverEnv: { SEND_RATE: '50' } };
    const { scenario, plan } = replayScenario(cap, opts, run);
    expect(scenario.topology.serverEnv).toEqual({ SEND_RATE: '50', PRESENCE_TTL_MS: 5000 });
    expect(scenario.topology.nodeEnv).toEqual({ 'node-2': { LOG_LEVEL: 'warn' } });
    // the load ended at T + 9100: the window is the first hello (T + 100) to it
    expect(plan.t1).toBe(T + 9100);
    expect(scenario.faults.map((f) => `${f.kind}@${f.at}`)).toEqual(['toxic@1000', 'bus-drop@2500', 'cut@4000', 'toxic@4000', 'cut@5900', 'pause@6900', 'restart@8000', 'kill@9000']);
    // --to wins; --no-implied-faults leaves the run's faults out too
    expect(replayScenario(cap, { ...opts, toMs: 3000 }, run).plan.t1).toBe(T + 3100);
    expect(replayScenario(cap, { ...opts, impliedFaults: false }, run).scenario.faults).toEqual([]);
    // a bare capture: its own window and settings
    const bare = replayScenario(cap, opts);
    expect(bare.plan.t1).toBe(cap.records.at(-1)!.w);
    expect(bare.scenario.topology.serverEnv).toEqual({ SEND_RATE: '50' });
  });
});

it('a killed node\'s restart is timed from its new process\'s first record (its file header), not from its `node start` once it served: the replay boots it again', () => {
  const before = recs('node-1', 'node-1.a', [
    { k: 'open', w: T + 100, conn: 'node-1.a.1' },
    { k: 'hello', w: T + 100, conn: 'node-1.a.1', user: 'a', device: 'd0' },
    { k: 'in', w: T + 2100, conn: 'node-1.a.1', t: 'ack', conv: 'dm:a:b', seq: 1 },
  ]);
  const after = recs('node-1', 'node-1.b', [
    { k: 'file', w: T + 2400, v: 1, node: 'node-1', incarnation: 'node-1.b', index: 0, sample: 1, bodies: false },
    { k: 'redis', w: T + 3000, link: 'cmd', state: 'up' },
    { k: 'node', w: T + 4100, event: 'start', node: 'node-1', incarnation: 'node-1.b' },
  ]);
  expect(planReplay(capture(before, after), { speed: 1 }).faults).toEqual([{ kind: 'kill', at: 2000, target: 'node-1', restartAfter: 300 }]);
  // a header that says how long its process had run (`up`: loading before the capture began) moves the start back by that
  const booted = after.map((r) => (r.k === 'file' ? { ...r, up: 250 } : r));
  expect(planReplay(capture(before, booted), { speed: 1 }).faults).toEqual([{ kind: 'kill', at: 2000, target: 'node-1', restartAfter: 50 }]);
});

describe('planReplay of a long capture', () => {
  // 130,000 steps (one device acking every 20 ms for 43 minutes): the plan's end used to be a
  // spread of every step's time into Math.max, which throws RangeError past ~125,000
  it('plans a capture with more steps than a spread can take', () => {
    const n = 130_000;
    const acks = Array.from({ length: n }, (_, i) => ({ k: 'in', w: T + 1000 + i * 20, conn: 'node-1.a.1', t: 'ack', conv: 'g:g1', seq: i + 1 }));
    const long = capture(
      recs('node-1', 'node-1.a', [
        { k: 'node', w: T, event: 'start', node: 'node-1', incarnation: 'node-1.a' },
        { k: 'open', w: T + 100, conn: 'node-1.a.1' },
        { k: 'hello', w: T + 100, conn: 'node-1.a.1', user: 'a', device: 'd0' },
        ...acks,
      ]),
    );
    const p = planReplay(long, { speed: 1 });
    const steps = p.recorded.devices[0]!.steps;
    expect(steps.filter((s) => s.op === 'ack').length).toBe(n);
    expect(steps[steps.length - 1]!.at).toBe(900 + (n - 1) * 20);
  });
});
