// MAX_SENDS_IN_FLIGHT (server/gateway/send-gate.ts): past the node's bound on sends waiting for
// the store, a connection's next send waits in its socket; slots go to held connections as
// sends end, and every send is still answered, in each connection's order. The real gateway on
// real loopback sockets, over the in-memory seams: a log whose `send` waits until the test
// lets it answer, counting how many wait at once.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitUntil } from '../../harness/env/procs.ts';
import { mintToken } from '../../harness/util/tokens.ts';
import { dmConv } from '../../server/protocol/ids.ts';
import type { ConversationLog } from '../../server/store/log.ts';
import { MemoryBroker } from '../../server/store/memory/memory-bus.ts';
import { MemoryStore } from '../../server/store/memory/memory-store.ts';
import { LOOPBACK_SECRET as SECRET, loopbackGateway, type LoopbackGateway } from './loopback-gateway.ts';

const MAX = 4;
const USERS = 6;
const SENDS_EACH = 3;

let node: LoopbackGateway | null = null;
const clients: WebSocket[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.terminate();
  node?.close();
  node = null;
});

/** A log whose sends wait for release(); `peak` is the most that waited at once. */
function stalledLog(store: MemoryStore) {
  const waiting: Array<() => void> = [];
  const stats = { active: 0, peak: 0, calls: 0, open: false, cmids: [] as string[] };
  const log = new Proxy<ConversationLog>(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== 'send') return typeof v === 'function' ? v.bind(target) : v;
      return async (...args: Parameters<ConversationLog['send']>) => {
        stats.calls++;
        stats.cmids.push(args[0].cmid);
        stats.peak = Math.max(stats.peak, ++stats.active);
        try {
          if (!stats.open) await new Promise<void>((r) => waiting.push(r));
          return await target.send(...args);
        } finally {
          stats.active--;
        }
      };
    },
  });
  /** lets the oldest `n` waiting sends answer */
  const release = (n: number) => {
    for (const r of waiting.splice(0, n)) r();
  };
  return { log, stats, waiting, release };
}

/** A loopback node with MAX_SENDS_IN_FLIGHT = MAX over `log`. */
async function gateNode(store: MemoryStore, log: ConversationLog, env: Record<string, string>) {
  node = await loopbackGateway(store, log, { env: { MAX_SENDS_IN_FLIGHT: String(MAX), ...env } });
  return node;
}

interface Client {
  ws: WebSocket;
  sent: Array<{ id: string; seq: number; cmid: string }>;
  closedWith: number | null;
  errors: string[];
  /** ids of the `ok` answers */
  oks: string[];
  /** its hello token's exp, in ms */
  expMs: number;
}

async function connect(url: string, user: string, expiresIn = '1h'): Promise<Client> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  clients.push(ws);
  const token = await mintToken(SECRET, user, { dev: 'd1', expiresIn });
  const c: Client = { ws, sent: [], closedWith: null, errors: [], oks: [], expMs: 1000 * (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp };
  let synced!: () => void;
  const ready = new Promise<void>((r) => (synced = r));
  ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as { t: string; id: string; seq: number; cmid: string; code?: string };
    if (f.t === 'synced') synced();
    if (f.t === 'sent') c.sent.push({ id: f.id, seq: f.seq, cmid: f.cmid });
    if (f.t === 'error') c.errors.push(JSON.stringify(f));
    if (f.t === 'ok') c.oks.push(f.id);
  });
  ws.on('close', (code) => (c.closedWith = code));
  await new Promise<void>((r, j) => ws.once('open', () => r()).once('error', j));
  ws.send(JSON.stringify({ t: 'hello', v: 1, token }));
  await ready;
  return c;
}

/**
 * Clients `users` (at least MAX + 1) connected to a fresh node whose store answers when told;
 * the first MAX send one each and fill the node, then the next one's send is held.
 */
async function fullNode(users: string[], env: Record<string, string> = {}, expiresIn: Record<string, string> = {}) {
  const store = new MemoryStore(new MemoryBroker({ auto: true }));
  const stalled = stalledLog(store);
  const { gw, url } = await gateNode(store, stalled.log, env);
  const cs = await Promise.all(users.map((u) => connect(url, u, expiresIn[u])));
  const send = (i: number, j: number) => cs[i]!.ws.send(JSON.stringify({ t: 'send', id: `s${j}`, conv: dmConv(users[i]!, 'peer'), cmid: `${users[i]}${j}`, body: `m${j}` }));
  for (let i = 0; i < MAX; i++) send(i, 0);
  await waitUntil(() => stalled.stats.active === MAX, { timeoutMs: 5000, what: 'the node full' });
  send(MAX, 0);
  await waitUntil(() => gw.sends.heldCount === 1, { timeoutMs: 5000, what: `${users[MAX]} held` });
  return { ...stalled, gw, cs, send };
}

