// The control endpoint's edges, without a fleet: who may connect, what a bad frame does,
// how long a run waits for agents and what it says, facts batches and their window, clocks.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { estimateClock, shiftFact } from '../../harness/fleet/clock.ts';
import { ControlServer } from '../../harness/fleet/control-server.ts';
import { decodeFactBatch, encodeFactBatch, FACTS_WINDOW, FactShipper } from '../../harness/fleet/fact-stream.ts';
import { spreadDevices } from '../../harness/fleet/orchestrator.ts';
import { runAgent } from '../../harness/fleet/agent.ts';
import { CONTROL_PROTOCOL_VERSION } from '../../harness/fleet/protocol.ts';
import type { Fact } from '../../harness/model/facts.ts';

const TOKEN = 'unit-test-token-0123456789';
let server: ControlServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** A raw client: the frames it gets and how it was closed. */
function raw(url: string, token: string): Promise<{ ws: WebSocket; frames: unknown[]; closed: Promise<{ code: number; reason: string }> } | { status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const frames: unknown[] = [];
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; id?: number };
      frames.push(m);
      if (m.type === 'ping') ws.send(JSON.stringify({ type: 'pong', id: m.id, now: Date.now() }));
    });
    ws.on('open', () => resolve({ ws, frames, closed }));
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
  });
}

describe('control endpoint', () => {
  it('refuses a wrong token with 401, and an agent started with it says which flag to fix', async () => {
    server = await ControlServer.start({ host: '127.0.0.1', port: 0, token: TOKEN });
    expect(await raw(server.url, 'wrong-token-0123456789')).toEqual({ status: 401 });
    await expect(runAgent({ control: server.url, token: 'wrong-token-0123456789', name: 'x', capacity: 10, connectWithinMs: 1000, log: () => {} })).rejects.toThrow(/refused the token \(401\): give the orchestrator's --control-token/);
  });

  it('closes a bad hello with 1008 naming the field, and another protocol version naming the versions', async () => {
    server = await ControlServer.start({ host: '127.0.0.1', port: 0, token: TOKEN });
    const a = await raw(server.url, TOKEN);
    if (!('ws' in a)) throw new Error('refused');
    a.ws.send(JSON.stringify({ type: 'hello', agent: 'a', capacity: -1, version: CONTROL_PROTOCOL_VERSION }));
    expect(await a.closed).toEqual({ code: 1008, reason: expect.stringMatching(/^bad hello: capacity: /) });
    const b = await raw(server.url, TOKEN);
    if (!('ws' in b)) throw new Error('refused');
    b.ws.send(JSON.stringify({ type: 'hello', agent: 'b', capacity: 5, version: 99 }));
    expect((await b.closed).reason).toMatch(/protocol version 99; this orchestrator speaks 1/);
  });

  it('waits for N agents until its deadline, then names how many came and who', async () => {
    server = await ControlServer.start({ host: '127.0.0.1', port: 0, token: TOKEN });
    const a = await raw(server.url, TOKEN);
    if (!('ws' in a)) throw new Error('refused');
    a.ws.send(JSON.stringify({ type: 'hello', agent: 'only-one', capacity: 5, version: CONTROL_PROTOCOL_VERSION }));
    const started = Date.now();
    await expect(server.waitForAgents(3, { deadlineMs: 1500 })).rejects.toThrow(/^1 of 3 agents connected to ws:\/\/127\.0\.0\.1:\d+\/control within 2 s \(only-one\): start the missing ones .* or ask for fewer \(--agents 1\)$/);
    expect(Date.now() - started).toBeLessThan(3000);
    // the one that came was probed and welcomed
    expect(a.frames.filter((f) => (f as { type: string }).type === 'ping').length).toBe(8);
    expect(a.frames).toContainEqual({ type: 'welcome', agent: 'only-one' });
  });

  it('drops an agent that sends a frame the protocol does not allow, and tells whoever drives it', async () => {
    server = await ControlServer.start({ host: '127.0.0.1', port: 0, token: TOKEN });
    const a = await raw(server.url, TOKEN);
    if (!('ws' in a)) throw new Error('refused');
    a.ws.send(JSON.stringify({ type: 'hello', agent: 'bad', capacity: 5, version: CONTROL_PROTOCOL_VERSION }));
    const [link] = await server.waitForAgents(1, { deadlineMs: 5000 });
    const dead = new Promise<string>((resolve) => (link!.handler = { message: () => {}, facts: () => {}, dead: resolve }));
    a.ws.send(JSON.stringify({ type: 'progress', at: 1, open: -3, synced: 0, counts: {}, sentP99: null }));
    expect(await dead).toMatch(/^a bad frame: open: /);
    expect((await a.closed).code).toBe(1008);
  });
});

describe('a silent agent', () => {
  it('one that answers nothing (no frame, no pong) is dead once the silence passes, and whoever drives it is told why', async () => {
    server = await ControlServer.start({ host: '127.0.0.1', port: 0, token: TOKEN, silenceMs: 1200 });
    const ws = new WebSocket(server.url, { headers: { authorization: `Bearer ${TOKEN}` }, autoPong: false });
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; id?: number };
      if (m.type === 'ping') ws.send(JSON.stringify({ type: 'pong', id: m.id, now: Date.now() }));
    });
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ type: 'hello', agent: 'frozen', capacity: 5, version: CONTROL_PROTOCOL_VERSION }));
    const [link] = await server.waitForAgents(1, { deadlineMs: 5000 });
    const started = Date.now();
    const reason = await new Promise<string>((resolve) => (link!.handler = { message: () => {}, facts: () => {}, dead: resolve }));
    expect(reason).toBe('silent for 1.2 s (no frame, no pong): frozen, overloaded or unreachable');
    expect(Date.now() - started).toBeLessThan(3000);
    ws.terminate();
  });
});

