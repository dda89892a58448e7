// A model of a run against a server that keeps every guarantee, generated with fast-check,
// and the facts a fleet would record of it. Properties: the model's facts pass every
// checker; one mutation that breaks one guarantee is flagged exactly.
import fc from 'fast-check';
import type { Fact, Population, PresenceFact, RecvFact, SendFact } from '../../harness/model/facts.ts';
import type { CheckInput } from '../../harness/checks/verdict.ts';

export const WITHIN = 5000;
const EPOCH = 'e1';

export interface Op {
  kind: 'send' | 'toggle' | 'join' | 'leave';
  user: number;
  dev: number;
  conv: number;
  /** ms since the previous op */
  dt: number;
}

export interface Spec {
  users: number;
  devices: number[];
  groupInitial: boolean[];
  startConnected: boolean[];
  /** after the final sync, these devices leave again (at least one stays) */
  finalOffline: boolean[];
  ops: Op[];
}

export const specArb: fc.Arbitrary<Spec> = fc.record({
  users: fc.integer({ min: 2, max: 4 }),
  devices: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 4, maxLength: 4 }),
  groupInitial: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  startConnected: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  finalOffline: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  ops: fc.array(
    fc.record({
      kind: fc.constantFrom<Op['kind']>('send', 'send', 'send', 'send', 'toggle', 'toggle', 'join', 'leave'),
      user: fc.nat(3),
      dev: fc.nat(1),
      conv: fc.nat(1),
      dt: fc.oneof(fc.integer({ min: 5, max: 50 }), fc.integer({ min: 50, max: 7000 })),
    }),
    { minLength: 1, maxLength: 80, size: 'medium' },
  ),
});

export interface ModelConn {
  conn: string;
  client: string;
  welcomeAt: number;
  closeAt?: number;
}

export interface ModelMsg {
  conv: string;
  seq: number;
  from: string;
  cmid: string;
  send: SendFact;
}

export interface ModelRun {
  facts: Fact[];
  population: Population;
  end: number;
  conns: ModelConn[];
  msgs: ModelMsg[];
}

export function toInput(run: ModelRun, facts: Fact[] = run.facts): CheckInput {
  return { facts, population: run.population, options: { runEnd: run.end, unseenWithinMs: WITHIN, maxWitnesses: 1000 } };
}

