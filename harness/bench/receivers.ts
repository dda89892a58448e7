/**
 * A receiver process of the benches (fanout-bench.ts, dm-bench.ts), forked with an IPC
 * channel. It holds plain `ws` client connections, the same code whichever server they
 * reach (imstorm or the raw-ws baseline): `hello` with a JWT, wait for `synced` (each
 * connect timed, for the connect storm), then for every `msg` from someone else record the
 * send→receive latency (from the intended send time in its body) and, like a real client,
 * ack the highest seq of each conversation at most every ACK_EVERY_MS (one shared timer
 * for the process, only connections that received something since their last ack).
 * For the 1:1 sweep it also sends: `drive` makes its connections send to their own
 * conversation (a `dm:`) at a rate, open loop, round robin, and counts the `sent` answers.
 *
 * Commands (parent → child):  connect {target, url, users, concurrency} → connected
 *                              begin {step, endMs} · drive {step, target, t0, endMs, perSec}
 *                              stats {step} → stats · close {target} → closed
 */
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { mintToken } from '../util/tokens.ts';
import WebSocket from 'ws';
import { encodeHistogram } from '../measure/latency.ts';
import { ACK_EVERY_MS, bodyOf, LATENCY_WINDOW_MS, nowMs, parseBody, type ReceiverCommand, type ReceiverReply } from './fanout-plan.ts';

const CONNECT_TIMEOUT_MS = 60_000;
const newHist = (): Histogram => hdr.build({ numberOfSignificantValueDigits: 3, autoResize: true });

interface Rx {
  ws: WebSocket;
  user: string;
  conv: string;
  maxSeq: number;
  ackedSeq: number;
}

interface StepStats {
  endMs: number;
  received: number;
  inTime: number;
  hist: Histogram;
  /** the same latencies by window of intended send time (LATENCY_WINDOW_MS), keyed by window number */
  windows: Map<number, Histogram>;
  /** 1:1 sweep: sends written, and their answers */
  issued: number;
  sent: number;
  errors: Record<string, number>;
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

/** an answer to a send of step s (its id is `s<step>.<i>`) */
function onAnswer(text: string): void {
  const f = JSON.parse(text) as { t: string; id?: string; code?: string };
  const st = steps.get(Number(/^s(-?\d+)\./.exec(f.id ?? '')?.[1]));
  if (!st) return;
  if (f.t === 'sent') st.sent++;
  else st.errors[f.code ?? 'unknown'] = (st.errors[f.code ?? 'unknown'] ?? 0) + 1;
}

function onMsg(rx: Rx, text: string): void {
  if (text.startsWith('{"t":"sent"') || text.startsWith('{"t":"error"')) return onAnswer(text);
  if (!text.startsWith('{"t":"msg"')) return;
  const f = JSON.parse(text) as { conv: string; seq: number; from: string; body: string };
  if (f.conv !== rx.conv) return;
  if (f.from === rx.user) {
    // its own message (an echo to the sending device, if the server sends one): acked, not timed
    if (f.seq > rx.maxSeq) {
      rx.maxSeq = f.seq;
      dirty.add(rx);
    }
    return;
  }
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
  const us = Math.max(0, Math.round((now - b.intendedMs) * 1000));
  st.hist.recordValue(us);
  const k = Math.floor(b.intendedMs / LATENCY_WINDOW_MS);
  let w = st.windows.get(k);
  if (!w) st.windows.set(k, (w = newHist()));
  w.recordValue(us);
}

async function connectOne(url: string, user: string, conv: string, connectHist: Histogram): Promise<Rx> {
  const token = await mintToken(secret, user, { dev: 'd0', expiresIn: '2h' });
  const t0 = performance.now();
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const rx: Rx = { ws, user, conv, maxSeq: 0, ackedSeq: 0 };
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
        connectHist.recordValue(Math.max(0, Math.round((performance.now() - t0) * 1000)));
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
  const hist = newHist();
  await Promise.all(
    Array.from({ length: Math.min(c.concurrency, c.users.length) }, async () => {
      while (next < c.users.length) {
        const [user, conv] = c.users[next++]!.split(' ') as [string, string];
        try {
          list.push(await connectOne(c.url, user, conv, hist));
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  reply({ type: 'connected', target: c.target, ok: list.length, failed, firstError, seconds: (performance.now() - t0) / 1000, histogram: encodeHistogram(hist) });
}

/**
 * 1:1 sweep: `perSec` sends a second from this process's connections to `target`, each to
 * its own conversation, round robin; send i is due at t0 + i / perSec whatever happened to
 * the earlier ones (open loop), until endMs (and never past endMs + 5 s).
 */
async function drive(c: Extract<ReceiverCommand, { type: 'drive' }>): Promise<void> {
  const list = byTarget.get(c.target) ?? [];
  const st = steps.get(c.step);
  if (!st || !list.length) return;
  const total = Math.max(1, Math.round((c.perSec * (c.endMs - c.t0)) / 1000));
  let i = 0;
  while (i < total && nowMs() < c.endMs + 5000) {
    const now = nowMs();
    while (i < total) {
      const due = c.t0 + (i * 1000) / c.perSec;
      if (due > now) break;
      const rx = list[i % list.length]!;
      if (rx.ws.readyState === WebSocket.OPEN) rx.ws.send(`{"t":"send","id":"s${c.step}.${i}","conv":"${rx.conv}","cmid":"${c.step}-${i}","body":"${bodyOf(c.step, due)}"}`);
      st.issued++;
      i++;
    }
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(5, c.t0 + (i * 1000) / c.perSec - nowMs()))));
  }
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
    case 'drive':
      return void drive(c);
    case 'begin':
      steps.set(c.step, { endMs: c.endMs, received: 0, inTime: 0, hist: newHist(), windows: new Map(), issued: 0, sent: 0, errors: {} });
      acksSent = 0;
      return;
    case 'stats': {
      const st = steps.get(c.step);
      return reply({ type: 'stats', step: c.step, received: st?.received ?? 0, inTime: st?.inTime ?? 0, acksSent, histogram: st ? encodeHistogram(st.hist) : '', windows: st ? [...st.windows].map(([k, h]) => [k, encodeHistogram(h)]) : [], issued: st?.issued ?? 0, sent: st?.sent ?? 0, errors: st?.errors ?? {} });
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
