import type { ErrorCode } from './codes.ts';
import { errorCodes } from './codes.ts';

/**
 * Server → client frames (PROTOCOL.md "Frames from the server"): one type and one encoder
 * per frame, and one decoder the harness and the tests read frames with. Every frame the
 * server writes is built here, so a protocol change is one edit in this file.
 *
 * Encoders build the JSON text by hand instead of JSON.stringify on an object: they run
 * once per delivered message and per reply, and template strings with JSON.stringify on
 * the string fields only are several times faster. Numbers are the server's own integers
 * and booleans; every string goes through JSON.stringify, so the output is always valid
 * JSON (the round-trip test in test/unit/server-frames.test.ts holds every encoder to it).
 */

/** A stored message as history pages carry it. */
export interface StoredMessage {
  seq: number;
  from: string;
  cmid: string;
  body: string;
  ts: number;
}

export interface WelcomeFrame { t: 'welcome'; v: 1; user: string; device: string; conn: string; node: string; heartbeatMs: number; maxBodyBytes: number; id?: string }
export interface SentFrame { t: 'sent'; id?: string; conv: string; seq: number; cmid: string; ts: number; dup: boolean }
export interface MsgFrame { t: 'msg'; conv: string; seq: number; from: string; cmid: string; body: string; ts: number }
export interface ConvFrame { t: 'conv'; conv: string; epoch: string; cursor: number; head: number }
export interface GapFrame { t: 'gap'; conv: string; from: number; to: number; trimmed?: true }
export interface SyncedFrame { t: 'synced' }
export interface PageFrame { t: 'page'; id?: string; conv: string; epoch: string; msgs: StoredMessage[]; more: boolean }
export interface PresenceFrame { t: 'presence'; user: string; status: PresenceStatus; v: number; ts: number }
export interface ReadFrame { t: 'read'; conv: string; seq: number }
export interface OkFrame { t: 'ok'; id: string }
export interface PongFrame { t: 'pong'; id?: string; ts: number }
export interface ErrorFrame { t: 'error'; id?: string; code: ErrorCode; message: string; retryable: boolean }

export type PresenceStatus = 'online' | 'offline';

export type ServerFrame =
  | WelcomeFrame | SentFrame | MsgFrame | ConvFrame | GapFrame | SyncedFrame | PageFrame
  | PresenceFrame | ReadFrame | OkFrame | PongFrame | ErrorFrame;

export type ServerFrameType = ServerFrame['t'];
export type FrameOf<T extends ServerFrameType> = Extract<ServerFrame, { t: T }>;

const q = JSON.stringify;
/** `,"id":"…"` when the request carried an id, else nothing. */
const idPart = (id: string | undefined): string => (id === undefined ? '' : `,"id":${q(id)}`);

export const encode = {
  welcome(f: Omit<WelcomeFrame, 't' | 'v'>): string {
    return `{"t":"welcome","v":1,"user":${q(f.user)},"device":${q(f.device)},"conn":${q(f.conn)},"node":${q(f.node)},"heartbeatMs":${f.heartbeatMs},"maxBodyBytes":${f.maxBodyBytes}${idPart(f.id)}}`;
  },
  sent(id: string | undefined, conv: string, seq: number, cmid: string, ts: number, dup: boolean): string {
    return `{"t":"sent"${idPart(id)},"conv":${q(conv)},"seq":${seq},"cmid":${q(cmid)},"ts":${ts},"dup":${dup}}`;
  },
  /** `bodyJson` is the body as a JSON string literal, as the log stores it (never re-encoded). */
  msg(conv: string, seq: number, from: string, cmid: string, bodyJson: string, ts: number): string {
    return `{"t":"msg","conv":${q(conv)},"seq":${seq},"from":${q(from)},"cmid":${q(cmid)},"body":${bodyJson},"ts":${ts}}`;
  },
  conv(conv: string, epoch: string, cursor: number, head: number): string {
    return `{"t":"conv","conv":${q(conv)},"epoch":${q(epoch)},"cursor":${cursor},"head":${head}}`;
  },
  gap(conv: string, from: number, to: number, trimmed: boolean): string {
    return `{"t":"gap","conv":${q(conv)},"from":${from},"to":${to}${trimmed ? ',"trimmed":true' : ''}}`;
  },
  synced(): string {
    return '{"t":"synced"}';
  },
  /** `msgsJson`: each message already encoded by `storedMessage`. */
  page(id: string | undefined, conv: string, epoch: string, msgsJson: readonly string[], more: boolean): string {
    return `{"t":"page"${idPart(id)},"conv":${q(conv)},"epoch":${q(epoch)},"msgs":[${msgsJson.join(',')}],"more":${more}}`;
  },
  /** One element of a page's `msgs` (and of the HTTP history route's), body as stored. */
  storedMessage(seq: number, from: string, cmid: string, bodyJson: string, ts: number): string {
    return `{"seq":${seq},"from":${q(from)},"cmid":${q(cmid)},"body":${bodyJson},"ts":${ts}}`;
  },
  presence(user: string, status: PresenceStatus, v: number, ts: number): string {
    return `{"t":"presence","user":${q(user)},"status":"${status}","v":${v},"ts":${ts}}`;
  },
  read(conv: string, seq: number): string {
    return `{"t":"read","conv":${q(conv)},"seq":${seq}}`;
  },
  ok(id: string): string {
    return `{"t":"ok","id":${q(id)}}`;
  },
  pong(id: string | undefined, ts: number): string {
    return `{"t":"pong"${idPart(id)},"ts":${ts}}`;
  },
  error(id: string | undefined, code: ErrorCode, message: string): string {
    return `{"t":"error"${idPart(id)},"code":"${code}","message":${q(message)},"retryable":${errorCodes[code].retryable}}`;
  },
} as const;

