// Ack mode `ahead` with `once` (explore's ack-ahead devices): one ack ahead per conversation
// and connection, with its first message there, then nothing more on that connection; every
// 500 ms without `once`. Against a minimal protocol peer on loopback (real sockets; no Redis,
// no server process) that records each connection's acks.
import { afterEach, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { MemoryRecorder } from '../../harness/fleet/recorder.ts';
import { SimClient } from '../../harness/fleet/sim-client.ts';
import type { AckMode, DevicePlan } from '../../harness/fleet/workload.ts';
import { waitUntil } from '../helpers/procs.ts';
import { wsPeer } from '../helpers/ws-peer.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

const msg = (seq: number) => `{"t":"msg","conv":"dm:a:b","seq":${seq},"from":"b","cmid":"m${seq}","ts":1,"body":"x"}`;

/** Welcomes each connection, replays seqs 1..n stored so far, and pushes one more every 40 ms; records each connection's acks. */
async function pushingPeer() {
  const acks: { seq: number; id?: string }[][] = [];
  const sockets: WebSocket[] = [];
  let head = 0;
  const peer = await wsPeer((ws) => {
    const mine: { seq: number; id?: string }[] = [];
    acks.push(mine);
    sockets.push(ws);
    let timer: NodeJS.Timeout | undefined;
    ws.on('close', () => clearInterval(timer));
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as { t: string; id?: string; seq?: number };
      if (f.t === 'hello') {
        ws.send(`{"t":"welcome","v":1,"user":"a","device":"d0","conn":"c${acks.length}","node":"n1","heartbeatMs":30000,"maxBodyBytes":65536}`);
        ws.send(`{"t":"conv","conv":"dm:a:b","epoch":"e1","cursor":0,"head":${head}}`);
        for (let s = 1; s <= head; s++) ws.send(msg(s));
        ws.send('{"t":"synced"}');
        timer = setInterval(() => ws.send(msg(++head)), 40);
        return;
      }
      if (f.t !== 'ack') return;
      mine.push({ seq: f.seq!, ...(f.id ? { id: f.id } : {}) });
      if (f.id) ws.send(`{"t":"ok","id":"${f.id}"}`);
    });
  });
  closers.push(peer.close);
  return { url: peer.url, acks, drop: () => sockets.at(-1)!.terminate() };
}

function device(url: string, ack: AckMode) {
  const recorder = new MemoryRecorder();
  const plan: DevicePlan = { user: 'a', device: 'd0', convs: ['dm:a:b'], sendRate: 0, churnRate: 0, seed: 7, node: 1, presenceSubs: [], ack };
  const c = new SimClient(plan, { url, token: async () => 'tok.en.a', recorder, workload: { bodyBytes: 64, ack: 'never', reconnect: { baseMs: 50, capMs: 100, attempts: 3, rotate: false }, cmids: 'counter' } });
  closers.push(() => c.stop());
  c.start();
  return c;
}

it('`once`: one ack ahead per connection, with its first message, and none after it while messages keep coming', async () => {
  const peer = await pushingPeer();
  device(peer.url, { kind: 'ahead', by: 50, once: true });
  await waitUntil(async () => (peer.acks[0]?.length ?? 0) > 0, { timeoutMs: 5_000, what: 'the first ack' });
  await new Promise((r) => setTimeout(r, 1_200));
  // seq 1 held, 51 claimed; the ~30 pushes after it stay unacked
  expect(peer.acks[0]).toEqual([{ seq: 51, id: expect.any(String) }]);
  // the next connection acks ahead once more: from its first message (the replay's seq 1)
  peer.drop();
  await waitUntil(async () => (peer.acks[1]?.length ?? 0) > 0, { timeoutMs: 5_000, what: 'the second connection’s ack' });
  await new Promise((r) => setTimeout(r, 700));
  expect(peer.acks[1]).toEqual([{ seq: 51, id: expect.any(String) }]);
});

it('without `once`: an ack ahead every 500 ms while messages come', async () => {
  const peer = await pushingPeer();
  device(peer.url, { kind: 'ahead', by: 50 });
  await waitUntil(async () => (peer.acks[0]?.length ?? 0) >= 3, { timeoutMs: 5_000, what: 'three acks ahead on one connection' });
  for (const [i, a] of peer.acks[0]!.entries()) if (i > 0) expect(a.seq).toBeGreaterThan(peer.acks[0]![i - 1]!.seq);
});
