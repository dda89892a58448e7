// The capture hooks in the delivery core and the connection's closes (fast, in-process over
// the in-memory seams, real files): they record what was sent and who closed, and nothing
// in them can throw into the delivery path.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { capturing, captureFiles, startCapture, type Capture } from '../../server/capture/capture.ts';
import { captureRecord, type CaptureRecord } from '../../server/capture/schema.ts';
import { pino } from 'pino';
import { loadConfig } from '../../server/config/config.ts';
import { Conn } from '../../server/gateway/connection.ts';
import { Gateway, type GatewayDeps } from '../../server/gateway/gateway.ts';
import { RateBuckets } from '../../server/gateway/rate.ts';
import { createMetrics } from '../../server/observability/metrics.ts';
import { Semaphore } from '../../server/util/semaphore.ts';
import { MemorySocket, settle, simCluster } from '../core/sim-node.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'imstorm-caphooks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  await capturing?.stop('test');
});

let dirs = 0;
function begin(): { cap: Capture; errors: unknown[]; dir: string } {
  const dir = path.join(root, `c${++dirs}`);
  const errors: unknown[] = [];
  const cap = startCapture({ dir, node: 'n1', incarnation: 'n1.aa', sample: 1, maxBytes: 1_048_576, bodies: false, log: { error: (...a: unknown[]) => errors.push(a), warn: () => {}, info: () => {} } as never });
  return { cap, errors, dir };
}

async function records(cap: Capture, dir: string): Promise<CaptureRecord[]> {
  await cap.stop('test');
  return captureFiles(dir).flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => captureRecord.parse(JSON.parse(l))));
}

describe('capture hooks', () => {
  it('a live push to a socket its peer is closing is neither sent nor recorded as sent', async () => {
    const { cap, dir } = begin();
    const { store, nodes } = simCluster(1);
    const n1 = nodes[0]!;
    const conv = 'dm:ua:ub';
    const send = (cmid: string) => store.send({ conv, isGroup: false, dmUsers: ['ua', 'ub'], sender: 'ub', cmid, bodyJson: '"x"' });
    await send('m1');
    const a = await n1.connect('ua', 'd1');
    a.conn.captured = true;
    await send('m2');
    await settle();
    // the peer's close frame came in: ws is closing (2) and drops what is sent; its 'close' comes later
    a.socket.readyState = 2;
    await send('m3');
    await settle();
    const got = a.socket.frames.filter((f) => f.t === 'msg').map((f) => (f.t === 'msg' ? f.seq : 0));
    expect(got).toEqual([1, 2]);
    const recorded = (await records(cap, dir)).filter((r) => r.k === 'out' && r.t === 'msg' && r.conn === a.conn.id).map((r) => (r.k === 'out' ? r.seq : 0));
    expect(recorded, 'msg records of what reached the socket').toEqual([2]);
  });

  it('a server close of a socket its peer closed already is not recorded as the server\'s; the peer\'s close is', async () => {
    const { cap, dir } = begin();
    const closing = new MemorySocket();
    const c1 = new Conn('n1.x.1', closing, Date.now());
    c1.identity = { user: 'ua', device: 'd1', admin: false, expMs: Date.now() + 60_000 };
    c1.captured = true;
    // the peer closed (1000): ws answers it and is closing; a slow-consumer cut comes before its 'close'
    closing.readyState = 2;
    expect(c1.closeNow(4413, 'slow consumer')).toBe(false);
    cap.closed(c1, 1000, 'bye');
    // and one whose 'close' came already: a late kick
    const gone = new MemorySocket();
    const c2 = new Conn('n1.x.2', gone, Date.now());
    c2.identity = { user: 'ub', device: 'd1', admin: false, expMs: Date.now() + 60_000 };
    c2.captured = true;
    gone.readyState = 3;
    cap.closed(c2, 1006, '');
    c2.closeNow(4409, 'replaced');
    // a server close of an open socket is recorded once, as the server's
    const open = new MemorySocket();
    const c3 = new Conn('n1.x.3', open, Date.now());
    c3.identity = { user: 'uc', device: 'd1', admin: false, expMs: Date.now() + 60_000 };
    c3.captured = true;
    expect(c3.closeNow(4408, 'heartbeat timeout')).toBe(true);
    cap.closed(c3, 4408, 'heartbeat timeout');
    const closes = (await records(cap, dir)).filter((r) => r.k === 'close').map((r) => r.k === 'close' && `${r.conn} ${r.code} ${r.by}`);
    expect(closes).toEqual(['n1.x.1 1000 client', 'n1.x.2 1006 client', 'n1.x.3 4408 server']);
  });

  it('a connection the gateway cuts for owing too many pongs is recorded as closed by the server', async () => {
    const { cap, dir } = begin();
    const deps = {
      config: loadConfig({ JWT_SECRET: 'k'.repeat(32) }),
      log: pino({ level: 'silent' }),
      store: {} as GatewayDeps['store'],
      sender: {} as GatewayDeps['sender'],
      hub: { removeConn: () => {} } as unknown as GatewayDeps['hub'],
      presence: { dropConn: () => {}, close: async () => {} } as unknown as GatewayDeps['presence'],
      tokens: {} as GatewayDeps['tokens'],
      buckets: new RateBuckets(50, 100),
      metrics: createMetrics({ connections: () => 0, unsentBytes: () => 0, channels: () => 0, framesOut: () => 0 }),
      nodeId: 'n1',
      maxConnections: 10,
      bulkReads: new Semaphore(1),
    } satisfies GatewayDeps;
    const gw = new Gateway(deps);
    const events = (gw as unknown as { socketEvents: { ping(conn: Conn, ws: unknown, data: Buffer): void; close(conn: Conn, code: number, reason: Buffer): void } }).socketEvents;
    // a peer that pings and never reads: its pongs stay owed (ws calls back once written)
    const ws = Object.assign(new MemorySocket(), { pong: () => {} });
    const conn = new Conn('n1.x.7', ws, Date.now());
    conn.identity = { user: 'ua', device: 'd1', admin: false, expMs: Date.now() + 60_000 };
    conn.captured = true;
    for (let i = 0; i <= 60; i++) events.ping(conn, ws, Buffer.alloc(0));
    expect(ws.readyState).toBe(3);
    events.close(conn, 1006, Buffer.alloc(0));
    const closes = (await records(cap, dir)).filter((r) => r.k === 'close').map((r) => r.k === 'close' && `${r.conn} ${r.code} ${r.by}`);
    expect(closes).toEqual(['n1.x.7 1006 server']);
    gw.stop();
  });

  it('a record that cannot be made stops the capture, logged once, and never throws into its caller', async () => {
    const { cap, errors } = begin();
    const conn = { id: 'n1.x.9', openedAt: performance.now(), user: 'ua', device: 'd1', captured: true, isOpen: true };
    cap.msg(conn, 'g:x', 1, 'live');
    // a field JSON cannot write
    expect(() => cap.out(conn, { t: 'page', id: 'r1', conv: 'g:x', n: 1n as unknown as number })).not.toThrow();
    expect(cap.on).toBe(false);
    expect(cap.failure).toMatch(/^ERECORD: recording failed/);
    expect(errors).toHaveLength(1);
    expect(() => cap.msg(conn, 'g:x', 2, 'live')).not.toThrow();
    // the write in flight when it stopped ends without touching the closed file
    await new Promise((r) => setTimeout(r, 300));
  });
});

