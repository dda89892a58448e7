// A simulated device gives up on an opening handshake that does not finish within its
// deadline, says so in its error fact, and tries again by its reconnect policy. The deadline
// is the fleet's own (one timer for every socket in a handshake), not ws's handshakeTimeout,
// which keeps a timer object on each socket for the connection's life.
// Real sockets on loopback: a TCP server that accepts and never answers the upgrade.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { MemoryRecorder } from '../../harness/fleet/recorder.ts';
import { SimClient } from '../../harness/fleet/sim-client.ts';
import type { DevicePlan } from '../../harness/fleet/workload.ts';
import { waitUntil } from '../helpers/procs.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

it('abandons a handshake the server never answers after its deadline, records why, and reconnects', async () => {
  const accepted: { at: number; socket: net.Socket }[] = [];
  const server = net.createServer((socket) => accepted.push({ at: performance.now(), socket }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    for (const a of accepted) a.socket.destroy();
    await new Promise((r) => server.close(r));
  });
  const recorder = new MemoryRecorder();
  const plan: DevicePlan = { user: 'a', device: 'd0', convs: [], sendRate: 0, churnRate: 0, seed: 1, node: 1, presenceSubs: [] };
  const c = new SimClient(plan, {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`,
    token: async () => 'tok.en.a',
    recorder,
    workload: { bodyBytes: 64, ack: 'never', reconnect: { baseMs: 50, capMs: 50, attempts: 2, rotate: false }, cmids: 'counter' },
    handshakeTimeoutMs: 400,
  });
  closers.push(() => c.stop());
  const started = performance.now();
  c.start();
  await waitUntil(async () => accepted.length >= 2, { timeoutMs: 5_000, what: 'a second connection attempt' });
  // the first attempt was given up no earlier than its deadline, and not much later (the sweep runs every 250 ms)
  const gaveUpAfter = accepted[1]!.at - started;
  expect(gaveUpAfter).toBeGreaterThanOrEqual(400);
  expect(gaveUpAfter).toBeLessThan(400 + 250 + 1_000);
  const errors = recorder.facts.filter((f) => f.k === 'conn' && f.event === 'error');
  expect(errors[0]).toMatchObject({ detail: 'opening handshake timed out (400 ms)' });
  expect(recorder.facts.some((f) => f.k === 'conn' && f.event === 'close')).toBe(true);
  expect(recorder.counts.get('connects')).toBeGreaterThanOrEqual(2);
});
