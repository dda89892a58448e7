/**
 * The raw-ws baseline of the benches (`imstorm bench`, `npm run bench:fanout`): the least a
 * WebSocket server can do on this runtime, driven by the same receiver processes as imstorm.
 * It speaks just enough of PROTOCOL.md for them: `hello` → `welcome` + `synced` (the
 * token's `sub` is read, not verified), `send` → one `msg` string built once and written to
 * every member of the group (BENCH_MODE=group, the default; membership is the bench's naming
 * convention, see `groupOfUser`) or to the other party of a `dm:<a>:<b>` conversation
 * (BENCH_MODE=dm: a forward server), then `sent`; `ack` is parsed and its highest seq kept
 * in memory (no store). Forked with an IPC channel: it answers `{ type: 'lag' }` with the
 * event-loop delay p99 since the last one, `{ type: 'memory' }` with its RSS and heap
 * after a full GC, and `{ type: 'gc' }` with its GC pauses by kind since it started.
 * Listens on 127.0.0.1 only.
 */
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import { encode } from '../../server/protocol/server-frames.ts';
import { collectGarbage } from '../util/gc.ts';
import type { GcPauses } from './bench-kit.ts';
import { groupOfUser, PUBLISHER } from './fanout-plan.ts';

const groupSize = Number(process.env.BENCH_GROUP_SIZE);
if (!Number.isInteger(groupSize) || groupSize < 1) {
  process.stderr.write('raw-ws-server: BENCH_GROUP_SIZE must be a positive integer (the bench sets it)\n');
  process.exit(2);
}

const dmMode = process.env.BENCH_MODE === 'dm';
if (process.env.BENCH_MODE !== undefined && process.env.BENCH_MODE !== 'dm' && process.env.BENCH_MODE !== 'group') {
  process.stderr.write(`raw-ws-server: BENCH_MODE must be group or dm, not "${process.env.BENCH_MODE}"\n`);
  process.exit(2);
}

const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
// GC pauses by kind, every entry of each batch, as an imstorm node's nodejs_gc_duration_seconds counts them
const gcPauses: GcPauses = { major: { count: 0, ms: 0 }, incremental: { count: 0, ms: 0 }, minor: { count: 0, ms: 0 } };
const gcKinds: Record<number, keyof GcPauses> = { [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor' };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = gcKinds[(e as { detail?: { kind?: number } }).detail?.kind ?? -1];
    if (kind) {
      gcPauses[kind].count++;
      gcPauses[kind].ms += e.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });
const members = new Map<string, Set<WebSocket>>();
const everyone = new Set<WebSocket>();
const seqs = new Map<string, number>();
/** dm mode: each user's one connection (the bench gives every receiver its own user) */
const byUser = new Map<string, WebSocket>();
const userOf = new WeakMap<WebSocket, string>();
const acked = new WeakMap<WebSocket, Map<string, number>>();

function subOf(token: string): string {
  const payload = token.split('.')[1] ?? '';
  return String((JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: unknown }).sub ?? '');
}

function onText(ws: WebSocket, text: string): void {
  const f = JSON.parse(text) as { t: string; id?: string; token?: string; conv?: string; cmid?: string; body?: string; seq?: number };
  const user = userOf.get(ws);
  if (f.t === 'hello' && user === undefined) {
    const sub = subOf(f.token ?? '');
    userOf.set(ws, sub);
    if (dmMode) byUser.set(sub, ws);
    else if (sub === PUBLISHER) everyone.add(ws);
    else {
      const g = groupOfUser(sub, groupSize);
      let set = members.get(g);
      if (!set) members.set(g, (set = new Set()));
      set.add(ws);
    }
    ws.send(encode.welcome({ user: sub, device: 'd0', conn: sub, node: 'raw-ws', heartbeatMs: 60_000, maxBodyBytes: 16_384, id: f.id }));
    ws.send(encode.synced());
    return;
  }
  if (f.t === 'send' && f.conv && f.cmid !== undefined && f.body !== undefined && user !== undefined) {
    const seq = (seqs.get(f.conv) ?? 0) + 1;
    seqs.set(f.conv, seq);
    const ts = Date.now();
    const frame = encode.msg(f.conv, seq, user, f.cmid, JSON.stringify(f.body), ts);
    if (dmMode) {
      // dm:<a>:<b>: the other party
      const [, a, b] = f.conv.split(':');
      byUser.get(a === user ? b! : a!)?.send(frame);
    } else {
      for (const m of members.get(f.conv) ?? []) m.send(frame);
      for (const m of everyone) m.send(frame);
    }
    ws.send(encode.sent(f.id, f.conv, seq, f.cmid, ts, false));
    return;
  }
  if (f.t === 'ack' && f.conv && typeof f.seq === 'number') {
    let a = acked.get(ws);
    if (!a) acked.set(ws, (a = new Map()));
    if ((a.get(f.conv) ?? 0) < f.seq) a.set(f.conv, f.seq);
  }
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 65_536, clientTracking: false });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    try {
      onText(ws, data.toString());
    } catch {
      ws.close(1003, 'bad frame');
    }
  });
  ws.on('close', () => {
    const user = userOf.get(ws);
    if (dmMode) {
      if (user !== undefined && byUser.get(user) === ws) byUser.delete(user);
    } else if (user === PUBLISHER) everyone.delete(ws);
    else if (user !== undefined) members.get(groupOfUser(user, groupSize))?.delete(ws);
  });
  ws.on('error', () => {});
});
wss.on('listening', () => {
  const addr = wss.address();
  if (typeof addr === 'object' && addr) process.send!({ type: 'ready', port: addr.port });
});
process.on('message', (m: { type: string; reduce?: boolean }) => {
  if (m.type === 'lag') {
    process.send!({ type: 'lag', p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6 });
    lag.reset();
  } else if (m.type === 'gc') {
    process.send!({ type: 'gc', pauses: gcPauses });
  } else if (m.type === 'memory') {
    collectGarbage(m.reduce === true);
    const mem = process.memoryUsage();
    process.send!({ type: 'memory', rss: mem.rss, heapUsed: mem.heapUsed });
  }
});
process.on('disconnect', () => process.exit(0));