/** Simulate a correct server over the spec's operations. */
export function simulate(spec: Spec): ModelRun {
  const T0 = 1_700_000_000_000;
  let now = T0;
  const facts: Fact[] = [];
  const users = Array.from({ length: spec.users }, (_, i) => `u${i}`);
  const devices = users.map((u, i) => Array.from({ length: spec.devices[i]! }, (_, d) => `${u}/d${d}`));
  const dm = `dm:${users[0]}:${users[1]}`;
  const group = 'g:team';
  const initialGroup = users.filter((_, i) => spec.groupInitial[i]);
  if (initialGroup.length === 0) initialGroup.push(users[0]!);
  const convIds = [dm, group];
  const convs = new Map<string, { head: number; members: Set<string> }>([
    [dm, { head: 0, members: new Set([users[0]!, users[1]!]) }],
    [group, { head: 0, members: new Set(initialGroup) }],
  ]);
  const population: Population = {
    users: users.map((u, i) => ({ user: u, devices: devices[i]!.map((c) => c.split('/')[1]!) })),
    convs: [
      { conv: dm, members: [users[0]!, users[1]!] },
      { conv: group, members: initialGroup },
    ],
  };
  const cursor = new Map<string, number>(); // client\0conv → last seq it has
  const cur = (client: string, conv: string) => cursor.get(client + '\0' + conv) ?? 0;
  interface Open extends ModelConn {
    /** convs joined while connected: a conv frame (cursor = join seq) goes before the next msg */
    pendingFrame: Map<string, number>;
  }
  const open = new Map<string, Open>(); // client → open conn
  const conns: ModelConn[] = [];
  const msgs: ModelMsg[] = [];
  let nConn = 0;
  let nCmid = 0;
  let v = 0;
  const status = new Map<string, boolean>();
  const userOf = (client: string) => client.split('/')[0]!;
  const isOnline = (u: string) => [...open.values()].some((o) => userOf(o.client) === u);

  const presenceTo = (at: number, user: string, except?: string) => {
    const online = isOnline(user);
    if ((status.get(user) ?? false) === online) return;
    status.set(user, online);
    v++;
    for (const o of open.values()) {
      if (o.conn === except) continue;
      facts.push({ k: 'presence', client: o.client, conn: o.conn, user, status: online ? 'online' : 'offline', v, at } satisfies PresenceFact);
    }
  };

  const connectDevice = (client: string) => {
    const conn = `c${++nConn}`;
    const o: Open = { conn, client, welcomeAt: now + 1, pendingFrame: new Map() };
    facts.push({ k: 'conn', client, conn, event: 'connect', at: now });
    facts.push({ k: 'conn', client, conn, event: 'welcome', at: now + 1, node: 'node-1' });
    open.set(client, o);
    conns.push(o);
    presenceTo(now + 1, userOf(client), conn);
    for (const conv of convIds) {
      const c = convs.get(conv)!;
      if (!c.members.has(userOf(client))) continue;
      const from = cur(client, conv);
      if (from >= c.head) continue;
      facts.push({ k: 'conv', client, conn, conv, epoch: EPOCH, cursor: from, head: c.head, at: now + 2 });
      for (let s = from + 1; s <= c.head; s++) {
        const m = msgs.find((x) => x.conv === conv && x.seq === s)!;
        facts.push({ k: 'recv', client, conn, conv, epoch: EPOCH, seq: s, from: m.from, cmid: m.cmid, at: now + 2, via: 'backlog' });
      }
      cursor.set(client + '\0' + conv, c.head);
    }
    facts.push({ k: 'conn', client, conn, event: 'synced', at: now + 3 });
    // subscribe to everyone: the current state of each user
    for (const u of users) facts.push({ k: 'presence', client, conn, user: u, status: status.get(u) ? 'online' : 'offline', v, at: now + 3 });
  };

  const disconnect = (client: string) => {
    const o = open.get(client)!;
    facts.push({ k: 'conn', client, conn: o.conn, event: 'close', at: now, code: 1000 });
    o.closeAt = now;
    open.delete(client);
    presenceTo(now + 1, userOf(client));
  };

  for (let i = 0; i < devices.flat().length; i++) if (spec.startConnected[i % 8]) connectDevice(devices.flat()[i]!);

  for (const op of spec.ops) {
    now += op.dt;
    const ui = op.user % users.length;
    const user = users[ui]!;
    const client = devices[ui]![op.dev % devices[ui]!.length]!;
    const conv = convIds[op.conv]!;
    const c = convs.get(conv)!;
    if (op.kind === 'toggle') {
      if (open.has(client)) disconnect(client);
      else connectDevice(client);
    } else if (op.kind === 'send') {
      // the conversations the user is in, picked by op.conv
      const mine = convIds.filter((x) => convs.get(x)!.members.has(user));
      if (mine.length === 0) continue;
      const conv = mine[op.conv % mine.length]!;
      const c = convs.get(conv)!;
      // a client reconnects to send
      if (!open.has(client)) {
        connectDevice(client);
        now += 5;
      }
      const o = open.get(client)!;
      const seq = ++c.head;
      const cmid = `m${++nCmid}`;
      const send: SendFact = { k: 'send', client, conn: o.conn, conv, cmid, intendedAt: now, sentAt: now, attempts: 1, outcome: 'sent', answeredAt: now + 2, seq, epoch: EPOCH };
      facts.push(send);
      msgs.push({ conv, seq, from: user, cmid, send });
      for (const m of c.members) {
        for (const d of devices[users.indexOf(m)]!) {
          const r = open.get(d);
          if (!r) continue;
          const j = r.pendingFrame.get(conv);
          if (j !== undefined) {
            facts.push({ k: 'conv', client: d, conn: r.conn, conv, epoch: EPOCH, cursor: j, head: seq, at: now + 1 });
            r.pendingFrame.delete(conv);
          }
          facts.push({ k: 'recv', client: d, conn: r.conn, conv, epoch: EPOCH, seq, from: user, cmid, at: now + 1, via: 'live' } satisfies RecvFact);
          cursor.set(d + '\0' + conv, seq);
        }
      }
    } else if (op.kind === 'join') {
      if (conv === dm || c.members.has(user)) continue;
      c.members.add(user);
      facts.push({ k: 'member', conv, user, op: 'join', at: now, seq: c.head });
      for (const d of devices[ui]!) {
        cursor.set(d + '\0' + conv, c.head);
        open.get(d)?.pendingFrame.set(conv, c.head);
      }
    } else if (op.kind === 'leave') {
      // only once every device of the user has everything: an offline device would
      // otherwise never get the messages stored before the leave
      if (conv === dm || !c.members.has(user) || c.members.size === 1) continue;
      if (devices[ui]!.some((d) => cur(d, conv) < c.head)) continue;
      c.members.delete(user);
      facts.push({ k: 'member', conv, user, op: 'leave', at: now, seq: c.head });
      for (const d of devices[ui]!) open.get(d)?.pendingFrame.delete(conv);
    }
  }

  // final sync: every device connected, then a quiet period
  now += 1000;
  for (const d of devices.flat()) if (!open.has(d)) connectDevice(d);
  now += 100;
  devices.flat().forEach((d, i) => {
    if (spec.finalOffline[i % 8] && open.size > 1) disconnect(d);
  });
  now += WITHIN + 1000;
  return { facts, population, end: now, conns, msgs };
}

/** Live receipts of the run whose connection stayed open until `WITHIN` ms after the message was stored (the unseen checker's domain). */
export function liveReceiptsHeldOpen(run: ModelRun): RecvFact[] {
  const conns = new Map(run.conns.map((c) => [c.conn, c]));
  const storedAt = new Map<string, number>();
  for (const f of run.facts) {
    if (f.k !== 'recv') continue;
    const key = f.conv + '\0' + f.seq;
    const send = run.msgs.find((m) => m.conv === f.conv && m.seq === f.seq)!.send;
    const prev = storedAt.get(key) ?? send.answeredAt!;
    storedAt.set(key, Math.min(prev, f.at));
  }
  return run.facts.filter((f): f is RecvFact => {
    if (f.k !== 'recv' || f.via !== 'live') return false;
    const c = conns.get(f.conn)!;
    const due = storedAt.get(f.conv + '\0' + f.seq)! + WITHIN;
    return (c.closeAt ?? run.end) > due + 10 && due + 10 < run.end;
  });
}
