// Request floods: `history` and `presence.sub` pipelines from clients that stop reading
// (PROTOCOL.md: pages are paced by the socket draining; a reader that never drains is cut
// by the heartbeat, 4408, or as a slow consumer, 4413), and /metrics scrapes.
import { REQUEST_LIMITS } from '../../server/gateway/request-pacer.ts';
import { attackerUser, going, sleep, timed, welcomed, type AttackContext, type AttackNode } from './context.ts';
import { httpAttempt } from './raw-tcp.ts';
import { WsSession } from './ws-session.ts';

export interface FloodParams {
  /** clients per node pipelining `history` while not reading */
  historyClients: number;
  /** `history` requests each of them pipelines */
  historyRequests: number;
  /** clients per node pipelining `presence.sub` of PRESENCE_SUBS_MAX users while not reading */
  presenceClients: number;
  presenceRequests: number;
  /** how long they hold off reading before they read again */
  holdMs: number;
  /** GET /metrics per node */
  metricsScrapes: number;
}

/** messages stored in each flooding client's dm, so every page is full (100 messages) */
const STOCK = 100;
const STOCK_BODY = 'h'.repeat(200);

export async function floods(ctx: AttackContext, node: AttackNode, p: FloodParams): Promise<void> {
  await Promise.all([
    ...Array.from({ length: p.historyClients }, () => timed(ctx, 'history-pipeline', node, () => historyFlood(ctx, node, p))),
    ...Array.from({ length: p.presenceClients }, () => timed(ctx, 'presence-pipeline', node, () => presenceFlood(ctx, node, p))),
    timed(ctx, 'metrics-scrapes', node, () => scrapes(ctx, node, p.metricsScrapes)),
  ]);
}

/** Writes `frames` while not reading, holds, reads again, and records each request's answer (page/ok, rate_limited, or the close that ended it). */
/**
 * How long the node takes to start `count` requests of `cost` each under a per-connection
 * budget (server/gateway/request-pacer.ts): past its burst the node reads no faster than
 * the budget refills, so the answers to a long pipeline come that much later.
 */
function pacedMs(count: number, cost: number, budget: { rate: number; burst: number }): number {
  const each = Math.min(cost, budget.burst);
  return Math.max(0, ((count * each - budget.burst) / budget.rate) * 1000);
}

async function pipeline(ctx: AttackContext, s: WsSession, node: AttackNode, attack: string, kind: string, frames: (id: string) => string, count: number, holdMs: number, answersPacedMs: number): Promise<number> {
  s.socket.pause();
  const ids: string[] = [];
  for (let i = 0; going(ctx, i, count) && s.isOpen; i++) {
    const id = `${attack[0]}${i}`;
    ids.push(id);
    s.text(frames(id));
    // let the socket write what it can (our own buffer stays bounded by the count)
    if (i % 100 === 99) await sleep(1);
  }
  await sleep(holdMs);
  s.socket.resume();
  const last = ids.at(-1);
  await s.until(() => (last !== undefined && s.byId.has(last)) || s.closeCode !== null, 15_000 + answersPacedMs);
  await sleep(200);
  for (const id of ids) ctx.log.one(attack, kind, node.id, frames(id).slice(0, 120), s.answerFor(id));
  s.kill();
  return ids.length;
}

async function historyFlood(ctx: AttackContext, node: AttackNode, p: FloodParams): Promise<Record<string, unknown>> {
  const me = attackerUser(ctx, 'h');
  const conv = `dm:${[me, `${me}p`].sort().join(':')}`;
  const s = await welcomed(ctx, node, 'history-pipeline', me);
  if (!s) return {};
  for (let i = 0; i < STOCK; i++) s.text(JSON.stringify({ t: 'send', id: `s${i}`, conv, cmid: `c${i}`, body: STOCK_BODY }));
  await s.until(() => s.byId.has(`s${STOCK - 1}`) || s.closeCode !== null, 10_000);
  const n = await pipeline(ctx, s, node, 'history-pipeline', 'flood.history', (id) => JSON.stringify({ t: 'history', id, conv, limit: 100 }), p.historyRequests, p.holdMs, pacedMs(p.historyRequests, 1, REQUEST_LIMITS.history));
  return { requests: n, pageMessages: STOCK };
}

async function presenceFlood(ctx: AttackContext, node: AttackNode, p: FloodParams): Promise<Record<string, unknown>> {
  const me = attackerUser(ctx, 'p');
  const s = await welcomed(ctx, node, 'presence-pipeline', me);
  if (!s) return {};
  const users = JSON.stringify(Array.from({ length: ctx.limits.presenceSubsMax }, (_, i) => `${ctx.prefix}w${i}`));
  const n = await pipeline(ctx, s, node, 'presence-pipeline', 'flood.presence', (id) => `{"t":"presence.sub","id":"${id}","users":${users}}`, p.presenceRequests, p.holdMs, pacedMs(p.presenceRequests, ctx.limits.presenceSubsMax, REQUEST_LIMITS.presenceUsers));
  return { requests: n, usersPerRequest: ctx.limits.presenceSubsMax };
}

async function scrapes(ctx: AttackContext, node: AttackNode, count: number): Promise<Record<string, unknown>> {
  let i = 0;
  const worker = async () => {
    while (going(ctx, i, count)) {
      i++;
      ctx.log.one('metrics-scrapes', 'http.metrics', node.id, 'GET /metrics', await httpAttempt(`${node.url}/metrics`));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return { scrapes: i };
}
