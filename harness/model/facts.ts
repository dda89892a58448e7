// The facts a run records: compact, raw, append-only. Fleets write them, checkers and
// reports read them after the run (DESIGN.md: checks read recorded facts, not live
// guesses). Times are ms since the Unix epoch on the harness machine's clock.
//
// Identity of a simulated device: `client` = `<user>/<device>`. `conn` is the server's
// connection id from `welcome` (or `pending:<n>` before it), so a reconnect is a new conn.
import { z } from 'zod';

const t = z.number();
const seq = z.number().int().nonnegative();

export const sendFact = z.object({
  k: z.literal('send'),
  client: z.string(),
  conn: z.string(),
  conv: z.string(),
  cmid: z.string(),
  /** when the open-loop schedule wanted it sent (latency counts from here: no coordinated omission) */
  intendedAt: t,
  /** when it was actually written to the socket (the last attempt) */
  sentAt: t,
  /** how many times it was sent (resends with the same cmid after a reconnect) */
  attempts: z.number().int().positive(),
  /** sent = stored (dup=false), dup = the server answered an earlier seq, error = a code, none = never answered */
  outcome: z.enum(['sent', 'dup', 'error', 'none']),
  answeredAt: t.optional(),
  seq: seq.optional(),
  epoch: z.string().optional(),
  code: z.string().optional(),
});

/** A `msg` frame received (raw: duplicates across connections and replays are kept). */
export const recvFact = z.object({
  k: z.literal('recv'),
  client: z.string(),
  conn: z.string(),
  conv: z.string(),
  epoch: z.string(),
  seq,
  from: z.string(),
  cmid: z.string(),
  at: t,
  /** live | backlog (before `synced`) | history (fetched by a history request) */
  via: z.enum(['live', 'backlog', 'history']),
});

/** A `conv` frame: where the following msgs of that conversation continue from. */
export const convFact = z.object({ k: z.literal('conv'), client: z.string(), conn: z.string(), conv: z.string(), epoch: z.string(), cursor: seq, head: seq, at: t });

export const gapFact = z.object({ k: z.literal('gap'), client: z.string(), conn: z.string(), conv: z.string(), from: seq, to: seq, trimmed: z.boolean(), at: t });

export const presenceFact = z.object({
  k: z.literal('presence'),
  client: z.string(),
  conn: z.string(),
  user: z.string(),
  status: z.enum(['online', 'offline']),
  v: z.number(),
  at: t,
});

export const connFact = z.object({
  k: z.literal('conn'),
  client: z.string(),
  conn: z.string(),
  // closing: the device began a close of its own (a close frame sent); the server may act on
  // it from then on, a round trip before the device records its `close`
  event: z.enum(['connect', 'welcome', 'synced', 'closing', 'close', 'error']),
  at: t,
  node: z.string().optional(),
  code: z.number().int().optional(),
  detail: z.string().optional(),
});

/** Group membership as the harness changed it; `seq` is the head at which it took effect, when known. */
export const memberFact = z.object({
  k: z.literal('member'),
  conv: z.string(),
  user: z.string(),
  op: z.enum(['join', 'leave']),
  /** when the change was asked for (it took effect at or after this) */
  at: t,
  /** when it was answered (it took effect at or before this); absent: at `at` */
  until: t.optional(),
  seq: seq.optional(),
});

/**
 * What one device had at risk when a fault step began (an in-flight window; recorded only
 * for a device connected to the node the step hits, and only when something was at risk):
 * sends written on its connection and not answered yet, and messages it held above the last
 * ack it wrote. The `inflight` checker follows each one to its recovery.
 */
export const windowFact = z.object({
  k: z.literal('window'),
  /** the window's id in this run (w1, w2, …: one per fault step) */
  window: z.string(),
  /** the fault step that opened it, in words */
  fault: z.string(),
  client: z.string(),
  conn: z.string(),
  /** the node the device's connection was on (from its welcome) */
  node: z.string().optional(),
  at: t,
  /** written and not answered: each may or may not have been stored */
  sends: z.array(z.object({ conv: z.string(), cmid: z.string(), sentAt: t, attempts: z.number().int().positive() })),
  /** per conversation: seqs from..to received (held contiguously, in `epoch`) but above the last ack written */
  unacked: z.array(z.object({ conv: z.string(), epoch: z.string(), from: seq, to: seq })),
});

/** An `ack` frame the device wrote, recorded only while a window left a push of that conversation unacked (so a later cursor can be held to it). */
export const ackFact = z.object({ k: z.literal('ack'), client: z.string(), conn: z.string(), conv: z.string(), seq, at: t });

/**
 * An ack a device sent `seq - held` above what it held (client mode `ahead`). The server
 * handled it no later than `until` (its `ok`, or the connection's end when unanswered), so
 * a correct clamp (to the head then) can only have covered messages stored by then.
 */
