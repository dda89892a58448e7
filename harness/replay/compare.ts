// The original beside the replay (issue 12): both sides summarised from captures of the
// same format — the original's, and the one the replay's own nodes wrote — over their load
// windows, so rates, latencies and close codes are measured the same way on both; then
// where the replay diverged from what was recorded, device by device and send by send.
import type { CaptureData, NodeRecord } from './read.ts';

export interface CaptureSummary {
  windowMs: number;
  /** devices with a connection heard from in the window (a hello, a frame in or out): the original's window may begin before its devices connected, the replay's after */
  devices: number;
  /** hellos of devices already seen connected earlier in the capture (a device's first connection is the replay's connect phase) */
  reconnections: number;
  /** sends over the socket and over HTTP */
  sends: number;
  /** of them, POST /v1/messages */
  httpSends: number;
  /** answers to sends: sent, dup, or error codes */
  answers: Record<string, number>;
  deliveries: number;
  acks: number;
  /** read marks (`read` frames) */
  reads: number;
  history: number;
  /** presence.sub and presence.unsub frames */
  presenceSubs: number;
  /** group joins and leaves that took effect (HTTP, answered 2xx) */
  membershipChanges: number;
  /** connections presence sweeps took offline (of dead node incarnations) */
  swept: number;
  sendsPerSec: number;
  deliveriesPerSec: number;
  /** server-side send → its `sent` answer (same connection, same request id), ms */
  sendToSent: { p50: number | null; p99: number | null; n: number };
  /** closes by code, `server` or `client` side: e.g. `1006 client`, `4409 server` */
  closes: Record<string, number>;
  resyncs: number;
  redisLinkDowns: number;
}

function pct(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const x = s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  // a server send→sent p50 is about a millisecond: to the tenth, one step of it is 7-8 %
  return +x.toFixed(x < 10 ? 2 : 1);
}

const inc = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
/** POST /v1/messages's answer as a send's: 201 stored, 200 a dup, else the status */
const httpAnswer = (status: number) => (status === 201 ? 'sent' : status === 200 ? 'dup' : `http ${status}`);

/** What a capture saw between wall times `from` and `to`. */
export function summarize(cap: CaptureData, from: number, to: number): CaptureSummary {
  // a device's first hello anywhere in the capture is not a reconnection
  const firstHello = new Set<NodeRecord>();
  const seenDev = new Set<string>();
  const deviceOf = new Map<string, string>();
  // a node that stops closes its own Redis links: those downs are no incident
  const stoppedAt = new Map<string, number>();
  for (const r of cap.records) {
    if (r.k === 'hello') {
      deviceOf.set(r.conn, `${r.user}/${r.device}`);
      if (!seenDev.has(`${r.user}/${r.device}`)) {
        seenDev.add(`${r.user}/${r.device}`);
        firstHello.add(r);
      }
    }
    if (r.k === 'node' && r.event === 'stop') stoppedAt.set(r.incarnation, r.w);
  }
  const rs = cap.records.filter((r) => r.w >= from && r.w <= to);
  const windowMs = Math.max(1, to - from);
  const devices = new Set<string>();
  const answers: Record<string, number> = {};
  const closes: Record<string, number> = {};
  const sendAt = new Map<string, number>();
  const lat: number[] = [];
  let sends = 0, httpSends = 0, deliveries = 0, acks = 0, reads = 0, history = 0, presenceSubs = 0, membershipChanges = 0, swept = 0, connections = 0, resyncs = 0, downs = 0;
  for (const r of rs) {
    if ((r.k === 'in' || r.k === 'out') && deviceOf.has(r.conn)) devices.add(deviceOf.get(r.conn)!);
    switch (r.k) {
      case 'hello':
        if (!firstHello.has(r)) connections++;
        devices.add(`${r.user}/${r.device}`);
        break;
      case 'in':
        if (r.t === 'send') {
          sends++;
          if (r.id) sendAt.set(`${r.conn}\n${r.id}`, r.m);
        } else if (r.t === 'ack') acks++;
        else if (r.t === 'read') reads++;
        else if (r.t === 'history') history++;
        else if (r.t === 'presence.sub' || r.t === 'presence.unsub') presenceSubs++;
        break;
      case 'http':
        if (r.route === 'POST /v1/messages' && r.cmid) {
          sends++;
          httpSends++;
          inc(answers, httpAnswer(r.status));
        } else if (r.status < 300 && r.users && /^(POST|DELETE) \/v1\/groups\/:group\/members/.test(r.route)) membershipChanges += r.users.length;
        break;
      case 'sweep':
        swept += r.connections;
        break;
      case 'out':
        if (r.t === 'msg') deliveries++;
        else if (r.t === 'sent' || (r.t === 'error' && r.id && sendAt.has(`${r.conn}\n${r.id}`))) {
          inc(answers, r.t === 'sent' ? (r.dup ? 'dup' : 'sent') : `error ${r.code}`);
          const k = `${r.conn}\n${r.id}`;
          const m = sendAt.get(k);
          if (m !== undefined && r.t === 'sent') lat.push(r.m - m);
          sendAt.delete(k);
        }
        break;
      case 'close':
        inc(closes, `${r.code} ${r.by}`);
        break;
      case 'resync':
        resyncs++;
        break;
      case 'redis':
        if (r.state === 'down' && r.w < (stoppedAt.get(r.incarnation) ?? Infinity)) downs++;
        break;
    }
  }
  return {
    windowMs, devices: devices.size, reconnections: connections, sends, httpSends, answers, deliveries, acks, reads, history, presenceSubs, membershipChanges, swept,
    sendsPerSec: +(sends / (windowMs / 1000)).toFixed(1), deliveriesPerSec: +(deliveries / (windowMs / 1000)).toFixed(1),
    sendToSent: { p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length },
    closes, resyncs, redisLinkDowns: downs,
  };
}

