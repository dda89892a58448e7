// The capture record format (NDJSON, one record a line): what a node writes with
// CAPTURE_DIR set (server/capture/capture.ts) and what `imstorm replay` reads
// (harness/replay/read.ts). One schema for both ends, so a change to what the server
// writes is a change the reader sees at once. Adding an optional field keeps
// CAPTURE_VERSION; renaming, removing or changing a field's meaning bumps it.
import { z } from 'zod';

export const CAPTURE_VERSION = 1;

/** Every record: `m` ms on the node's monotonic clock since its capture began, `w` wall-clock ms since the epoch. */
const at = { m: z.number().nonnegative(), w: z.number() };
const conn = z.string().min(1);

/**
 * Inbound frames as metadata: never a token, a body only with CAPTURE_BODIES=1 (else its
 * UTF-8 size and a short hash). `t` is the frame's type (`bad` for a frame refused before
 * it had one).
 */
export const inboundRecord = z.object({
  k: z.literal('in'),
  ...at,
  conn,
  t: z.enum(['send', 'ack', 'read', 'history', 'presence.sub', 'presence.unsub', 'auth', 'ping', 'bad']),
  id: z.string().optional(),
  conv: z.string().optional(),
  cmid: z.string().optional(),
  /** ack and read: the seq the device said */
  seq: z.number().optional(),
  /** history: the page's bounds and size asked for */
  after: z.number().optional(),
  before: z.number().optional(),
  limit: z.number().optional(),
  /** send: the body's size in UTF-8 bytes, and a hash (sha1, first 12 hex) or the body itself */
  bytes: z.number().optional(),
  hash: z.string().optional(),
  body: z.string().optional(),
  /** presence.sub / unsub: the users named */
  users: z.array(z.string()).optional(),
  /** bad: what was wrong */
  error: z.string().optional(),
});

/** Outbound frames by type, with what identifies them (conv and seq, the request id, an error's code). */
export const outboundRecord = z.object({
  k: z.literal('out'),
  ...at,
  conn,
  t: z.enum(['welcome', 'sent', 'msg', 'conv', 'gap', 'synced', 'page', 'ok', 'pong', 'error']),
  id: z.string().optional(),
  conv: z.string().optional(),
  seq: z.number().optional(),
  cmid: z.string().optional(),
  dup: z.boolean().optional(),
  /** msg: pushed live (`live`) or replayed from the log at a connect or catch-up (`backlog`) */
  via: z.enum(['live', 'backlog']).optional(),
  /** gap: its range; page: its number of messages */
  from: z.number().optional(),
  to: z.number().optional(),
  trimmed: z.boolean().optional(),
  n: z.number().optional(),
  code: z.string().optional(),
});

export const captureRecord = z.discriminatedUnion('k', [
  /** first record of every file: who wrote it */
  /** `up`: ms the process had been running when this capture began (its boot: a replay that restarts the node boots it again) */
  z.object({ k: z.literal('file'), ...at, v: z.literal(CAPTURE_VERSION), node: z.string(), incarnation: z.string(), index: z.number().int().nonnegative(), sample: z.number(), bodies: z.boolean(), up: z.number().optional() }),
  z.object({ k: z.literal('node'), ...at, event: z.enum(['start', 'stop']), node: z.string(), incarnation: z.string(), pid: z.number().optional(), signal: z.string().optional() }),
  z.object({ k: z.literal('open'), ...at, conn }),
  /** hello accepted: who the connection is (the token never) */
  z.object({ k: z.literal('hello'), ...at, conn, user: z.string(), device: z.string() }),
  /** a newer connection of the same device (here or on another node) replaced these */
  z.object({ k: z.literal('replace'), ...at, conn, replaced: z.array(z.string()) }),
  /** `by`: the server closed it (with this code), or the peer (its close frame's code, 1006 for none) */
  z.object({ k: z.literal('close'), ...at, conn, code: z.number(), reason: z.string(), by: z.enum(['server', 'client']) }),
  inboundRecord,
  outboundRecord,
  /**
   * An HTTP request by route and outcome; `user` who asked, a group route's `group` and
   * `users`, and POST /v1/messages's `conv`, `cmid`, body size (`bytes`) and the token's
   * `device` (so the replay can send it again, as that device, with the same cmid).
   */
  z.object({ k: z.literal('http'), ...at, method: z.string(), route: z.string(), status: z.number(), ms: z.number(), user: z.string().optional(), device: z.string().optional(), group: z.string().optional(), users: z.array(z.string()).optional(), conv: z.string().optional(), cmid: z.string().optional(), bytes: z.number().optional() }),
  z.object({ k: z.literal('redis'), ...at, link: z.enum(['cmd', 'bus']), state: z.enum(['up', 'down']) }),
  z.object({ k: z.literal('resync'), ...at, reason: z.string() }),
  /** a presence sweep of this node took a dead node incarnation's connections offline (`connections` > 0 of them) */
  z.object({ k: z.literal('sweep'), ...at, incarnation: z.string(), connections: z.number() }),
  /** the capture stopped writing (a write error, a full disk): nothing after this moment was recorded */
  z.object({ k: z.literal('capture'), ...at, event: z.enum(['dropped']), records: z.number() }),
]);
export type CaptureRecord = z.infer<typeof captureRecord>;
export type InboundRecord = z.infer<typeof inboundRecord>;
export type OutboundRecord = z.infer<typeof outboundRecord>;

/**
 * Whether `user` is in a CAPTURE_SAMPLE of `sample` (0..1): a hash of the user id (FNV-1a, mixed), so a
 * user's devices are all in or all out, on every node, in every run.
 */
export function userSampled(user: string, sample: number): boolean {
  if (sample >= 1) return true;
  if (sample <= 0) return false;
  let h = 0x811c9dc5;
  for (let i = 0; i < user.length; i++) {
    h ^= user.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3's finaliser: FNV alone leaves the top bits barely touched by the last
  // characters, and ids like u1, u2, … differ only there
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000 < sample;
}

/** Capture files of a node are named `<node>-<started, base 36>-<index, 4 digits>.ndjson`. */
export const CAPTURE_FILE_RE = /^([A-Za-z0-9_.-]+)-([0-9a-z]+)-(\d{4})\.ndjson$/;