describe('facts batches', () => {
  const f = (i: number): Fact => ({ k: 'conn', client: `u${i}/d0`, conn: 'c', event: 'connect', at: 1000 + i });

  it('round-trip gzipped and validated; a batch with a bad fact is refused naming it', async () => {
    const facts = Array.from({ length: 100 }, (_, i) => f(i));
    const frame = await encodeFactBatch(7, facts);
    expect(frame.length).toBeLessThan(JSON.stringify(facts).length / 4);
    expect(await decodeFactBatch(frame)).toEqual({ seq: 7, facts });
    const bad = await encodeFactBatch(8, [{ ...f(1), at: 'soon' } as unknown as Fact]);
    await expect(decodeFactBatch(bad)).rejects.toThrow(/facts batch 8, fact 0: at: /);
  });

  it('never has more than the window unacknowledged: shipping stops until acks come', async () => {
    const source = Array.from({ length: 5000 * (FACTS_WINDOW + 2) }, (_, i) => f(i));
    const sent: Buffer[] = [];
    const shipper = new FactShipper(source, (b) => sent.push(b));
    const flushed = shipper.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(sent.length).toBe(FACTS_WINDOW);
    shipper.ack(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(sent.length).toBe(FACTS_WINDOW + 1);
    for (let i = 1; i < FACTS_WINDOW + 2; i++) {
      shipper.ack(i);
      await new Promise((r) => setTimeout(r, 50));
    }
    await flushed;
    expect(sent.length).toBe(FACTS_WINDOW + 2);
    expect(shipper.count).toBe(5000 * (FACTS_WINDOW + 2));
  });
});

describe('clocks', () => {
  it('takes the probe with the shortest round trip; an offset within its bound is not applied', () => {
    const c = estimateClock([
      { t0: 1000, agentNow: 1600, t1: 1040 },
      { t0: 2000, agentNow: 2504, t1: 2004 },
    ]);
    expect(c).toEqual({ offsetMs: 502, errorMs: 3, rttMs: 4, correctionMs: 502, samples: 2 });
    expect(estimateClock([{ t0: 0, agentNow: 1, t1: 1 }]).correctionMs).toBe(0);
  });

  it('moves every time of a fact onto the orchestrator clock', () => {
    const send: Fact = { k: 'send', client: 'u/d0', conn: 'c', conv: 'dm', cmid: 'x', intendedAt: 100, sentAt: 110, attempts: 1, outcome: 'sent', answeredAt: 120 };
    expect(shiftFact(send, 100)).toMatchObject({ intendedAt: 0, sentAt: 10, answeredAt: 20 });
    expect(shiftFact({ k: 'stall', client: 'u/d0', mode: 'pause', at: 500, end: 900 }, -100)).toMatchObject({ at: 600, end: 1000 });
  });
});

describe('spreading devices', () => {
  it('equal shares for equal capacities, proportional otherwise, and a clear error past the total', () => {
    expect(spreadDevices(80, [18000, 18000, 18000, 18000])).toEqual([20, 20, 20, 20]);
    expect(spreadDevices(10, [3, 3, 3, 3])).toEqual([3, 3, 2, 2]);
    expect(spreadDevices(300, [100, 200])).toEqual([100, 200]);
    expect(() => spreadDevices(10, [4, 4])).toThrow(/10 devices are more than the agents can hold \(2 agent\(s\), 8 in all\)/);
  });
});

describe('flags', () => {
  const bin = fileURLToPath(new URL('../../bin/imstorm.js', import.meta.url));
  const imstorm = (args: string[], env: Record<string, string | undefined> = {}) => {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, IMSTORM_CONTROL_TOKEN: undefined, IMSTORM_CONTROL_URL: undefined, ...env } });
    return { code: r.status, err: r.stderr };
  };

  it('imstorm agent without a token: exit 2 naming what to give', () => {
    expect(imstorm(['agent', '--control', 'ws://127.0.0.1:7400/control'])).toMatchObject({ code: 2, err: expect.stringMatching(/^imstorm agent: give the control token: --token T or IMSTORM_CONTROL_TOKEN/) });
  });

  it('imstorm run --agents without --control-listen: exit 2 before anything starts', () => {
    expect(imstorm(['run', 'smoke', '--agents', '2'])).toMatchObject({ code: 2, err: expect.stringMatching(/--agents N and --control-listen HOST:PORT go together/) });
  });
});