export interface Divergence {
  kind: 'fewer-connections' | 'more-connections' | 'send-answered-differently' | 'send-not-replayed';
  what: string;
}

/** Sends by (user, cmid) with how each was answered, and connections per device, in a window. */
function perDevice(cap: CaptureData, from: number, to: number) {
  const who = new Map<string, string>();
  const conns = new Map<string, number>();
  const sendId = new Map<string, string>();
  const answer = new Map<string, string>();
  const seen = new Set<string>();
  for (const r of cap.records as NodeRecord[]) {
    let first = false;
    if (r.k === 'hello') {
      who.set(r.conn, `${r.user}/${r.device}`);
      // a device's first connection is the replay's connect phase, before its window
      first = !seen.has(`${r.user}/${r.device}`);
      seen.add(`${r.user}/${r.device}`);
    }
    if (r.w < from || r.w > to) continue;
    if (r.k === 'hello' && !first) conns.set(`${r.user}/${r.device}`, (conns.get(`${r.user}/${r.device}`) ?? 0) + 1);
    if (r.k === 'in' && r.t === 'send' && r.cmid) {
      const key = `${who.get(r.conn)?.split('/')[0]} ${r.cmid}`;
      if (r.id) sendId.set(`${r.conn}\n${r.id}`, key);
      if (!answer.has(key)) answer.set(key, 'unanswered');
    }
    if (r.k === 'http' && r.route === 'POST /v1/messages' && r.cmid && r.user) {
      const key = `${r.user} ${r.cmid}`;
      answer.set(key, httpAnswer(r.status));
    }
    if (r.k === 'out' && (r.t === 'sent' || r.t === 'error') && r.id) {
      const key = sendId.get(`${r.conn}\n${r.id}`);
      // the last answer counts: a send answered `unavailable` and retried is judged by its retry
      if (key) answer.set(key, r.t === 'sent' ? 'sent' : `error ${r.code}`);
    }
  }
  return { conns, answer };
}

