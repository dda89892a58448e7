// A `presence.sub` of many users is read and sent PRESENCE_BATCH users at a time, each batch's
// frames written before the next batch is read, so one request does not hold the node's loop
// for the replies and frames of a thousand users at once (hostile-ci's loop lag at the onset of
// its floods, 2026-12-07). The real gateway on a real loopback socket, over the in-memory store
// with its presence reads answered when the test says.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitUntil } from '../../harness/env/procs.ts';
import { mintToken } from '../../harness/util/tokens.ts';
import { PRESENCE_BATCH } from '../../server/store/batched-states.ts';
import { MemoryBroker } from '../../server/store/memory/memory-bus.ts';
import { MemoryStore } from '../../server/store/memory/memory-store.ts';
import type { PresenceState } from '../../server/store/presence-store.ts';
import { LOOPBACK_SECRET, loopbackGateway, type LoopbackGateway } from './loopback-gateway.ts';

const USERS = Array.from({ length: 1000 }, (_, i) => `w${i}`);

let node: LoopbackGateway | null = null;
const sockets: WebSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.terminate();
  node?.close();
  node = null;
});

interface Read {
  users: string[];
  answer(): void;
  fail(): void;
}

/** A store whose presence reads wait in `reads` until the test answers or fails them. */
function heldPresenceStore() {
  const store = new MemoryStore(new MemoryBroker({ auto: true }));
  const reads: Read[] = [];
  const held = new Proxy<MemoryStore>(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== 'presence') return typeof v === 'function' ? v.bind(target) : v;
      return (users: readonly string[]) =>
        new Promise<PresenceState[]>((resolve, reject) => {
          reads.push({ users: [...users], answer: () => resolve(target.presence(users)), fail: () => reject(new Error('store timeout')) });
        });
    },
  });
  return { store, held, reads };
}

/** A connected, synced client; `presence` counts the presence frames per user. */
async function watcher(url: string) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets.push(ws);
  const c = { ws, presence: new Map<string, number>(), frames: 0, oks: [] as string[] };
  let synced!: () => void;
  const ready = new Promise<void>((r) => (synced = r));
  ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as { t: string; id?: string; user?: string };
    if (f.t === 'synced') synced();
    if (f.t === 'ok') c.oks.push(f.id!);
    if (f.t === 'presence') {
      c.frames++;
      c.presence.set(f.user!, (c.presence.get(f.user!) ?? 0) + 1);
    }
  });
  await new Promise<void>((r, j) => ws.once('open', () => r()).once('error', j));
  ws.send(JSON.stringify({ t: 'hello', v: 1, token: await mintToken(LOOPBACK_SECRET, 'watcher', { dev: 'd1', expiresIn: '1h' }) }));
  await ready;
  return c;
}

/** A node over a store whose presence reads the test answers, and a client that sent `presence.sub` p1 of USERS. */
async function subscribedToAll() {
  const { store, held, reads } = heldPresenceStore();
  node = await loopbackGateway(held, store);
  const c = await watcher(node.url);
  c.ws.send(JSON.stringify({ t: 'presence.sub', id: 'p1', users: USERS }));
  return { reads, c };
}

/** Answers reads `from` up to `to` (exclusive), each once it was asked for. */
async function answerReads(reads: Read[], from: number, to: number): Promise<void> {
  for (let k = from; k < to; k++) {
    await waitUntil(() => reads.length === k + 1, { timeoutMs: 5000, what: `read ${k + 1}` });
    reads[k]!.answer();
  }
}

describe('presence.sub of PRESENCE_SUBS_MAX users', () => {
  it(`is read ${PRESENCE_BATCH} users at a time, each batch's frames on the socket before the next batch is read`, async () => {
    const { reads, c } = await subscribedToAll();
    const batches = USERS.length / PRESENCE_BATCH;
    for (let k = 0; k < batches; k++) {
      await waitUntil(() => reads.length === k + 1, { timeoutMs: 5000, what: `read ${k + 1}` });
      // no read ahead of the answer
      await new Promise((r) => setTimeout(r, 30));
      expect(reads.length).toBe(k + 1);
      expect(reads[k]!.users).toEqual(USERS.slice(k * PRESENCE_BATCH, (k + 1) * PRESENCE_BATCH));
      // the previous batch's frames reached the client before this read was asked for
      expect(c.frames).toBe(k * PRESENCE_BATCH);
      reads[k]!.answer();
      await waitUntil(() => c.frames === (k + 1) * PRESENCE_BATCH, { timeoutMs: 5000, what: `batch ${k + 1}'s frames` });
    }
    await waitUntil(() => c.oks.includes('p1'), { timeoutMs: 5000, what: 'ok p1' });
    // no read beyond the ten, and one frame per user
    await new Promise((r) => setTimeout(r, 100));
    expect(reads.length).toBe(batches);
    expect([...c.presence.keys()].sort()).toEqual([...USERS].sort());
    expect([...c.presence.values()].every((n) => n === 1)).toBe(true);
  });

  it('a batch whose read fails is read again with every user after it, later; each user still gets one frame', async () => {
    const { reads, c } = await subscribedToAll();
    await answerReads(reads, 0, 2);
    await waitUntil(() => reads.length === 3, { timeoutMs: 5000, what: 'read 3' });
    reads[2]!.fail();
    // the retry after the back-off reads users 200.. in batches again
    for (let k = 3; k < 3 + 8; k++) {
      await waitUntil(() => reads.length === k + 1, { timeoutMs: 5000, what: `read ${k + 1}` });
      expect(reads[k]!.users).toEqual(USERS.slice((k - 1) * PRESENCE_BATCH, k * PRESENCE_BATCH));
      reads[k]!.answer();
    }
    await waitUntil(() => c.frames === USERS.length, { timeoutMs: 5000, what: 'a frame for every user' });
    await new Promise((r) => setTimeout(r, 100));
    expect(reads.length).toBe(11);
    expect(c.oks).toEqual(['p1']);
    expect([...c.presence.values()].every((n) => n === 1)).toBe(true);
  });

  it('users unsubscribed while the first batch is read are not read at all', async () => {
    const { reads, c } = await subscribedToAll();
    await waitUntil(() => reads.length === 1, { timeoutMs: 5000, what: 'read 1' });
    c.ws.send(JSON.stringify({ t: 'presence.unsub', id: 'u1', users: USERS.slice(500) }));
    await waitUntil(() => c.oks.includes('u1'), { timeoutMs: 5000, what: 'ok u1' });
    await answerReads(reads, 0, 5);
    await waitUntil(() => c.oks.includes('p1') && c.frames === 500, { timeoutMs: 5000, what: 'ok p1 and 500 frames' });
    await new Promise((r) => setTimeout(r, 100));
    expect(reads.length).toBe(5);
    expect([...c.presence.keys()].sort()).toEqual(USERS.slice(0, 500).sort());
  });
});
