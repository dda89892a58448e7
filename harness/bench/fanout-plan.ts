/**
 * The names the benches (fanout-bench.ts, dm-bench.ts) give their users and groups, shared by them, their
 * receiver processes and the raw-ws baseline: receiver i is user `r<i>`, in the group
 * conversation `g:bg<⌊i / groupSize⌋>`; the one publisher `pub` owns every group.
 */
export const PUBLISHER = 'pub';

export const receiverUser = (i: number): string => `r${i}`;
export const groupId = (k: number): string => `bg${k}`;
export const groupConv = (k: number): string => `g:${groupId(k)}`;

/** The conversation receiver `user` (`r<i>`) is in. */
export function groupOfUser(user: string, groupSize: number): string {
  return groupConv(Math.floor(Number(user.slice(1)) / groupSize));
}

/** The 1:1 conversation of two users (PROTOCOL.md: `dm:<a>:<b>`, a < b by byte order). */
export const dmConv = (x: string, y: string): string => (x < y ? `dm:${x}:${y}` : `dm:${y}:${x}`);

/** A message body carries its step and intended send time (ms on the shared clock of `nowMs`). */
export const bodyOf = (step: number, intendedMs: number): string => `${step}|${intendedMs.toFixed(3)}`;
export function parseBody(body: string): { step: number; intendedMs: number } | null {
  const bar = body.indexOf('|');
  if (bar < 0) return null;
  return { step: Number(body.slice(0, bar)), intendedMs: Number(body.slice(bar + 1)) };
}

/** Wall-clock ms with sub-ms resolution, comparable across processes of this machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * Latency is also kept per LATENCY_WINDOW_MS of intended send time (window k holds the
 * messages meant to leave in [k·W, (k+1)·W) on the `nowMs` clock): a step whose p50 climbs
 * window after window fell behind the offered rate, one whose p50 stays flat while its p99
 * jumps had stalls. The overall p99 alone cannot tell the two apart.
 */
export const LATENCY_WINDOW_MS = 5000;

/** how often a receiver acks what it received since its last ack */
export const ACK_EVERY_MS = 50;

/** The IPC of a receiver process (receivers.ts). */

export type ReceiverCommand =
  | { type: 'connect'; target: string; url: string; users: string[]; concurrency: number }
  | { type: 'begin'; step: number; endMs: number }
  | { type: 'drive'; step: number; target: string; t0: number; endMs: number; perSec: number }
  | { type: 'stats'; step: number }
  | { type: 'close'; target: string };
export type ReceiverReply =
  | { type: 'connected'; target: string; ok: number; failed: number; firstError: string | null; seconds: number; histogram: string }
  | { type: 'stats'; step: number; received: number; inTime: number; acksSent: number; histogram: string; windows: Array<[number, string]>; issued: number; sent: number; errors: Record<string, number> }
  | { type: 'closed'; target: string };

