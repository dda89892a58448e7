import { z } from 'zod';
import { ProtocolError } from './codes.ts';

/** Identifier rules of PROTOCOL.md "Identifiers"; shared by the server and the harness. */
export const USER_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const CMID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

export const userId = z.string().regex(USER_ID_RE, 'must match ^[A-Za-z0-9_-]{1,64}$');
export const deviceId = userId;
export const groupId = userId;
export const cmid = z.string().regex(CMID_RE, 'must match ^[A-Za-z0-9_.:-]{1,64}$');

export type ConvRef =
  | { kind: 'dm'; id: string; a: string; b: string }
  | { kind: 'group'; id: string; group: string };

/** Parses `dm:<a>:<b>` (a < b by byte order, a ≠ b) or `g:<groupId>`; null when invalid. */
export function parseConv(conv: string): ConvRef | null {
  if (conv.startsWith('g:')) {
    const group = conv.slice(2);
    return USER_ID_RE.test(group) ? { kind: 'group', id: conv, group } : null;
  }
  if (conv.startsWith('dm:')) {
    const rest = conv.slice(3);
    const i = rest.indexOf(':');
    if (i < 0) return null;
    const a = rest.slice(0, i);
    const b = rest.slice(i + 1);
    if (!USER_ID_RE.test(a) || !USER_ID_RE.test(b)) return null;
    // Byte order equals UTF-16 order here: ids are ASCII.
    if (!(a < b)) return null;
    return { kind: 'dm', id: conv, a, b };
  }
  return null;
}

export function dmConv(u1: string, u2: string): string {
  return u1 < u2 ? `dm:${u1}:${u2}` : `dm:${u2}:${u1}`;
}

export const convId = z.string().refine((s) => parseConv(s) !== null, {
  message: 'must be dm:<a>:<b> (two distinct user ids, a < b) or g:<groupId>',
});

export function isMemberOfDm(ref: ConvRef, user: string): boolean {
  return ref.kind === 'dm' && (ref.a === user || ref.b === user);
}

/**
 * The one membership check the edge makes: a dm's members are in its id, so a dm of two
 * other users is refused here; a group's membership is the store's to check (atomically
 * with the operation). `conv` must already be a valid conversation id.
 */
export function convForUser(conv: string, user: string): ConvRef {
  const ref = parseConv(conv);
  if (ref === null) throw new ProtocolError('bad_request', `\`conv\` ${JSON.stringify(conv)} is not a conversation id`);
  if (ref.kind === 'dm' && !isMemberOfDm(ref, user)) throw new ProtocolError('forbidden', `not a member of ${conv}`);
  return ref;
}
