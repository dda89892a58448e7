/**
 * A receiver process of `npm run bench:fanout`, forked with an IPC channel. It holds plain
 * `ws` client connections, the same code whichever server they reach (imstorm or the raw-ws
 * baseline): `hello` with a JWT, wait for `synced`, then for every `msg` record the
 * send→receive latency (from the intended send time in its body) and, like a real client,
 * ack the highest seq of each conversation at most every ACK_EVERY_MS (one shared timer
 * for the process, only connections that received something since their last ack).
 *
 * Commands (parent → child):  connect {target, url, users, concurrency} → connected
 *                              begin {step, endMs} · stats {step} → stats · close {target} → closed
 */
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { mintToken } from '../util/tokens.ts';
import WebSocket from 'ws';
import { encodeHistogram } from '../measure/latency.ts';
import { ACK_EVERY_MS, nowMs, parseBody, type ReceiverCommand, type ReceiverReply } from './fanout-plan.ts';

const CONNECT_TIMEOUT_MS = 60_000;

interface Rx {
  ws: WebSocket;
  conv: string;
  maxSeq: number;
  ackedSeq: number;
}

interface StepStats {
  endMs: number;
  received: number;
  inTime: number;
  hist: Histogram;
}

const secret = process.env.BENCH_JWT_SECRET ?? '';
if (!secret) {
  process.stderr.write('receivers: BENCH_JWT_SECRET is not set (the bench sets it)\n');
  process.exit(2);
}
const byTarget = new Map<string, Rx[]>();
const dirty = new Set<Rx>();
const steps = new Map<number, StepStats>();
let acksSent = 0;

const reply = (m: ReceiverReply) => process.send!(m);

function onMsg(rx: Rx, text: string): void {
  if (!text.startsWith('{"t":"msg"')) return;
  const f = JSON.parse(text) as { conv: string; seq: number; body: string };
  if (f.conv !== rx.conv) return;
  if (f.seq > rx.maxSeq) {
    rx.maxSeq = f.seq;
    dirty.add(rx);
  }
  const b = parseBody(f.body);
  const st = b && steps.get(b.step);
  if (!b || !st) return;
  const now = nowMs();
  st.received++;
  if (now <= st.endMs) st.inTime++;
  st.hist.recordValue(Math.max(0, Math.round((now - b.intendedMs) * 1000)));
}

async function connectOne(url: string, user: string, conv: string): Promise<Rx> {
  const token = await mintToken(secret, user, { dev: 'd0', expiresIn: '2h' });
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const rx: Rx = { ws, conv, maxSeq: 0, ackedSeq: 0 };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${user}: no synced within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    ws.once('error', fail);
    ws.once('close', (code) => fail(new Error(`${user}: closed ${code} before synced`)));
    ws.once('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token })));
    ws.on('message', (d) => {
      const text = d.toString();
      if (text === '{"t":"synced"}') {
        clearTimeout(timer);
        ws.removeAllListeners('close');
        ws.removeListener('error', fail);
        resolve();
      } else onMsg(rx, text);
    });
  });
  ws.on('error', () => {});
  return rx;
}

async function connect(c: Extract<ReceiverCommand, { type: 'connect' }>): Promise<void> {
  const t0 = performance.now();
  const list: Rx[] = [];
  byTarget.set(c.target, list);
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  await Promise.all(
    Array.from({ length: Math.min(c.concurrency, c.users.length) }, async () => {
      while (next < c.users.length) {
        const [user, conv] = c.users[next++]!.split(' ') as [string, string];
        try {
          list.push(await connectOne(c.url, user, conv));
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  reply({ type: 'connected', target: c.target, ok: list.length, failed, firstError, seconds: (performance.now() - t0) / 1000 });
}

const ackTimer = setInterval(() => {
  for (const rx of dirty) {
    if (rx.ws.readyState === WebSocket.OPEN && rx.maxSeq > rx.ackedSeq) {
      rx.ws.send(`{"t":"ack","conv":"${rx.conv}","seq":${rx.maxSeq}}`);
      rx.ackedSeq = rx.maxSeq;
      acksSent++;
    }
  }
  dirty.clear();
}, ACK_EVERY_MS);

process.on('message', (c: ReceiverCommand) => {
  switch (c.type) {
    case 'connect':
      return void connect(c);
    case 'begin':
      steps.set(c.step, { endMs: c.endMs, received: 0, inTime: 0, hist: hdr.build({ numberOfSignificantValueDigits: 3, autoResize: true }) });
      acksSent = 0;
      return;
    case 'stats': {
      const st = steps.get(c.step);
      return reply({ type: 'stats', step: c.step, received: st?.received ?? 0, inTime: st?.inTime ?? 0, acksSent, histogram: st ? encodeHistogram(st.hist) : '' });
    }
    case 'close': {
      for (const rx of byTarget.get(c.target) ?? []) {
        dirty.delete(rx);
        rx.ws.terminate();
      }
      byTarget.delete(c.target);
      return reply({ type: 'closed', target: c.target });
    }
  }
});
process.on('disconnect', () => {
  clearInterval(ackTimer);
  process.exit(0);
});
