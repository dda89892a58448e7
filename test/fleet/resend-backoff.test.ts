// A simulated device answered `unavailable` resends the same cmid with backoff (200 ms,
// doubling per attempt, to 2 s, ±25 %): it used to resend every 200 ms, so a node whose
// store was down got five sends a second from every device that had one outstanding.
// Against a minimal protocol peer on loopback (real sockets; no Redis, no server process).
import { afterEach, expect, it } from 'vitest';
import { MemoryRecorder } from '../../harness/fleet/recorder.ts';
import { SimClient } from '../../harness/fleet/sim-client.ts';
import type { DevicePlan } from '../../harness/fleet/workload.ts';
import { waitUntil } from '../helpers/procs.ts';
import { wsPeer } from '../helpers/ws-peer.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** Welcomes and syncs at once; answers each cmid's first `refusals` sends `unavailable`, then `sent`. */
async function refusingPeer(refusals: number) {
  const attempts = new Map<string, number[]>();
  const peer = await wsPeer((ws) => {
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as { t: string; id?: string; cmid?: string; conv?: string };
      if (f.t === 'hello') {
        ws.send('{"t":"welcome","v":1,"user":"a","device":"d0","conn":"c1","node":"n1","heartbeatMs":30000,"maxBodyBytes":65536}');
        ws.send('{"t":"synced"}');
        return;
      }
      if (f.t !== 'send') return;
      const at = attempts.get(f.cmid!) ?? [];
      at.push(performance.now());
      attempts.set(f.cmid!, at);
      if (at.length <= refusals) ws.send(`{"t":"error","id":"${f.id}","code":"unavailable","message":"store down","retryable":true}`);
      else ws.send(`{"t":"sent","id":"${f.id}","conv":"${f.conv}","seq":1,"cmid":"${f.cmid}","ts":1,"dup":false}`);
    });
  });
  closers.push(peer.close);
  return { url: peer.url, attempts };
}

it('resends a send answered `unavailable` after 200, 400, 800, 1600 ms (±25 %), then is answered `sent` once', async () => {
  const peer = await refusingPeer(4);
  const recorder = new MemoryRecorder();
  const plan: DevicePlan = { user: 'a', device: 'd0', convs: ['g:g1'], sendRate: 0, churnRate: 0, seed: 7, node: 1, presenceSubs: [], script: [{ op: 'send', at: 10, conv: 'g:g1', cmid: 'm1', bytes: 40 }] };
  const c = new SimClient(plan, { url: peer.url, token: async () => 'tok.en.a', recorder, workload: { bodyBytes: 64, ack: 'never', reconnect: { baseMs: 50, capMs: 100, attempts: 3, rotate: false }, cmids: 'counter' } });
  closers.push(() => c.stop());
  c.start();
  await c.whenSynced();
  c.startLoad();
  await waitUntil(async () => recorder.sends().some((s) => s.outcome === 'sent'), { timeoutMs: 10_000, what: 'the send answered sent' });
  const at = peer.attempts.get('m1')!;
  expect(at).toHaveLength(5);
  const gaps = at.slice(1).map((t, i) => t - at[i]!);
  [200, 400, 800, 1600].forEach((base, i) => {
    expect(gaps[i], `gap before attempt ${i + 2}`).toBeGreaterThanOrEqual(base * 0.75 - 5);
    expect(gaps[i], `gap before attempt ${i + 2}`).toBeLessThanOrEqual(base * 1.25 + 1000);
  });
  expect(recorder.sends()).toEqual([expect.objectContaining({ cmid: 'm1', outcome: 'sent', attempts: 5, code: 'unavailable' })]);
  expect(recorder.counts.get('error.unavailable')).toBe(4);
});
