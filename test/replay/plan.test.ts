// From capture records to a recorded plan (fast, in memory): devices and their steps at
// their recorded times (scaled by --speed, cut by --from/--to, --users), membership from the
// HTTP records and the traffic, and the faults the capture implies.
import { describe, expect, it } from 'vitest';
import { planReplay } from '../../harness/replay/plan.ts';
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