describe('the node bounds the sends waiting for its store (MAX_SENDS_IN_FLIGHT)', () => {
  it(`${USERS} clients pipelining ${SENDS_EACH} sends each: at most ${MAX} reach the store at once, held clients are not cut as silent, and every send is answered in order`, { timeout: 30_000 }, async () => {
    const store = new MemoryStore(new MemoryBroker({ auto: true }));
    const { log, stats, waiting, release } = stalledLog(store);
    // heartbeats of 400 ms: a held client (its socket not read) would be judged silent after 800
    const { gw, metrics, url } = await gateNode(store, log, { HEARTBEAT_MS: '400' });
    const users = Array.from({ length: USERS }, (_, i) => `u${i}`);
    const cs = await Promise.all(users.map((u) => connect(url, u)));
    cs.forEach((c, i) => {
      for (let j = 0; j < SENDS_EACH; j++) c.ws.send(JSON.stringify({ t: 'send', id: `s${j}`, conv: dmConv(users[i]!, 'peer'), cmid: `c${i}-${j}`, body: `m${j}` }));
    });

    await waitUntil(() => stats.active === MAX && gw.sends.heldCount > 0, { timeoutMs: 5000, what: `${MAX} sends at the store and clients held` });
    // held well past two heartbeats: none is cut 4408, and no more sends reach the store
    await new Promise((r) => setTimeout(r, 1200));
    expect(cs.map((c) => c.closedWith)).toEqual(cs.map(() => null));
    expect(stats.calls).toBe(MAX);
    // held: every client with a send not yet at the store (one whose three all got in is read on)
    const unstarted = cs.filter((_, i) => stats.cmids.filter((m) => m.startsWith(`c${i}-`)).length < SENDS_EACH).length;
    expect(unstarted).toBeGreaterThanOrEqual(USERS - MAX + 1);
    expect(gw.sends.heldCount).toBe(unstarted);
    expect(await metrics.registry.getSingleMetricAsString('imstorm_sends_in_flight')).toMatch(new RegExp(`imstorm_sends_in_flight ${MAX}$`, 'm'));
    expect(await metrics.registry.getSingleMetricAsString('imstorm_send_held_connections')).toMatch(new RegExp(`imstorm_send_held_connections ${unstarted}$`, 'm'));

    // answered one at a time: each answer lets exactly one more send in
    for (let answered = 1; answered <= USERS * SENDS_EACH; answered++) {
      release(1);
      await waitUntil(() => stats.calls === Math.min(MAX + answered, USERS * SENDS_EACH) && waiting.length === Math.min(MAX, USERS * SENDS_EACH - answered), { timeoutMs: 5000, what: `send ${answered} answered and the next one at the store`, intervalMs: 5 });
    }
    expect(stats.peak).toBe(MAX);
    await waitUntil(() => cs.every((c) => c.sent.length === SENDS_EACH), { timeoutMs: 5000, what: 'every send answered' });
    for (const [i, c] of cs.entries()) {
      expect(c.sent.map((s) => s.cmid)).toEqual(Array.from({ length: SENDS_EACH }, (_, j) => `c${i}-${j}`));
      expect(c.sent.map((s) => s.seq)).toEqual([1, 2, 3]);
      expect(c.closedWith).toBeNull();
      expect(c.errors).toEqual([]);
    }
    expect(gw.sends.inFlight).toBe(0);
    expect(gw.sends.heldCount).toBe(0);
    expect(gw.sends.holds).toBeGreaterThanOrEqual(unstarted);
    expect(await metrics.registry.getSingleMetricAsString('imstorm_send_holds_total')).toMatch(new RegExp(`imstorm_send_holds_total ${gw.sends.holds}$`, 'm'));
  });

  it('slots go to held connections oldest first: clients held early are not passed over by ones that send again', { timeout: 30_000 }, async () => {
    // a..d fill the node; then e is held, then f, then a..d with their second sends
    const { stats, release, gw, cs, send } = await fullNode(['a', 'b', 'c', 'd', 'e', 'f']);
    send(5, 0);
    await waitUntil(() => gw.sends.heldCount === 2, { timeoutMs: 5000, what: 'f held' });
    for (let i = 0; i < MAX; i++) send(i, 1);
    await waitUntil(() => gw.sends.heldCount === 6, { timeoutMs: 5000, what: 'a..d held behind e and f' });
    expect([...stats.cmids].sort()).toEqual(['a0', 'b0', 'c0', 'd0']);

    // two of a0..d0 answered: their slots go to e and f, not to a..d sending again
    release(2);
    await waitUntil(() => stats.calls === MAX + 2, { timeoutMs: 5000, what: 'two slots handed out' });
    expect(stats.cmids.slice(MAX)).toEqual(['e0', 'f0']);
    stats.open = true;
    release(MAX);
    await waitUntil(() => cs.every((c, i) => c.sent.length === (i < MAX ? 2 : 1)), { timeoutMs: 5000, what: 'every send answered' });
    expect(stats.cmids.slice(MAX + 2).sort()).toEqual(['a1', 'b1', 'c1', 'd1']);
    expect(stats.peak).toBe(MAX);
  });

  it('a held client that closes is forgotten, and a send refused by its bucket gives its slot back', { timeout: 30_000 }, async () => {
    // one send per user, then none for a long while: g's second send is answered rate_limited
    const { stats, release, gw, cs, send } = await fullNode(['a', 'b', 'c', 'd', 'e', 'f', 'g'], { SEND_RATE: '0.001', SEND_BURST: '1' });
    send(5, 0);
    send(6, 0);
    send(6, 1);
    await waitUntil(() => gw.sends.heldCount === 3, { timeoutMs: 5000, what: 'f and g held' });

    cs[4]!.ws.terminate();
    await waitUntil(() => gw.sends.heldCount === 2, { timeoutMs: 5000, what: 'e forgotten once closed' });
    release(1);
    await waitUntil(() => stats.calls === MAX + 1, { timeoutMs: 5000, what: 'the freed slot handed out' });
    expect(stats.cmids.at(-1)).toBe('f0');
    stats.open = true;
    release(MAX);
    await waitUntil(() => cs[6]!.sent.length + cs[6]!.errors.length === 2, { timeoutMs: 5000, what: "g's two sends answered" });
    expect(cs[6]!.sent.map((x) => x.cmid)).toEqual(['g0']);
    expect(cs[6]!.errors).toEqual([expect.stringContaining('"code":"rate_limited"')]);
    await waitUntil(() => cs.every((c, i) => i === 4 || i === 6 || c.sent.length === 1), { timeoutMs: 5000, what: 'every other send answered' });
    // e's send never reached the store; g's second was refused before it
    expect([...stats.cmids].sort()).toEqual(['a0', 'b0', 'c0', 'd0', 'f0', 'g0']);
    expect(gw.sends.inFlight).toBe(0);
    expect(gw.sends.heldCount).toBe(0);
  });

  it('a held client whose token runs out while it waits is not closed 4401: the `auth` it sent behind its send is read and answered once a slot frees', { timeout: 30_000 }, async () => {
    // e's token lasts 3–4 s (exp is in whole seconds); its send is held, and its `auth` waits behind it
    const { stats, release, gw, cs } = await fullNode(['a', 'b', 'c', 'd', 'e'], {}, { e: '4s' });
    const e = cs[4]!;
    e.ws.send(JSON.stringify({ t: 'auth', id: 'r1', token: await mintToken(SECRET, 'e', { dev: 'd1' }) }));
    // past e's exp and a sweep round (a second): the node has not read e since it was held
    await waitUntil(() => Date.now() > e.expMs + 1500, { timeoutMs: 10_000, what: "e's exp and a sweep round past" });
    expect(e.closedWith, 'e closed while held').toBeNull();
    expect(gw.sends.holding([...gw.connections()].find((c) => c.user === 'e')!)).toBe(true);
    stats.open = true;
    release(MAX);
    await waitUntil(() => e.sent.length === 1 && e.oks.length === 1, { timeoutMs: 5000, what: "e's send and auth answered" });
    expect(e.oks).toEqual(['r1']);
    // read again, and refreshed: the next sweeps keep it open
    await new Promise((r) => setTimeout(r, 1500));
    expect(e.closedWith).toBeNull();
    expect(e.errors).toEqual([]);
  });

  it('a held client whose token ran out is closed 4401 once its grace (2 × STORE_TIMEOUT_MS) passed, though the node still holds it', { timeout: 30_000 }, async () => {
    // a full node keeps e held throughout; e sends no `auth`: it may not go on with its expired token
    const { stats, cs } = await fullNode(['a', 'b', 'c', 'd', 'e'], { STORE_TIMEOUT_MS: '500' }, { e: '2s' });
    const e = cs[4]!;
    let heldAtClose: boolean | null = null;
    e.ws.once('close', () => (heldAtClose = stats.active === MAX));
    await waitUntil(() => e.closedWith !== null, { timeoutMs: 10_000, what: 'e closed' });
    expect(e.closedWith).toBe(4401);
    // closed after its exp plus the 1 s grace, while the node was still full
    expect(Date.now()).toBeGreaterThanOrEqual(e.expMs + 1000);
    expect(heldAtClose).toBe(true);
    expect(stats.cmids).not.toContain('e0');
  });

  it('a connection held when the node drains starts none of its held sends once a slot frees (its client retries them elsewhere)', { timeout: 30_000 }, async () => {
    const { stats, release, gw, cs } = await fullNode(['a', 'b', 'c', 'd', 'e']);
    const drained = gw.drain(10);
    // every connection sent its 1001: e's is closing while its send still waits for a slot
    // (ws answers the server's close frame at once: CLOSING until the TCP connection ends)
    await waitUntil(() => cs.every((c) => c.ws.readyState >= WebSocket.CLOSING), { timeoutMs: 5000, what: 'the 1001 close frames' });
    stats.open = true;
    release(MAX);
    await drained;
    await waitUntil(() => gw.sends.inFlight === 0 && gw.sends.heldCount === 0, { timeoutMs: 5000, what: 'the slots given back' });
    expect([...stats.cmids].sort()).toEqual(['a0', 'b0', 'c0', 'd0']);
  });
});
