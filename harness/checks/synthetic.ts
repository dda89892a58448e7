// A large synthetic run that keeps every guarantee, for benchmarking the checkers: dm
// pairs and groups, every device connected from the start, a share of devices dropping
// out for a while and catching up through a conv frame and backlog, presence
// subscriptions to users that stay online, and a final close of everything. Deterministic
// for a seed. `breakReceipts` drops that many live receipts at random afterwards (each a
// lost, unseen and usually an order violation), to time witness building too.
import type { Fact, Population } from '../model/facts.ts';

export interface SyntheticOptions {
  /** stop adding sends once this many facts exist (default 1,000,000) */
  facts?: number;
  users?: number;
  groups?: number;
  groupSize?: number;
  /** share of devices that drop out once and come back */
  churn?: number;
  seed?: number;
  breakReceipts?: number;
}

export interface SyntheticRun {
  facts: Fact[];
  population: Population;
  sends: number;
  end: number;
}

export function syntheticRun(o: SyntheticOptions = {}): SyntheticRun {
  const target = o.facts ?? 1_000_000;
  const nUsers = o.users ?? 20_000;
  const nGroups = o.groups ?? 1_000;
  const groupSize = o.groupSize ?? 12;
  const churn = o.churn ?? 0.1;
  const rnd = mulberry32(o.seed ?? 1);
  const pick = (n: number) => Math.floor(rnd() * n);
  const T0 = 1_700_000_000_000;
  const facts: Fact[] = [];

  const users = Array.from({ length: nUsers }, (_, i) => `u${i}`);
  const devices = users.map((u, i) => (i % 3 === 0 ? [`${u}/d0`, `${u}/d1`] : [`${u}/d0`]));
  const convs: { conv: string; members: number[]; head: number }[] = [];
  for (let i = 0; i + 1 < nUsers; i += 2) {
    const [a, b] = [users[i]!, users[i + 1]!].sort();
    convs.push({ conv: `dm:${a}:${b}`, members: [i, i + 1], head: 0 });
  }
  for (let g = 0; g < nGroups; g++) {
    const m = new Set<number>();
    while (m.size < groupSize) m.add(pick(nUsers));
    convs.push({ conv: `g:grp${g}`, members: [...m], head: 0 });
  }
  const population: Population = {
    users: users.map((u, i) => ({ user: u, devices: devices[i]!.map((d) => d.slice(d.indexOf('/') + 1)) })),
    convs: convs.map((c) => ({ conv: c.conv, members: c.members.map((i) => users[i]!) })),
  };

  // devices: connected from the start; some drop out during [away, back)
  interface Dev {
    client: string;
    conn: string;
    n: number;
    away?: number;
    back?: number;
    offline: boolean;
    /** per conv, the last seq this device has */
    cursor: Map<string, number>;
  }
  const duration = 600_000;
  const stable = users.filter((_, i) => i % 7 === 0).slice(0, 50);
  const devs = new Map<string, Dev>();
  let t = T0;
  for (const client of devices.flat()) {
    const d: Dev = { client, conn: `${client}#1`, n: 1, offline: false, cursor: new Map() };
    if (rnd() < churn && !stable.includes(client.slice(0, client.indexOf('/')))) {
      d.away = T0 + 10_000 + pick(duration - 60_000);
      d.back = d.away + 5_000 + pick(30_000);
    }
    devs.set(client, d);
    facts.push({ k: 'conn', client, conn: d.conn, event: 'connect', at: t }, { k: 'conn', client, conn: d.conn, event: 'welcome', at: t + 1, node: 'node-1' });
    for (let s = 0; s < 3; s++) facts.push({ k: 'presence', client, conn: d.conn, user: stable[pick(stable.length)]!, status: 'online', v: 1, at: t + 2 });
  }
  const leaving = [...devs.values()].filter((d) => d.away !== undefined).sort((a, b) => a.away! - b.away!);
  const returning = leaving.slice().sort((a, b) => a.back! - b.back!);
  let li = 0;
  let ri = 0;
  const msgs = new Map<string, { from: string; cmid: string }[]>();

  let sends = 0;
  t = T0 + 10_000;
  // about 5 facts per send (a dm send has ~2.7 receipts, a group send ~16)
  const step = Math.max(1, Math.floor(duration / Math.max(1, target / 5)));
  while (facts.length < target) {
    t += 1 + pick(step * 2);
    while (li < leaving.length && leaving[li]!.away! <= t) {
      const d = leaving[li++]!;
      d.offline = true;
      facts.push({ k: 'conn', client: d.client, conn: d.conn, event: 'close', at: d.away!, code: 1006 });
    }
    while (ri < returning.length && returning[ri]!.back! <= t) {
      const d = returning[ri++]!;
      if (!d.offline) continue;
      d.offline = false;
      d.conn = `${d.client}#${++d.n}`;
      const at = d.back!;
      facts.push({ k: 'conn', client: d.client, conn: d.conn, event: 'connect', at }, { k: 'conn', client: d.client, conn: d.conn, event: 'welcome', at: at + 1, node: 'node-2' });
      for (const [conv, cur] of d.cursor) {
        const log = msgs.get(conv)!;
        if (cur >= log.length) continue;
        facts.push({ k: 'conv', client: d.client, conn: d.conn, conv, epoch: 'e1', cursor: cur, head: log.length, at: at + 2 });
        for (let s = cur + 1; s <= log.length; s++) {
          const m = log[s - 1]!;
          facts.push({ k: 'recv', client: d.client, conn: d.conn, conv, epoch: 'e1', seq: s, from: m.from, cmid: m.cmid, at: at + 2, via: 'backlog' });
        }
        d.cursor.set(conv, log.length);
      }
      facts.push({ k: 'conn', client: d.client, conn: d.conn, event: 'synced', at: at + 3 });
    }
    const c = convs[pick(convs.length)]!;
    const fromIdx = c.members[pick(c.members.length)]!;
    const sender = devs.get(devices[fromIdx]![0]!)!;
    if (sender.offline) continue;
    const seq = ++c.head;
    const from = users[fromIdx]!;
    const cmid = `m${++sends}`;
    let log = msgs.get(c.conv);
    if (!log) msgs.set(c.conv, (log = []));
    log.push({ from, cmid });
    facts.push({ k: 'send', client: sender.client, conn: sender.conn, conv: c.conv, cmid, intendedAt: t, sentAt: t, attempts: 1, outcome: 'sent', answeredAt: t + 3, seq, epoch: 'e1' });
    for (const u of c.members) {
      for (const client of devices[u]!) {
        const d = devs.get(client)!;
        if (!d.cursor.has(c.conv)) d.cursor.set(c.conv, 0);
        if (d.offline) continue;
        facts.push({ k: 'recv', client, conn: d.conn, conv: c.conv, epoch: 'e1', seq, from, cmid, at: t + 1 + pick(50), via: 'live' });
        d.cursor.set(c.conv, seq);
      }
    }
  }
  // the final sync: those still away come back and catch up, then everything closes
  const end = t + 60_000;
  for (const d of devs.values()) {
    if (d.offline) {
      d.offline = false;
      d.conn = `${d.client}#${++d.n}`;
      const at = t + 1000;
      facts.push({ k: 'conn', client: d.client, conn: d.conn, event: 'connect', at }, { k: 'conn', client: d.client, conn: d.conn, event: 'welcome', at: at + 1 });
      for (const [conv, cur] of d.cursor) {
        const log = msgs.get(conv)!;
        if (cur >= log.length) continue;
        facts.push({ k: 'conv', client: d.client, conn: d.conn, conv, epoch: 'e1', cursor: cur, head: log.length, at: at + 2 });
        for (let s = cur + 1; s <= log.length; s++) {
          const m = log[s - 1]!;
          facts.push({ k: 'recv', client: d.client, conn: d.conn, conv, epoch: 'e1', seq: s, from: m.from, cmid: m.cmid, at: at + 2, via: 'backlog' });
        }
      }
    }
    facts.push({ k: 'conn', client: d.client, conn: d.conn, event: 'close', at: end, code: 1000 });
  }

  let out = facts;
  if (o.breakReceipts) {
    const drop = new Set<Fact>();
    while (drop.size < o.breakReceipts) {
      const f = facts[pick(facts.length)]!;
      if (f.k === 'recv' && f.via === 'live') drop.add(f);
    }
    out = facts.filter((f) => !drop.has(f));
  }
  return { facts: out, population, sends, end };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
