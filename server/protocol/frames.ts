import { z } from 'zod';
import { cmid, CMID_RE, convId, parseConv, userId } from './ids.ts';

/**
 * Client → server frames (PROTOCOL.md "Frames from the client"); the server's frames are
 * in server-frames.ts. Unknown fields are
 * ignored (additions are allowed by the protocol); a missing or ill-typed field is
 * `bad_request` naming the field.
 */
const requestId = z.string().max(64, 'must be at most 64 characters');
const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const helloFrame = z.object({ t: z.literal('hello'), v: z.literal(1), token: z.string().min(1), id: requestId.optional() });

export const sendFrame = z.object({ t: z.literal('send'), id: requestId.optional(), conv: convId, cmid, body: z.string() });
export const ackFrame = z.object({ t: z.literal('ack'), id: requestId.optional(), conv: convId, seq });
export const readFrame = z.object({ t: z.literal('read'), id: requestId.optional(), conv: convId, seq });
export const historyFrame = z.object({
  t: z.literal('history'),
  id: requestId.optional(),
  conv: convId,
  before: seq.optional(),
  after: seq.optional(),
  limit: z.number().int().min(1, 'must be 1..100').max(100, 'must be 1..100').optional(),
});
export const presenceSubFrame = z.object({
  t: z.enum(['presence.sub', 'presence.unsub']),
  id: requestId.optional(),
  users: z.array(userId).max(100_000),
});
// A missing or malformed token is `unauthorized` (and close 4401), not `bad_request`.
export const authFrame = z.object({ t: z.literal('auth'), id: requestId.optional(), token: z.unknown().optional() });
export const pingFrame = z.object({ t: z.literal('ping'), id: requestId.optional() });

export const clientFrame = z.discriminatedUnion('t', [
  helloFrame,
  sendFrame,
  ackFrame,
  readFrame,
  historyFrame,
  presenceSubFrame,
  authFrame,
  pingFrame,
]);

export type ClientFrame = z.infer<typeof clientFrame>;
export type SendFrame = z.infer<typeof sendFrame>;
export type HistoryFrame = z.infer<typeof historyFrame>;

export function describeZodError(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid frame';
  const path = issue.path.join('.');
  if (issue.code === 'invalid_union' || (issue.code === 'invalid_value' && path === 't')) return 'unknown frame type `t`';
  return path ? `field \`${path}\`: ${issue.message}` : issue.message;
}

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * `send` and `ack` — one of each per message — checked by hand instead of through
 * `clientFrame` (issue 10: zod's parse was a visible part of the node's CPU per message).
 * For a frame the schema accepts, the same object zod returns (the schema's fields in its
 * order, unknown ones dropped); null for anything else, which `clientFrame` then judges,
 * with its messages (test/unit/fast-frames.test.ts holds the two to each other).
 */
export function fastClientFrame(raw: Record<string, unknown>): ClientFrame | null {
  const t = raw.t;
  if (t !== 'send' && t !== 'ack') return null;
  const id = raw.id;
  if (id !== undefined && (typeof id !== 'string' || id.length > 64)) return null;
  const conv = raw.conv;
  if (typeof conv !== 'string' || parseConv(conv) === null) return null;
  if (t === 'ack') {
    const seq = raw.seq;
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) return null;
    return id !== undefined ? { t, id, conv, seq } : { t, conv, seq };
  }
  const cmid = raw.cmid;
  const body = raw.body;
  if (typeof cmid !== 'string' || !CMID_RE.test(cmid) || typeof body !== 'string') return null;
  return id !== undefined ? { t, id, conv, cmid, body } : { t, conv, cmid, body };
}
