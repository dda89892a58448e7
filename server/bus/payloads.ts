import type { PresenceStatus } from '../protocol/server-frames.ts';

/**
 * What travels on the bus between nodes, and its text form. Store scripts publish most of
 * these atomically with the write they announce, so the Lua in server/store/lua/ builds
 * the same text (each script names the payload it publishes); `decodeBusPayload` is the
 * one reader, and test/unit/bus-payloads.test.ts holds encoder and decoder to each other.
 *
 * Text form: tab-separated fields; a message carries its `msg` frame after a newline, so
 * a node forwards those bytes to its connections without re-serializing them.
 */
export type BusPayload =
  /** a stored message; `frame` is its `msg` frame */
  | { k: 'm'; conv: string; epoch: string; seq: number; frame: string }
  /** a user joined a group at head `atSeq` */
  | { k: 'j'; conv: string; epoch: string; user: string; atSeq: number }
  /** a user left a group at head `atSeq` */
  | { k: 'l'; conv: string; epoch: string; user: string; atSeq: number }
  | { k: 'p'; user: string; status: PresenceStatus; v: number; ts: number }
  /** a read mark moved; every connection of the user but `originConn` is told */
  | { k: 'r'; user: string; conv: string; seq: number; originConn: string }
  /** close one connection with `code` (4409: a newer connection of its device) */
  | { k: 'k'; user: string; connId: string; code: number }
  /** operator kick (4401) of a user's devices, or one device */
  | { k: 'K'; user: string; device: string | null }
  /** a node's heartbeat: the node expects to read it back (a lost or stalled bus otherwise) */
  | { k: 'h'; incarnation: string; n: number };

export type BusPayloadKind = BusPayload['k'];

export function encodeBusPayload(p: BusPayload): string {
  switch (p.k) {
    case 'm':
      return `m\t${p.conv}\t${p.epoch}\t${p.seq}\n${p.frame}`;
    case 'j':
    case 'l':
      return `${p.k}\t${p.conv}\t${p.epoch}\t${p.user}\t${p.atSeq}`;
    case 'p':
      return `p\t${p.user}\t${p.status}\t${p.v}\t${p.ts}`;
    case 'r':
      return `r\t${p.user}\t${p.conv}\t${p.seq}\t${p.originConn}`;
    case 'k':
      return `k\t${p.user}\t${p.connId}\t${p.code}`;
    case 'K':
      return `K\t${p.user}\t${p.device ?? '*'}`;
    case 'h':
      return `h\t${p.incarnation}\t${p.n}`;
  }
}

export class BusPayloadError extends Error {}

function num(s: string | undefined, what: string): number {
  const n = Number(s);
  if (s === undefined || s === '' || !Number.isFinite(n)) throw new BusPayloadError(`bus payload: ${what} is not a number (${JSON.stringify(s)})`);
  return n;
}
function str(s: string | undefined, what: string): string {
  if (s === undefined || s === '') throw new BusPayloadError(`bus payload: ${what} is missing`);
  return s;
}

/** Reads one payload; throws BusPayloadError on anything it does not know. */
export function decodeBusPayload(text: string): BusPayload {
  const nl = text.indexOf('\n');
  const f = (nl < 0 ? text : text.slice(0, nl)).split('\t');
  switch (f[0]) {
    case 'm':
      if (nl < 0) throw new BusPayloadError('bus payload: message without its frame');
      return { k: 'm', conv: str(f[1], 'conv'), epoch: str(f[2], 'epoch'), seq: num(f[3], 'seq'), frame: text.slice(nl + 1) };
    case 'j':
    case 'l':
      return { k: f[0], conv: str(f[1], 'conv'), epoch: str(f[2], 'epoch'), user: str(f[3], 'user'), atSeq: num(f[4], 'atSeq') };
    case 'p': {
      const status = f[2];
      if (status !== 'online' && status !== 'offline') throw new BusPayloadError(`bus payload: presence status ${JSON.stringify(status)}`);
      return { k: 'p', user: str(f[1], 'user'), status, v: num(f[3], 'v'), ts: num(f[4], 'ts') };
    }
    case 'r':
      return { k: 'r', user: str(f[1], 'user'), conv: str(f[2], 'conv'), seq: num(f[3], 'seq'), originConn: str(f[4], 'originConn') };
    case 'k':
      return { k: 'k', user: str(f[1], 'user'), connId: str(f[2], 'connId'), code: num(f[3], 'code') };
    case 'K':
      return { k: 'K', user: str(f[1], 'user'), device: f[2] === '*' ? null : str(f[2], 'device') };
    case 'h':
      return { k: 'h', incarnation: str(f[1], 'incarnation'), n: num(f[2], 'n') };
    default:
      throw new BusPayloadError(`bus payload: unknown kind ${JSON.stringify(f[0])}`);
  }
}
