// Transport abuse: upgrade requests reset mid-handshake on every path, half-sent headers,
// slowloris, sockets that never speak, WebSocket sessions that never say hello, ping
// floods, oversized, fragmented, binary and invalid UTF-8 frames.
import { show } from './answers.ts';
import { attackerUser, going, sleep, timed, welcomed, type AttackContext, type AttackNode } from './context.ts';
import { exchange, rawHttpAnswer, sendAndReset, upgradeRequest } from './raw-tcp.ts';
import { WsSession } from './ws-session.ts';

/** every path an upgrade is tried on: /ws and others (PROTOCOL.md: the WebSocket path is /ws; the rest are 404) */
const PATHS = ['/ws', '/', '/nope', '/ws/', '/ws/x', '/healthz', '/metrics', '/v1/messages', '/v1/groups', '/%ZZ', '/ws?x=1', `/${'a'.repeat(2000)}`];
const OTHER_PATHS = PATHS.filter((p) => p.split('?')[0] !== '/ws');
const HALF_SENT = [
  'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n',
  'GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n',
  'POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"conv":',
  'GARBAGE\r\n\r\n',
  'GET / HTTP/1.1\r\nHo',
];

export interface TransportParams {
  /** rounds of resets: each round resets an upgrade on every path and every half-sent request */
  resetRounds: number;
  /** slowloris, idle and hello-less sockets held per node (each kind) */
  idleSockets: number;
  /** WebSocket ping control frames per flood */
  pingFlood: number;
  /** rounds of the frame-level abuse (oversized, fragmented, binary, invalid UTF-8) */
  frameRounds: number;
}

export async function transportAttacks(ctx: AttackContext, node: AttackNode, p: TransportParams): Promise<void> {
  await Promise.all([
    timed(ctx, 'upgrade-reset', node, () => resets(ctx, node, p.resetRounds)),
    timed(ctx, 'slow-and-idle-sockets', node, () => idleSockets(ctx, node, p.idleSockets)),
    timed(ctx, 'frame-abuse', node, () => frameAbuse(ctx, node, p)),
  ]);
}

/** Upgrades on every path and half-sent requests, each reset (RST) 0–2 ms after writing; then each non-/ws upgrade once more, read to its answer (404). */
async function resets(ctx: AttackContext, node: AttackNode, rounds: number): Promise<Record<string, unknown>> {
  let n = 0;
  for (let r = 0; going(ctx, r, rounds); r++) {
    for (const path of PATHS) {
      ctx.log.tried('upgrade-reset');
      if (await sendAndReset(node.port, upgradeRequest(path), (r + n++) % 3)) continue;
      ctx.log.answer('upgrade-reset', 'tcp.connect', node.id, `upgrade ${path}`, 'refused');
    }
    for (const req of HALF_SENT) {
      ctx.log.tried('half-sent-reset');
      if (!(await sendAndReset(node.port, req, (r + n++) % 3))) ctx.log.answer('half-sent-reset', 'tcp.connect', node.id, req, 'refused');
    }
  }
  for (const path of OTHER_PATHS) {
    if (Date.now() > ctx.deadline) break;
    const a = await exchange(node.port, [upgradeRequest(path)], 0, 5000);
    ctx.log.one('upgrade-other-path', 'tcp.upgrade-other-path', node.id, `upgrade ${path.slice(0, 40)}`, a ? rawHttpAnswer(a) : 'refused');
  }
  return { rounds, paths: PATHS.length };
}

/** Slowloris (a header byte every 300 ms), idle TCP sockets and WebSocket sessions that never say hello: each must be closed by the node. */
async function idleSockets(ctx: AttackContext, node: AttackNode, count: number): Promise<Record<string, unknown>> {
  // the node checks its sockets' header deadline about once a second; the rest is slack for a busy machine
  const headersWait = ctx.limits.headersTimeoutMs + 1000 + 3000;
  const helloWait = ctx.limits.helloTimeoutMs + 3000;
  const slow = [...'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200)];
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < count && Date.now() < ctx.deadline; i++) {
    jobs.push(
      exchange(node.port, slow, 300, headersWait).then((a) => ctx.log.one('slowloris', 'tcp.slowloris', node.id, 'a header byte every 300 ms', a ? (a.closed ? rawHttpAnswer(a) : `open-after-${headersWait}ms`) : 'refused')),
      exchange(node.port, [], 0, headersWait).then((a) => ctx.log.one('idle-socket', 'tcp.idle', node.id, 'connect, send nothing', a ? (a.closed ? rawHttpAnswer(a) : `open-after-${headersWait}ms`) : 'refused')),
      (async () => {
        const s = await WsSession.open(node.wsUrl);
        if (!s) return ctx.log.one('no-hello', 'ws.no-hello', node.id, 'upgrade, never hello', 'refused');
        const closed = await s.until(() => s.closeCode !== null, helloWait);
        ctx.log.one('no-hello', 'ws.no-hello', node.id, 'upgrade, never hello', closed ? `close:${s.closeCode}` : `open-after-${helloWait}ms`);
        s.kill();
      })(),
    );
  }
  await Promise.all(jobs);
  return { sockets: count * 3 };
}