describe('a caught-up member told of a trimmed stretch', () => {
  it('its conv frame gives a head at least the end of the gap that follows it', async () => {
    const { store, nodes } = simCluster(1, { autoBus: false, limits: { retentionMaxMsgs: 2 } });
    const n1 = nodes[0]!;
    const conv = 'dm:ua:ub';
    const send = (cmid: string) => store.send({ conv, isGroup: false, dmUsers: ['ua', 'ub'], sender: 'ub', cmid, bodyJson: '"x"' });
    await send('m1');
    n1.link.dropNext();
    await store.advanceCursors('ua', 'd1', new Map([[conv, { epoch: (await store.heads([conv]))[0]!.epoch!, seq: 1 }]]));
    // nothing to replay: caught up and not yet told (`quiet`)
    const a = await n1.connect('ua', 'd1');
    await settle();
    expect(a.socket.frames.filter((f) => f.t === 'conv')).toEqual([]);
    n1.link.loseAll(); // the connect's presence payload
    for (let i = 2; i <= 5; i++) await send(`m${i}`);
    // the bus loses 2 and 3 (retention keeps 4 and 5 only); 4 arrives: the fill finds nothing below it
    for (let i = 2; i <= 3; i++) n1.link.dropNext();
    while (n1.link.deliverNext()) await settle(2);
    await settle(40);
    const frames = a.socket.frames.filter((f) => f.t === 'conv' || f.t === 'gap' || f.t === 'msg');
    expect(frames.map((f) => f.t), JSON.stringify(frames)).toEqual(['conv', 'gap', 'msg', 'msg']);
    const [c, g] = frames as [Extract<(typeof frames)[0], { t: 'conv' }>, Extract<(typeof frames)[0], { t: 'gap' }>];
    expect(g).toMatchObject({ from: 2, to: 3, trimmed: true });
    expect(c.cursor).toBe(1);
    expect(c.head).toBeGreaterThanOrEqual(g.to);
  });
});
