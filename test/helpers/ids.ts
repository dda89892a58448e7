// Unique ids per test run so tests never share users, devices, groups or cmids.
import { randomBytes } from 'node:crypto';

const run = randomBytes(3).toString('hex');
let n = 0;

/** A fresh id matching ^[A-Za-z0-9_-]{1,64}$. */
export function uid(prefix = 'u'): string {
  return `${prefix}${run}${(++n).toString(36)}`;
}

/** The dm conversation id of two users (a < b by byte order). */
export function dm(a: string, b: string): string {
  if (a === b) throw new Error('dm needs two distinct users');
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0 ? `dm:${a}:${b}` : `dm:${b}:${a}`;
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
