// What every attack module is given: the nodes, the answer log, the bounds (a deadline
// and counts), tokens for attacker users, and the fault timeline to mark its span on.
import { mintToken } from '../util/tokens.ts';
import type { AnswerLog } from './answers.ts';
import { WsSession } from './ws-session.ts';

export interface AttackNode {
  id: string;
  port: number;
  /** http://127.0.0.1:port */
  url: string;
  /** ws://127.0.0.1:port/ws */
  wsUrl: string;
}

/** The nodes' limits the attacks aim past (the scenario's server environment, else PROTOCOL.md's defaults). */
export interface NodeLimits {
  maxFrameBytes: number;
  maxBodyBytes: number;
  presenceSubsMax: number;
  groupMax: number;
  helloTimeoutMs: number;
  headersTimeoutMs: number;
}

export interface AttackContext {
  nodes: readonly AttackNode[];
  log: AnswerLog;
  limits: NodeLimits;
  /** no attack starts anything after this (ms since the Unix epoch) */
  deadline: number;
  seed: number;
  /** every attacker user id starts with it (never a workload user) */
  prefix: string;
  jwtSecret: string;
  /** opens an attack's event on the run's fault timeline (witnesses name the attacks in flight); the returned function ends it with what it counted */
  begin: (kind: string, node: string) => (detail: Record<string, unknown>) => void;
  /** attacker users made so far (attackerUser) */
  users: { next: number };
  /** attacks running now (`<kind> on <node>`), to say which one stalled */
  active: Map<string, number>;
}

/** True while the attack may go on: before the deadline and under its count. */
export const going = (ctx: AttackContext, done: number, count: number): boolean => done < count && Date.now() < ctx.deadline;

/** A fresh attacker user id (one per session, so MAX_DEVICES and 4409 replacements never come into play). */
export const attackerUser = (ctx: AttackContext, tag: string): string => `${ctx.prefix}${tag}${(ctx.users.next++).toString(36)}`;

/** A valid user token for `sub` (HS256 with the nodes' secret, 1 h). */
export function userToken(secret: string, sub: string, dev = 'd0'): Promise<string> {
  return mintToken(secret, sub, { dev });
}

/** Runs `fn` as attack `kind` on `node`, its span on the timeline (open while it runs) ending with what it counted. */
export async function timed(ctx: AttackContext, kind: string, node: AttackNode, fn: () => Promise<Record<string, unknown>>): Promise<void> {
  const end = ctx.begin(`attack:${kind}`, node.id);
  const key = `${kind} on ${node.id}`;
  ctx.active.set(key, (ctx.active.get(key) ?? 0) + 1);
  let detail: Record<string, unknown> = {};
  try {
    detail = await fn();
  } finally {
    const left = ctx.active.get(key)! - 1;
    if (left) ctx.active.set(key, left);
    else ctx.active.delete(key);
    end(detail);
  }
}

/** A welcomed session of `user` on `node` for `attack`; null when the node did not welcome it (its answer is recorded as kind hello.valid). */
export async function welcomed(ctx: AttackContext, node: AttackNode, attack: string, user: string): Promise<WsSession | null> {
  const s = await WsSession.hello(node.wsUrl, await userToken(ctx.jwtSecret, user));
  if (typeof s !== 'string') return s;
  ctx.log.one(attack, 'hello.valid', node.id, `hello of ${user} with a valid token`, s);
  return null;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
