// Small builders for hand-made fact logs. Times are offsets in ms from T0, so witness
// messages read `t+1.234s`.
import type { ConnFact, ConvFact, Fact, FaultEvent, GapFact, MemberFact, Population, PresenceFact, RecvFact, SendFact } from '../../harness/model/facts.ts';
import type { CheckInput, CheckOptions } from '../../harness/checks/verdict.ts';

export const T0 = 1_700_000_000_000;
export const t = (ms: number) => T0 + ms;

export function connect(client: string, conn: string, at: number): ConnFact[] {
  return [
    { k: 'conn', client, conn, event: 'connect', at: t(at) },
    { k: 'conn', client, conn, event: 'welcome', at: t(at + 1), node: 'node-1' },
  ];
}

/** the connect sequence's end on that connection (PROTOCOL.md Connect 3) */
export function synced(client: string, conn: string, at: number): ConnFact {
  return { k: 'conn', client, conn, event: 'synced', at: t(at) };
}

/** u1/d1 on c1 and u2/d1 on c2, connected at t+0, each told `epoch` of dm:u1:u2 at t+0.005s (nothing stored yet) */
export function dmPair(epoch = 'e1'): Fact[] {
  return [...connect('u1/d1', 'c1', 0), ...connect('u2/d1', 'c2', 0), convFrame('u1/d1', 'c1', 'dm:u1:u2', 0, 0, 5, epoch), convFrame('u2/d1', 'c2', 'dm:u1:u2', 0, 0, 5, epoch)];
}

export function close(client: string, conn: string, at: number, code = 1006): ConnFact {
  return { k: 'conn', client, conn, event: 'close', at: t(at), code };
}

export function send(
  client: string,
  conn: string,
  conv: string,
  cmid: string,
  seq: number | undefined,
  at: number,
  more: Partial<SendFact> = {},
): SendFact {
  return {
    k: 'send',
    client,
    conn,
    conv,
    cmid,
    intendedAt: t(at),
    sentAt: t(at),
    attempts: 1,
    outcome: seq === undefined ? 'none' : 'sent',
    ...(seq === undefined ? {} : { seq, answeredAt: t(at + 2), epoch: 'e1' }),
    ...more,
  };
}

export function recv(client: string, conn: string, conv: string, seq: number, from: string, cmid: string, at: number, via: RecvFact['via'] = 'live', epoch = 'e1'): RecvFact {
  return { k: 'recv', client, conn, conv, epoch, seq, from, cmid, at: t(at), via };
}

export function convFrame(client: string, conn: string, conv: string, cursor: number, head: number, at: number, epoch = 'e1'): ConvFact {
  return { k: 'conv', client, conn, conv, epoch, cursor, head, at: t(at) };
}

export function gap(client: string, conn: string, conv: string, from: number, to: number, at: number, trimmed = false): GapFact {
  return { k: 'gap', client, conn, conv, from, to, trimmed, at: t(at) };
}

export function presence(client: string, conn: string, user: string, status: 'online' | 'offline', v: number, at: number): PresenceFact {
  return { k: 'presence', client, conn, user, status, v, at: t(at) };
}

export function member(conv: string, user: string, op: 'join' | 'leave', at: number, seq?: number): MemberFact {
  return { k: 'member', conv, user, op, at: t(at), ...(seq === undefined ? {} : { seq }) };
}

export function fault(id: string, kind: string, target: string, start: number, end?: number): FaultEvent {
  return { id, kind, target, start: t(start), ...(end === undefined ? {} : { end: t(end) }) };
}

/** u1/d1 and u2/d1 in dm:u1:u2 unless told otherwise. */
export function population(users: Record<string, string[]> = { u1: ['d1'], u2: ['d1'] }, convs: Record<string, string[]> = { 'dm:u1:u2': ['u1', 'u2'] }): Population {
  return {
    users: Object.entries(users).map(([user, devices]) => ({ user, devices })),
    convs: Object.entries(convs).map(([conv, members]) => ({ conv, members })),
  };
}

export function input(facts: (Fact | Fact[])[], more: Partial<CheckInput> & { options?: CheckOptions } = {}): CheckInput {
  return { facts: facts.flat(), population: more.population ?? population(), ...more };
}
