// Protocol abuse on welcomed connections: fast-check frames (frames.ts) in windows of at
// most nine, each window closed by a ping (bad frames count toward the 4400 limit only
// ten in a row), every frame's answer matched to it: by its id when it carried one, else
// in order among the error frames without an id that came before the window's pong.
// Each session ends with ten bad frames in a row, which must close it 4400.
import { attackerUser, going, timed, welcomed, type AttackContext, type AttackNode } from './context.ts';
import { badFrames, notHello, sampled, type BadFrame } from './frames.ts';
import { WsSession } from './ws-session.ts';

export interface FuzzParams {
  /** bad frames per node, in all */
  frames: number;
  /** sessions per node sending them at once */
  sessions: number;
  /** first frames that are not hello, per node (each on its own connection) */
  notHello: number;
}

const WINDOW = 9;
/** kinds whose error cannot carry the request's id (the frame is not JSON, or its id is not a valid one, or it is refused before it is parsed) */
const NO_ID = new Set(['frame.not-json', 'frame.not-object', 'frame.bad-id', 'frame.proto-only', 'frame.deep']);
const ASYNC_WAIT_MS = 5000;

export async function protocolFuzz(ctx: AttackContext, node: AttackNode, nodeIndex: number, p: FuzzParams): Promise<void> {
  await Promise.all([
    ...Array.from({ length: p.sessions }, (_, i) =>
      timed(ctx, 'protocol-fuzz', node, () => fuzzSession(ctx, node, ctx.seed + nodeIndex * 1000 + i, Math.ceil(p.frames / p.sessions))),
    ),
    timed(ctx, 'not-hello', node, () => firstFrames(ctx, node, ctx.seed + nodeIndex * 1000 + 999, p.notHello)),
  ]);
}

async function fuzzSession(ctx: AttackContext, node: AttackNode, seed: number, count: number): Promise<Record<string, unknown>> {
  const me = attackerUser(ctx, 'f');
  const ownDm = `dm:${[me, `${me}p`].sort().join(':')}`;
  const foreignDm = `dm:${ctx.prefix}x1:${ctx.prefix}x2`;
  const frames = sampled(badFrames({ ownDm, foreignDm, maxBodyBytes: ctx.limits.maxBodyBytes, presenceSubsMax: ctx.limits.presenceSubsMax }), seed, count);
  const s = await welcomed(ctx, node, 'protocol-fuzz', me);
  let stocked = false;
  if (s) {
    // one message, so the own dm exists (an ack past its head is then clamped: `ok`)
    const first = s;
    first.text(JSON.stringify({ t: 'send', id: 'stock', conv: ownDm, cmid: 'stock', body: 'x' }));
    await first.until(() => first.byId.has('stock') || first.closeCode !== null, 5000);
    stocked = first.byId.get('stock')?.[0]?.t === 'sent';
  }
  let sent = 0;
  let n = 0;
  /** frames whose answer may come after their window's pong (matched by id at the end) */
  const later: { frame: BadFrame; id: string; text: string }[] = [];
  while (s && going(ctx, sent, count)) {
    const window: { frame: BadFrame; id: string; text: string }[] = [];
    for (let i = 0; i < WINDOW && sent < count; i++, sent++) {
      const r = frames.next();
      if (r.done) break;
      const id = `f${n++}`;
      const text = r.value.build(id);
      window.push({ frame: r.value, id, text });
      s.text(text);
    }
    const sentinel = `w${n++}`;
    s.text(`{"t":"ping","id":"${sentinel}"}`);
    await s.until(() => s!.byId.has(sentinel) || s!.closeCode !== null, 10_000);
    const sess = s;
    const queue = sess.unaddressed.splice(0);
    for (const w of window) {
      if (sess.byId.has(w.id)) later.push(w);
      else if (NO_ID.has(w.frame.kind) && queue.length) ctx.log.one('protocol-fuzz', w.frame.kind, node.id, w.text, `error:${queue.shift()!.code}`);
      else later.push(w);
    }
    // an error without an id that no frame of the window can have caused
    for (const e of queue) ctx.log.answer('protocol-fuzz', 'frame.extra-reply', node.id, window.map((w) => w.text).join(' | '), `error:${e.code}`);
    if (sess.closeCode !== null) break;
  }
  if (!s) return { frames: 0 };
  const sess = s;
  await sess.until(() => later.every((w) => sess.byId.has(w.id)) || sess.closeCode !== null, ASYNC_WAIT_MS);
  for (const w of later) ctx.log.one('protocol-fuzz', w.frame.kind === 'frame.ack-past-head' && !stocked ? 'frame.ack-implicit-dm' : w.frame.kind, node.id, w.text, sess.answerFor(w.id));
  // ten bad frames in a row: PROTOCOL.md closes the connection 4400
  if (sess.closeCode === null) {
    for (let i = 0; i < 10; i++) sess.text('not json');
    const closed = await sess.until(() => sess.closeCode !== null, 5000);
    ctx.log.one('protocol-fuzz', 'frame.ten-bad', node.id, '10 × "not json" in a row', closed ? `close:${sess.closeCode}` : 'open-after-5000ms');
  }
  sess.kill();
  return { frames: sent, seed };
}

/** Connections whose first frame is not hello: `error` `unauthorized`, close 4401. */
async function firstFrames(ctx: AttackContext, node: AttackNode, seed: number, count: number): Promise<Record<string, unknown>> {
  let i = 0;
  for (const text of sampled(notHello, seed, count)) {
    if (!going(ctx, i++, count)) break;
    const s = await WsSession.open(node.wsUrl);
    if (!s) {
      ctx.log.one('not-hello', 'hello.not-hello', node.id, text, 'refused');
      continue;
    }
    s.text(text);
    const closed = await s.until(() => s.closeCode !== null, 5000);
    const err = s.unaddressed[0] ? `error:${s.unaddressed[0].code}` : [...s.byId.values()].flat().map((r) => (r.t === 'error' ? `error:${r.code}#id` : r.t))[0] ?? 'no-error';
    ctx.log.one('not-hello', 'hello.not-hello', node.id, text, `${err}+${closed ? `close:${s.closeCode}` : 'open'}`);
    s.kill();
  }
  return { connections: count };
}