/** Where the replay did not do what the capture recorded (at most `limit` listed). */
export function divergences(original: CaptureData, o: [number, number], replay: CaptureData, r: [number, number], limit = 20): { total: number; list: Divergence[] } {
  const a = perDevice(original, ...o);
  const b = perDevice(replay, ...r);
  const out: Divergence[] = [];
  for (const d of new Set([...a.conns.keys(), ...b.conns.keys()])) {
    const n = a.conns.get(d) ?? 0;
    const m = b.conns.get(d) ?? 0;
    if (m < n) out.push({ kind: 'fewer-connections', what: `${d} reconnected ${m} time(s) in the replay, ${n} in the original: it could not reconnect when the original did` });
    else if (m > n) out.push({ kind: 'more-connections', what: `${d} reconnected ${m} time(s) in the replay, ${n} in the original` });
  }
  for (const [k, ans] of a.answer) {
    const got = b.answer.get(k);
    const norm = (x: string) => (x === 'dup' ? 'sent' : x);
    if (got === undefined) out.push({ kind: 'send-not-replayed', what: `send ${k}: answered ${ans} in the original, not sent in the replay` });
    else if (norm(got) !== norm(ans)) out.push({ kind: 'send-answered-differently', what: `send ${k}: answered ${ans} in the original, ${got} in the replay` });
  }
  return { total: out.length, list: out.slice(0, limit) };
}

/** The side-by-side table, as Markdown lines. */
export function sideBySide(orig: CaptureSummary, rep: CaptureSummary, violations: { original: Record<string, number> | null; replay: Record<string, number> }): string[] {
  const fmt = (x: number | null) => (x === null ? '–' : String(x));
  const rel = (a: number | null, b: number | null) => (a && b !== null ? ` (${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(0)} %)` : '');
  const codes = [...new Set([...Object.keys(orig.closes), ...Object.keys(rep.closes)])].sort();
  const ans = [...new Set([...Object.keys(orig.answers), ...Object.keys(rep.answers)])].sort();
  const guarantees = [...new Set([...Object.keys(violations.original ?? {}), ...Object.keys(violations.replay)])].sort();
  const row = (what: string, a: number | null, b: number | null) => `| ${what} | ${fmt(a)} | ${fmt(b)}${rel(a, b)} |`;
  return [
    '| | original | replay |',
    '|---|---|---|',
    row('window (s)', +(orig.windowMs / 1000).toFixed(1), +(rep.windowMs / 1000).toFixed(1)),
    row('devices', orig.devices, rep.devices),
    row('reconnections', orig.reconnections, rep.reconnections),
    row('sends', orig.sends, rep.sends),
    row('sends/s', orig.sendsPerSec, rep.sendsPerSec),
    row('deliveries (msg frames)', orig.deliveries, rep.deliveries),
    row('deliveries/s', orig.deliveriesPerSec, rep.deliveriesPerSec),
    row('HTTP sends', orig.httpSends, rep.httpSends),
    row('acks', orig.acks, rep.acks),
    row('read marks', orig.reads, rep.reads),
    row('history requests', orig.history, rep.history),
    row('presence sub/unsub', orig.presenceSubs, rep.presenceSubs),
    row('membership changes', orig.membershipChanges, rep.membershipChanges),
    row('send→sent p50 (ms, server)', orig.sendToSent.p50, rep.sendToSent.p50),
    row('send→sent p99 (ms, server)', orig.sendToSent.p99, rep.sendToSent.p99),
    ...ans.map((k) => row(`answers: ${k}`, orig.answers[k] ?? 0, rep.answers[k] ?? 0)),
    ...codes.map((k) => row(`closes ${k}`, orig.closes[k] ?? 0, rep.closes[k] ?? 0)),
    row('resyncs', orig.resyncs, rep.resyncs),
    row('connections swept offline', orig.swept, rep.swept),
    row('Redis link downs', orig.redisLinkDowns, rep.redisLinkDowns),
    ...guarantees.map((g) => `| violations: ${g} | ${violations.original ? (violations.original[g] ?? 0) : 'not judged (capture only)'} | ${violations.replay[g] ?? 0} |`),
  ];
}
