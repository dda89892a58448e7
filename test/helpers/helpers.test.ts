// Self-test of the integration helpers (redis, relay, nodes, tokens): runs without the server.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeJwt, jwtVerify } from 'jose';
import { rawCommand, startRedis, type RedisHandle } from './redis.ts';
import { startRelay } from './relay.ts';
import { startNode, REPO_ROOT } from './nodes.ts';
import { killAll } from './procs.ts';
import { DEFAULT_JWT_SECRET, token, unsignedToken } from './tokens.ts';
import { dm } from './ids.ts';
import type { Frame } from './client.ts';
import { encode } from '../../server/protocol/server-frames.ts';

const handles: RedisHandle[] = [];
afterAll(async () => {
  for (const h of handles) await h.cleanup();
  await killAll();
});

describe('redis helper', () => {
  it('starts with AOF, survives kill + restart with its data, cleans up', async () => {
    const r = await startRedis();
    handles.push(r);
    expect(await r.command('PING')).toBe('PONG');
    const info = String(await r.command('INFO', 'persistence'));
    expect(info).toMatch(/aof_enabled:1/);
    expect(await r.command('CONFIG', 'GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await r.command('SET', 'k', 'v1')).toBe('OK');
    await r.kill();
    expect(r.running).toBe(false);
    await expect(rawCommand(r.port, ['PING'], 300)).rejects.toThrow();
    await r.restart();
    expect(await r.command('GET', 'k')).toBe('v1');
    await r.stop();
    await r.restart();
    expect(await r.command('GET', 'k')).toBe('v1');
    await r.cleanup();
    expect(existsSync(r.dir)).toBe(false);
  });

  it('volatile (appendonly no) loses its data on restart', async () => {
    const r = await startRedis({ appendonly: false });
    handles.push(r);
    expect(String(await r.command('INFO', 'persistence'))).toMatch(/aof_enabled:0/);
    await r.command('SET', 'k', 'v1');
    await r.kill();
    await r.restart();
    expect(await r.command('GET', 'k')).toBe(null);
  });
});

describe('relay helper', () => {
  it('forwards, cuts (refusing new connections), stalls and restores', async () => {
    const r = await startRedis();
    handles.push(r);
    const relay = await startRelay(r.port);
    try {
      expect(await rawCommand(relay.port, ['PING'])).toBe('PONG');

      relay.cut();
      await expect(rawCommand(relay.port, ['PING'], 500)).rejects.toThrow();
      relay.restore();
      expect(await rawCommand(relay.port, ['PING'])).toBe('PONG');

      // a long-lived connection is destroyed by cut()
      const net = await import('node:net');
      const sock = net.connect(relay.port, '127.0.0.1');
      await new Promise((res) => sock.once('connect', res));
      const closed = new Promise((res) => sock.once('close', res));
      sock.on('error', () => {});
      await new Promise((res) => setTimeout(res, 50));
      expect(relay.connections).toBe(1);
      relay.cut();
      await closed;
      relay.restore();

      // stall: a command gets no answer while stalled, and its answer arrives after restore
      relay.stall();
      const pending = rawCommand(relay.port, ['SET', 'stalled', 'yes'], 5000);
      await expect(rawCommand(relay.port, ['PING'], 400)).rejects.toThrow(/timed out/);
      const early = await Promise.race([pending.then(() => 'answered'), new Promise((res) => setTimeout(() => res('waiting'), 300))]);
      expect(early).toBe('waiting');
      expect(await r.command('GET', 'stalled')).toBe(null); // not forwarded while stalled
      relay.restore();
      expect(await pending).toBe('OK');
      expect(await r.command('GET', 'stalled')).toBe('yes');
    } finally {
      await relay.close();
    }
  });
});

describe('node helper (with a stand-in server)', () => {
  it('spawns, reads the listening port, waits for /readyz, restarts on the same port, stops with exit 0', async () => {
    const entry = path.join(REPO_ROOT, 'test/helpers/fixtures/fake-server.ts');
    const n = await startNode({ redisUrl: 'redis://127.0.0.1:1', entry, nodeId: 'fake1' });
    try {
      expect(n.port).toBeGreaterThan(0);
      expect(n.wsUrl).toBe(`ws://127.0.0.1:${n.port}/ws`);
      const res = await fetch(`${n.url}/readyz`);
      expect(await res.json()).toEqual({ status: 'ok', node: 'fake1' });
      const line = await n.waitForLog((l) => l.json?.msg === 'listening');
      expect(line.json?.redis).toBe('redis://127.0.0.1:1');
      const port = n.port;
      await n.restart();
      expect(n.port).toBe(port);
      const code = await n.stop();
      expect(code).toBe(0);
      await n.waitForLog((l) => l.json?.msg === 'draining');
      expect(n.running).toBe(false);
    } finally {
      await n.kill();
    }
  });

  it('fails clearly when the entry exits before listening', async () => {
    await expect(startNode({ redisUrl: 'redis://127.0.0.1:1', entry: path.join(REPO_ROOT, 'test/helpers/fixtures/missing.ts'), timeoutMs: 5000 })).rejects.toThrow(/exited/);
  });
});

describe('token helper and ids', () => {
  it('mints HS256 tokens with sub, dev, adm, exp', async () => {
    const t = await token({ sub: 'u1', dev: 'd1', adm: true, expInSec: 60 });
    const { payload, protectedHeader } = await jwtVerify(t, new TextEncoder().encode(DEFAULT_JWT_SECRET));
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.sub).toBe('u1');
    expect(payload.dev).toBe('d1');
    expect(payload.adm).toBe(true);
    expect(payload.exp! - Date.now() / 1000).toBeGreaterThan(55);
    expect(decodeJwt(unsignedToken('u2')).sub).toBe('u2');
    await expect(jwtVerify(await token({ sub: 'u', expInSec: -10 }), new TextEncoder().encode(DEFAULT_JWT_SECRET))).rejects.toThrow();
  });

  it('orders dm ids by byte order', () => {
    expect(dm('b', 'a')).toBe('dm:a:b');
    expect(dm('B', 'a')).toBe('dm:B:a');
  });
});

describe('order checker', () => {
  it('accepts conv/gap/msg sequences that continue, and names holes and repeats', async () => {
    const { checkOrder } = await import('./order.ts');
    const conv = (c: string, cursor: number, head: number): Frame => ({ t: 'conv', conv: c, epoch: 'e1', cursor, head });
    const gap = (c: string, from: number, to: number): Frame => ({ t: 'gap', conv: c, from, to });
    const msg = (c: string, seq: number): Frame => ({ t: 'msg', conv: c, seq, from: 'u', cmid: `m${seq}`, body: '', ts: 0 });
    const ok = checkOrder([conv('c', 2, 9), gap('c', 3, 5), msg('c', 6), msg('c', 7), msg('d', 4), msg('d', 5)]);
    expect(ok.problems).toEqual([]);
    expect(ok.convs.get('c')!.seqs).toEqual([6, 7]);
    const bad = checkOrder([conv('c', 0, 3), msg('c', 1), msg('c', 3), msg('c', 3)]);
    expect(bad.problems).toEqual(['c: msg seq 3 where 2 was expected', 'c: msg seq 3 where 4 was expected']);
  });
});

describe('protocol client (against an in-process ws server)', () => {
  it('request resolves with the reply echoing its id; waitFor sees past and future frames; waitClose gives the code', async () => {
    const { WebSocketServer } = await import('ws');
    const { Client } = await import('./client.ts');
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    const welcome = { user: 'u', device: 'd', conn: 'c1', node: 'n1', heartbeatMs: 25_000, maxBodyBytes: 4096 };
    wss.on('connection', (ws) => {
      ws.send(encode.welcome(welcome));
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString()); // a client frame: not the server codec's to decode
        if (f.t === 'hello') ws.send(encode.synced());
        if (f.t === 'ping') {
          ws.send(encode.msg('x', 1, 'u', 'm1', '"b"', 1)); // unrelated frame first
          ws.send(encode.pong(f.id, 1));
        }
        if (f.t === 'junk') {
          ws.send('not json');
          ws.send('{"t":"msg","conv":"x","seq":"2","from":"u","cmid":"m2","body":"b","ts":1}');
          ws.send(encode.read('x', 1));
        }
        if (f.t === 'bye') ws.close(4409, 'replaced');
      });
    });
    try {
      const c = await Client.connect(`ws://127.0.0.1:${port}/ws`);
      await c.waitFor((f) => f.t === 'welcome');
      c.send({ t: 'hello', v: 1, token: 't' });
      await c.waitSynced();
      const pong = await c.request({ t: 'ping' });
      expect(pong.t).toBe('pong');
      expect(String(pong.id)).toMatch(/^r\d+$/);
      expect(await c.waitFor((f) => f.t === 'welcome')).toEqual({ t: 'welcome', v: 1, ...welcome }); // past
      await expect(c.waitFor((f) => f.t === 'gap', 100)).rejects.toThrow(/no matching frame/);
      // what the server's codec does not decode is kept raw with the reason, not as a frame
      c.send({ t: 'junk' });
      await c.waitFor((f) => f.t === 'read');
      expect(c.junk).toEqual([
        { text: 'not json', error: expect.stringMatching(/^not JSON/) },
        { text: expect.stringContaining('"seq":"2"'), error: expect.stringMatching(/msg frame: field `seq` must be number/) },
      ]);
      expect(c.msgs('x').map((m) => m.seq)).toEqual([1]);
      expect(c.describe()).toMatch(/2 undecodable, first: not JSON/);
      c.send({ t: 'bye' });
      expect(await c.waitClose()).toMatchObject({ code: 4409, reason: 'replaced' });
      await expect(c.waitFor((f) => f.t === 'gap')).rejects.toThrow(/closed \(4409/);
      expect(c.received.every((r, i) => r.index === i && r.at > 0)).toBe(true);
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });
});