export const ackAheadFact = z.object({
  k: z.literal('ack_ahead'),
  client: z.string(),
  conn: z.string(),
  conv: z.string(),
  epoch: z.string(),
  seq,
  /** what the device really held (its contiguous seq) */
  held: seq,
  at: t,
  until: t,
  answered: z.boolean(),
});

/**
 * A device that did not read its socket (`pause`) or read it slowly (`throttle`) from `at` to
 * `end` (client modes), or whose whole fleet process was frozen then (`freeze`: a fault
 * step `fleet-pause`; the orchestrator tells the process once it resumed it).
 */
export const stallFact = z.object({ k: z.literal('stall'), client: z.string(), mode: z.enum(['pause', 'throttle', 'freeze']), at: t, end: t });

/**
 * What a device found waiting on its connection when its read stall (`pause`, `throttle`)
 * ended at `at`: `kernelBytes` held by the kernel then (its receive queue and the node's
 * send queue, /proc/net/tcp; absent where unreadable), then `bytes` of frames it read on
 * that connection until the first message stored after `at` (`ended: 'caught-up'`), the
 * connection closed (`'closed'`, with its `code`: a cut node's connection ends once the
 * kernel's share is read), or 10 s passed (`'timeout'`); `page` replies are left out. Judged by `slow`.
 */
export const drainFact = z.object({
  k: z.literal('drain'),
  client: z.string(),
  conn: z.string(),
  at: t,
  kernelBytes: z.number().int().nonnegative().optional(),
  rxQueue: z.number().int().nonnegative().optional(),
  txQueue: z.number().int().nonnegative().optional(),
  bytes: z.number().int().nonnegative(),
  frames: z.number().int().nonnegative(),
  /** `history` requests the device had unanswered then (their `page` replies are not counted in `bytes`: pages are paced by the socket, not cut) */
  pages: z.number().int().nonnegative(),
  /** the connection had synced by then (else it was still replaying its backlog, which the node paces by the socket draining) */
  synced: z.boolean(),
  until: t,
  ended: z.enum(['caught-up', 'closed', 'timeout']),
  code: z.number().int().optional(),
});

/** A device that left for good at `at` (client mode `leave`): owed only what was stored while it was there. */
export const goneFact = z.object({ k: z.literal('gone'), client: z.string(), at: t });

/**
 * A device opened a new connection (on the next node) at `at` while its connection `conn`
 * stayed open (workload `replaceRate`): once the new one is welcomed the server must close
 * `conn` 4409 (PROTOCOL.md, Connect 5); its close is recorded as usual under `conn`.
 */
export const replaceFact = z.object({ k: z.literal('replace'), client: z.string(), conn: z.string(), at: t });

export const fact = z.discriminatedUnion('k', [sendFact, recvFact, convFact, gapFact, presenceFact, connFact, memberFact, windowFact, ackFact, ackAheadFact, stallFact, goneFact, replaceFact, drainFact]);

export type SendFact = z.infer<typeof sendFact>;
export type RecvFact = z.infer<typeof recvFact>;
export type ConvFact = z.infer<typeof convFact>;
export type GapFact = z.infer<typeof gapFact>;
export type PresenceFact = z.infer<typeof presenceFact>;
export type ConnFact = z.infer<typeof connFact>;
export type MemberFact = z.infer<typeof memberFact>;
export type WindowFact = z.infer<typeof windowFact>;
export type AckFact = z.infer<typeof ackFact>;
export type AckAheadFact = z.infer<typeof ackAheadFact>;
export type StallFact = z.infer<typeof stallFact>;
export type GoneFact = z.infer<typeof goneFact>;
export type ReplaceFact = z.infer<typeof replaceFact>;
export type DrainFact = z.infer<typeof drainFact>;
export type Fact = z.infer<typeof fact>;

/** One action on the fault timeline (a toxic, a disabled link, a killed or paused process). */
export const faultEvent = z.object({
  id: z.string(),
  /** e.g. toxic:latency, link:disable, node:kill, node:pause, node:restart, redis:kill, redis:restart */
  kind: z.string(),
  /** e.g. node-2, redis, client-link:node-1, redis-link:node-2 */
  target: z.string(),
  start: t,
  /** when it was healed (undefined while it lasts or for instantaneous actions) */
  end: t.optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type FaultEvent = z.infer<typeof faultEvent>;

/** Who was supposed to get what: the workload's users, devices and conversations. */
export const population = z.object({
  users: z.array(z.object({ user: z.string(), devices: z.array(z.string()) })),
  /** initial members per conversation (dm: its two users; groups: as created) */
  convs: z.array(z.object({ conv: z.string(), members: z.array(z.string()) })),
});
export type Population = z.infer<typeof population>;