/** A welcomed session of a fresh attacker user (null: the node would not welcome it, recorded as the answer). */
const session = (ctx: AttackContext, node: AttackNode, attack: string) => welcomed(ctx, node, attack, attackerUser(ctx, 't'));

/** The answer a closed (or closing) session got: its close code, or that it stayed open. */
async function closeOf(s: WsSession, ms = 5000): Promise<string> {
  const closed = await s.until(() => s.closeCode !== null, ms);
  s.kill();
  return closed ? `close:${s.closeCode}` : `open-after-${ms}ms`;
}

async function frameAbuse(ctx: AttackContext, node: AttackNode, p: TransportParams): Promise<Record<string, unknown>> {
  const max = ctx.limits.maxFrameBytes;
  for (let r = 0; going(ctx, r, p.frameRounds); r++) {
    // a ping flood, then a request: the connection still answers
    let s = await session(ctx, node, 'ping-flood');
    if (s) {
      for (let i = 0; i < p.pingFlood; i++) s.ping();
      s.text('{"t":"ping","id":"after-flood"}');
      await s.until(() => s!.byId.has('after-flood') || s!.closeCode !== null, 10_000);
      ctx.log.tried('ping-flood', p.pingFlood);
      ctx.log.answer('ping-flood', 'ws.ping-flood', node.id, `${p.pingFlood} pings, then {"t":"ping"}`, s.answerFor('after-flood'));
      s.kill();
    }
    // a frame over MAX_FRAME_BYTES, after and before hello
    if ((s = await session(ctx, node, 'oversized-frame'))) {
      s.text(`{"t":"ping","pad":"${'o'.repeat(max)}"}`);
      ctx.log.one('oversized-frame', 'ws.oversized', node.id, `text frame of ${max + 20} bytes`, await closeOf(s));
    }
    const pre = await WsSession.open(node.wsUrl);
    if (pre) {
      pre.text('h'.repeat(max + 1));
      ctx.log.one('oversized-frame', 'ws.oversized', node.id, `first frame of ${max + 1} bytes`, await closeOf(pre));
    }
    // fragments of one request; and fragments that add up past MAX_FRAME_BYTES
    if ((s = await session(ctx, node, 'fragmented-frame'))) {
      s.text('{"t":"pi', false);
      s.text('ng","id":"fr', false);
      s.text('ag"}', true);
      await s.until(() => s!.byId.has('frag') || s!.closeCode !== null, 5000);
      ctx.log.one('fragmented-frame', 'ws.fragmented', node.id, '{"t":"ping","id":"frag"} in 3 fragments', s.answerFor('frag'));
      const part = Math.ceil(max / 3) + 1;
      for (let i = 0; i < 3; i++) s.text('f'.repeat(part), false);
      s.text('x', true);
      ctx.log.one('fragmented-frame', 'ws.fragmented-oversized', node.id, `4 fragments adding up to ${3 * part + 1} bytes`, await closeOf(s));
    }
    // binary frames, after and before hello
    if ((s = await session(ctx, node, 'binary-frame'))) {
      const b = Buffer.from(JSON.stringify({ t: 'ping', id: 'bin' }));
      s.binary(b);
      s.text('{"t":"ping","id":"after-bin"}');
      await s.until(() => s!.byId.has('after-bin') || s!.closeCode !== null, 5000);
      ctx.log.one('binary-frame', 'ws.binary', node.id, show(b), s.unaddressed[0] ? `error:${s.unaddressed[0].code}` : s.answerFor('bin'));
      s.kill();
    }
    if ((s = await WsSession.open(node.wsUrl))) {
      s.binary(Buffer.from([0, 1, 2, 3]));
      const close = await closeOf(s);
      ctx.log.one('binary-frame', 'ws.first-frame', node.id, 'a binary first frame', `${s.unaddressed[0] ? `error:${s.unaddressed[0].code}` : 'no-error'}+${close}`);
    }
    // a text frame that is not UTF-8
    if ((s = await session(ctx, node, 'invalid-utf8'))) {
      const bad = Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]);
      s.text(bad);
      ctx.log.one('invalid-utf8', 'ws.invalid-utf8', node.id, show(bad), await closeOf(s));
    }
    await sleep(10);
  }
  return { rounds: p.frameRounds };
}
