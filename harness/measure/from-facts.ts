// Latencies and throughput derived after the run from recorded facts
// (harness/model/facts.ts), for fleets that record facts only. What facts cannot give
// (the TCP connect time) must be recorded live with LatencySet.record('connect', …).
import type { Fact, SendFact } from '../model/facts.ts';
import type { LatencySet } from './latency.ts';
import type { ThroughputSeries } from './series.ts';

/** `client` is `<user>/<device>`. */
function userOf(client: string): string {
  const i = client.indexOf('/');
  return i < 0 ? client : client.slice(0, i);
}

/**
 * Records, from `facts` (any order):
 * - sendToSent: intendedAt → answeredAt of sends answered `sent` (dup included), at answeredAt;
 * - sendToDelivered: intendedAt → first receipt on each other device (per (device, conv,
 *   epoch, seq)), whatever the path (live, backlog, history), at the receipt;
 *   a device of a group marked slow (`slowClients`) counts as sendToDeliveredSlow instead;
 * - helloToWelcome: a client's `connect` → its next `welcome`;
 * - reconnectToSynced: a client's `connect` after it had closed before → its next `synced`;
 * and the throughput counters sends (at sentAt, one per attempt), sent, errors (error
 * answers and conn errors), deliveries (every `msg` received), connects (welcome) and
 * disconnects (close of a welcomed connection).
 */
export function recordFacts(facts: Iterable<Fact>, into: { latency?: LatencySet; series?: ThroughputSeries; slowClients?: ReadonlySet<string> }): void {
  const { latency, series, slowClients } = into;
  const list = [...facts];
  const sends = new Map<string, SendFact>();
  for (const f of list) {
    if (f.k !== 'send') continue;
    sends.set(`${f.conv}\n${userOf(f.client)}\n${f.cmid}`, f);
    series?.count('sends', f.attempts, f.sentAt);
    if (f.answeredAt !== undefined) {
      if (f.outcome === 'sent' || f.outcome === 'dup') {
        series?.count('sent', 1, f.answeredAt);
        latency?.record('sendToSent', f.answeredAt - f.intendedAt, f.answeredAt);
      } else if (f.outcome === 'error') {
        series?.count('errors', 1, f.answeredAt);
      }
    }
  }
  const firstSeen = new Set<string>();
  const lifecycle: Array<Extract<Fact, { k: 'conn' }>> = [];
  const receipts = list.filter((f): f is Extract<Fact, { k: 'recv' }> => f.k === 'recv').sort((a, b) => a.at - b.at);
  for (const f of [...receipts, ...list.filter((x) => x.k === 'conn')]) {
    if (f.k === 'recv') {
      series?.count('deliveries', 1, f.at);
      const key = `${f.client}\n${f.conv}\n${f.epoch}\n${f.seq}`;
      if (firstSeen.has(key)) continue;
      firstSeen.add(key);
      const send = sends.get(`${f.conv}\n${f.from}\n${f.cmid}`);
      if (send && send.client !== f.client) latency?.record(slowClients?.has(f.client) ? 'sendToDeliveredSlow' : 'sendToDelivered', f.at - send.intendedAt, f.at);
    } else if (f.k === 'conn') {
      lifecycle.push(f);
    }
  }
  lifecycle.sort((a, b) => a.at - b.at);
  const state = new Map<string, { connectAt?: number; closedBefore: boolean; reconnectAt?: number; welcomed: Set<string> }>();
  for (const f of lifecycle) {
    let s = state.get(f.client);
    if (!s) {
      s = { closedBefore: false, welcomed: new Set() };
      state.set(f.client, s);
    }
    switch (f.event) {
      case 'connect':
        s.connectAt = f.at;
        if (s.closedBefore) s.reconnectAt = f.at;
        break;
      case 'welcome':
        if (s.connectAt !== undefined) latency?.record('helloToWelcome', f.at - s.connectAt, f.at);
        s.connectAt = undefined;
        s.welcomed.add(f.conn);
        series?.count('connects', 1, f.at);
        break;
      case 'synced':
        if (s.reconnectAt !== undefined) latency?.record('reconnectToSynced', f.at - s.reconnectAt, f.at);
        s.reconnectAt = undefined;
        break;
      case 'close':
        s.closedBefore = true;
        if (s.welcomed.delete(f.conn)) series?.count('disconnects', 1, f.at);
        break;
      case 'error':
        s.closedBefore = true;
        series?.count('errors', 1, f.at);
        break;
    }
  }
}