/**
 * The two constant parts of a `msg` frame around its seq and body, for the send script,
 * which assembles the frame the bus carries (it alone knows seq and ts):
 * `head + seq + mid + bodyJson + ',"ts":' + ts + '}'` equals `encode.msg(...)`.
 */
export function msgFrameParts(conv: string, from: string, cmid: string): { head: string; mid: string } {
  return { head: `{"t":"msg","conv":${q(conv)},"seq":`, mid: `,"from":${q(from)},"cmid":${q(cmid)},"body":` };
}

// ---- decoding (harness, tests) ----------------------------------------------------------

export class FrameDecodeError extends Error {}

type FieldKind = 'string' | 'number' | 'boolean' | 'array' | 'string?' | 'true?';
/**
 * Required fields per frame type. Hand-written rather than a zod schema: the harness
 * decodes every frame of up to 100k simulated devices, and this check is a few property
 * reads, where a schema parse allocates per frame. `id` is checked separately (optional
 * string everywhere, required on `ok`).
 */
const shapes: { [T in ServerFrameType]: Record<string, FieldKind> } = {
  welcome: { v: 'number', user: 'string', device: 'string', conn: 'string', node: 'string', heartbeatMs: 'number', maxBodyBytes: 'number' },
  sent: { conv: 'string', seq: 'number', cmid: 'string', ts: 'number', dup: 'boolean' },
  msg: { conv: 'string', seq: 'number', from: 'string', cmid: 'string', body: 'string', ts: 'number' },
  conv: { conv: 'string', epoch: 'string', cursor: 'number', head: 'number' },
  gap: { conv: 'string', from: 'number', to: 'number', trimmed: 'true?' },
  synced: {},
  page: { conv: 'string', epoch: 'string', msgs: 'array', more: 'boolean' },
  presence: { user: 'string', status: 'string', v: 'number', ts: 'number' },
  read: { conv: 'string', seq: 'number' },
  ok: { id: 'string' },
  pong: { ts: 'number' },
  error: { code: 'string', message: 'string', retryable: 'boolean' },
};

function checkField(rec: Record<string, unknown>, t: string, name: string, kind: FieldKind): void {
  const v = rec[name];
  const ok =
    kind === 'string?' ? v === undefined || typeof v === 'string'
    : kind === 'true?' ? v === undefined || v === true
    : kind === 'array' ? Array.isArray(v)
    : typeof v === kind;
  if (!ok) throw new FrameDecodeError(`${t} frame: field \`${name}\` must be ${kind.replace('?', ' or absent')}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
}

/** Decodes one server frame; throws FrameDecodeError naming what is wrong. */
export function decodeServerFrame(text: string): ServerFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new FrameDecodeError(`not JSON: ${text.slice(0, 80)}`);
  }
  return checkServerFrame(raw);
}

/** Checks an already-parsed value against the server frame shapes. */
export function checkServerFrame(raw: unknown): ServerFrame {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FrameDecodeError('a frame must be a JSON object');
  const rec = raw as Record<string, unknown>;
  const t = rec.t;
  if (typeof t !== 'string' || !Object.hasOwn(shapes, t)) throw new FrameDecodeError(`unknown frame type ${JSON.stringify(t)}`);
  const shape = shapes[t as ServerFrameType];
  for (const name in shape) checkField(rec, t, name, shape[name]!);
  if (t !== 'ok') checkField(rec, t, 'id', 'string?');
  if (t === 'page') for (const m of rec.msgs as unknown[]) checkStoredMessage(m);
  if (t === 'error' && !Object.hasOwn(errorCodes, rec.code as string)) throw new FrameDecodeError(`error frame: unknown code ${JSON.stringify(rec.code)}`);
  if (t === 'presence' && rec.status !== 'online' && rec.status !== 'offline') throw new FrameDecodeError(`presence frame: status must be online or offline, got ${JSON.stringify(rec.status)}`);
  return raw as ServerFrame;
}

const STORED_MESSAGE_FIELDS = [['seq', 'number'], ['from', 'string'], ['cmid', 'string'], ['body', 'string'], ['ts', 'number']] as const;

function checkStoredMessage(m: unknown): void {
  if (typeof m !== 'object' || m === null) throw new FrameDecodeError('page frame: every element of `msgs` must be an object');
  const rec = m as Record<string, unknown>;
  for (const [name, kind] of STORED_MESSAGE_FIELDS) {
    if (typeof rec[name] !== kind) throw new FrameDecodeError(`page frame: msgs[].${name} must be a ${kind}`);
  }
}
