// Issue 8, "Server hardening": what a client or attacker can send must never crash a node,
// answer `internal`, or leak a stack trace. Real redis-server, real server processes, raw
// sockets where the attack needs them.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import type { NodeHandle } from '../helpers/nodes.ts';
import { exited, sleep } from '../helpers/procs.ts';
import { token } from '../helpers/tokens.ts';

let cl: Cluster;
let node: NodeHandle;

beforeAll(async () => {
  cl = await startCluster();
  node = cl.nodes[0]!;
});
afterAll(async () => {
  await cl?.cleanup();
});

/** Opens a TCP connection to the node (errors swallowed: the test looks at the node, not the socket). */
async function rawSocket(port: number): Promise<net.Socket | null> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  const ok = await new Promise<boolean>((res) => {
    s.once('connect', () => res(true));
    s.once('error', () => res(false));
  });
  return ok ? s : null;
}

/** Writes `request` on a fresh TCP connection and resets it (RST) after `resetAfterMs`. */
async function sendAndReset(port: number, request: string, resetAfterMs = 0): Promise<void> {
  const s = await rawSocket(port);
  if (!s) return;
  s.write(request);
  if (resetAfterMs) await sleep(resetAfterMs);
  s.resetAndDestroy();
}

const upgrade = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

/** The node still runs and answers HTTP and WebSocket. */
async function expectAlive(n: NodeHandle): Promise<void> {
  expect(n.running, `node exited:\n${n.tail()}`).toBe(true);
  const res = await fetch(`${n.url}/healthz`, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  const c = cl.track(await connectAs(n, `alive${Date.now()}`));
  expect((await c.request({ t: 'ping' })).t).toBe('pong');
  c.terminate();
}

const errorLines = (n: NodeHandle) => n.logs.filter((l) => typeof l.json?.level === 'number' && (l.json.level as number) >= 50).map((l) => l.text);

describe('item 1: reset sockets', () => {
  it('an upgrade request for a path other than /ws, reset by the client, does not kill the node', async () => {
    const n = await cl.addNode();
    // The reset lands before, during or after the server's 404: try each timing a few times.
    for (let i = 0; i < 30 && n.running; i++) await sendAndReset(n.port, upgrade('/nope'), i % 3);
    await sleep(300);
    await expectAlive(n);
  });

  it('an upgrade request during shutdown (answered 503), reset by the client, does not turn the clean exit into a crash', async () => {
    const n = await cl.addNode({ DRAIN_MS: 3000 });
    // two open connections keep the drain going for ~1.5 s
    const a = cl.track(await connectAs(n, `drain-a${Date.now()}`));
    const b = cl.track(await connectAs(n, `drain-b${Date.now()}`));
    // sockets already accepted, their request still coming: the listener closes on SIGTERM, these stay
    const pending = (await Promise.all(Array.from({ length: 10 }, () => rawSocket(n.port)))).filter((s): s is net.Socket => s !== null);
    for (const s of pending) s.write('GET /ws HTTP/1.1\r\nHost: x\r\n');
    const exit = n.stop();
    await n.waitForLog((l) => l.json?.msg === 'shutting down');
    for (const [i, s] of pending.entries()) {
      s.write('Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      await sleep(i % 3);
      s.resetAndDestroy();
    }
    expect(await exit, `exit code after SIGTERM:\n${n.tail()}`).toBe(0);
    a.terminate();
    b.terminate();
  });

  it('upgrades on /ws, half-sent headers and request bodies, reset mid-way, neither kill the node nor log an internal error', async () => {
    const n = await cl.addNode();
    for (let i = 0; i < 20 && n.running; i++) {
      await sendAndReset(n.port, upgrade('/ws'), i % 3);
      await sendAndReset(n.port, 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n', i % 3);
      await sendAndReset(n.port, 'GARBAGE\r\n\r\n', i % 3);
    }
    // a request body cut by a reset: the client is gone, which is not a server error
    const t = await token({ sub: 'resetter' });
    for (let i = 0; i < 5 && n.running; i++) {
      await sendAndReset(n.port, `POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nAuthorization: Bearer ${t}\r\n\r\n{"conv":`, 30);
    }
    await sleep(300);
    await expectAlive(n);
    expect(errorLines(n)).toEqual([]);
  });

  it('process policy: an uncaught exception is logged as fatal with its stack and the node exits 1 (for its supervisor to restart it)', async () => {
    const n = await cl.addNode({ TEST_BUGS: 'throw_uncaught' }, { waitReady: false });
    const code = await exited(n.process);
    expect(code, n.tail()).toBe(1);
    const fatal = n.logs.find((l) => l.json?.level === 60);
    expect(fatal?.json, n.tail()).toMatchObject({ kind: 'uncaughtException', msg: expect.stringMatching(/exiting \(code 1\)/) });
    expect(String(fatal!.json!.err)).toMatch(/deliberate uncaught exception/);
  });
});
