// fast-check commands for the model-based protocol tests: each one acts on the real cluster,
// checks what the cluster answered against the model (model.ts), then updates the
// model. After every command, checkLive compares every open connection's `msg` frames with
// what the model says that device is owed. A thrown Error is a violation; its message names
// the device, conversation and seq.
import fc from 'fast-check';
import { sleep, waitUntil } from '../env/procs.ts';
import { api } from '../util/http-api.ts';
import { Client, type Frame } from '../util/ws-client.ts';
import {
  bodyOf,
  conv,
  acksMayBeLost,
  cursorHi,
  cursorLo,
  endFor,
  expectedSeqs,
  head,
  healthy,
  isMemberNow,
  laterJoins,
  lastMembership,
  listedCursor,
  startFor,
  type ConvModel,
  type DeviceModel,
  type Model,
} from './model.ts';
import { readyz, STORE_TIMEOUT_MS, tokenFor, type Real } from './world.ts';

type Cmd = fc.AsyncCommand<Model, Real, false>;

/** How long an open connection on a healthy node may take to get what it is owed. */
const DELIVERY_MS = 6000;
/** a request is answered within STORE_TIMEOUT_MS plus slack, also with the link cut */
const STORE_WAIT_MS = STORE_TIMEOUT_MS + 7000;

/** What the runs exercised beyond the command counts, so a budget that never reaches a case shows it. */
export const exercised = { resendsDup: 0, cutSendsUnknown: 0, unknownStoredBeforeRetry: 0, unknownStoredByRetry: 0, unknownRefusedAfterLeave: 0, acksAboveHead: 0, historyRefused: 0, connectStartsChecked: 0 };

const fail = (msg: string): never => {
  throw new Error(`model violation: ${msg}`);
};

const show = (f: Frame | undefined): string => (f ? JSON.stringify(f).slice(0, 300) : 'nothing');

function anyHealthyNode(m: Model): number {
  const i = m.nodes.findIndex((_, n) => healthy(m, n));
  return i < 0 ? fail('no healthy node for an HTTP call (the commands\' preconditions should prevent this)') : i;
}

/** Where the connection's frames for `c` stand against the model: error text, 'short' (a prefix), or 'ok'. */
function compareMsgs(m: Model, d: DeviceModel, client: Client, c: ConvModel): string | 'short' | 'ok' {
  const start = d.conn!.start.get(c.id);
  const exp = start === undefined ? [] : expectedSeqs(c, d.user, start);
  const got = client.msgs(c.id);
  for (let i = 0; i < got.length; i++) {
    const f = got[i]!;
    const s = exp[i];
    if (s === undefined) return `${d.key} got msg ${c.id} seq ${f.seq} (${f.from}/${f.cmid}) beyond what it is owed [${exp.join(',')}] (start ${start}, membership ${JSON.stringify(c.members.get(d.user) ?? [])})`;
    const e = c.log[s - 1]!;
    if (f.seq !== s) return `${d.key} got msg ${c.id} seq ${f.seq} where seq ${s} was owed (owed [${exp.join(',')}], got [${got.map((x) => x.seq).join(',')}])`;
    if (f.from !== e.from || f.cmid !== e.cmid || f.body !== e.body) return `${d.key} got msg ${c.id} seq ${s} as ${f.from}/${f.cmid} "${f.body}", the log holds ${e.from}/${e.cmid} "${e.body}"`;
  }
  return got.length === exp.length ? 'ok' : 'short';
}

/**
 * Every open connection's `msg` frames against the model. On a healthy node they must reach
 * exactly what the device is owed within DELIVERY_MS; on a node whose Redis link is cut they
 * need only be a correct prefix (they catch up after the heal, which checks them again).
 */
export async function checkLive(m: Model, r: Real, settleMs = 0): Promise<void> {
  if (settleMs) await sleep(settleMs);
  const deadline = Date.now() + DELIVERY_MS;
  for (const d of m.devices) {
    if (!d.conn) continue;
    const client = r.clients.get(d.key)!;
    for (;;) {
      if (client.junk.length) fail(`${d.key} received an undecodable frame: ${client.junk[0]!.error}`);
      const gap = client.frames.find((f) => f.t === 'gap');
      if (gap) fail(`${d.key} got ${show(gap)}: nothing was trimmed and no backlog is over BACKLOG_LIMIT`);
      let short: string | undefined;
      for (const c of m.convs) {
        const v = compareMsgs(m, d, client, c);
        if (v === 'short') short = c.id;
        else if (v !== 'ok') fail(v);
      }
      if (client.closed) fail(`${d.key} on node ${d.conn.node} was closed ${client.closed.code} ${client.closed.reason} with no command closing it`);
      if (!short || !healthy(m, d.conn.node)) break;
      if (Date.now() > deadline) {
        const c = conv(m, short);
        fail(`${d.key} on node ${d.conn.node} still lacks messages of ${c.id} after ${DELIVERY_MS} ms: owed [${expectedSeqs(c, d.user, d.conn.start.get(c.id) ?? head(c)).join(',')}], got [${client.msgs(c.id).map((x) => x.seq).join(',')}]`);
      }
      await sleep(25);
    }
  }
}

/**
 * The backlog a fresh connection got (up to `synced`) against the model: for each
 * conversation, a `conv` frame exactly when something is owed, its cursor within what the
 * device's acks allow ([lo, hi]: acks are written about once a second, so a cursor between is
 * fine), then that conversation's messages from cursor+1. Records where each one started.
 */
function checkBacklog(m: Model, d: DeviceModel, client: Client, node: number): void {
  const frames = client.frames;
  const syncedAt = frames.findIndex((f) => f.t === 'synced');
  const backlog = frames.slice(0, syncedAt);
  const start = new Map<string, number>();
  for (const f of backlog) if (f.t === 'conv' && !m.convs.some((c) => c.id === f.conv)) fail(`${d.key} got ${show(f)} for a conversation it never was in`);
  for (const c of m.convs) {
    const { join } = lastMembership(c, d.user);
    const convFrames = backlog.filter((f) => f.t === 'conv' && f.conv === c.id);
    if (join < 0 || (c.kind === 'dm' && head(c) === 0)) {
      if (convFrames.length) fail(`${d.key} got ${show(convFrames[0])}: never a member (or nothing stored yet)`);
      // a later join or first dm message delivers from the head on
      start.set(c.id, head(c));
      continue;
    }
    const end = endFor(c, d.user);
    const lo = startFor(c, d.user, cursorLo(d, c.id));
    const hi = startFor(c, d.user, cursorHi(d, c.id));
    // a member who left and joined again may get each earlier membership's part first, then
    // a conv frame from each later join point, in order, all before `synced` (since 2026-12-04
    // the connect sync waits for those attaches: PROTOCOL.md Connect 3)
    const cursors = convFrames.map((f) => (f.t === 'conv' ? f.cursor : -1));
    const joins = laterJoins(c, d.user, cursors[0] ?? 0);
    const again = cursors.length > 1 && lo < join && cursors.slice(1).every((cur, i) => cur > cursors[i]! && joins.includes(cur));
    if (convFrames.length > 1 && !again) fail(`${d.key} got ${convFrames.length} conv frames for ${c.id} in one backlog (cursors ${cursors.join(', ')}; membership ${JSON.stringify(c.members.get(d.user))})`);
    const cf = convFrames[0];
    if (!cf) {
      if (hi < end) fail(`${d.key} connected to node ${node} and got no backlog for ${c.id}: its cursor is at most ${hi} (acks asked for ${cursorHi(d, c.id)}), head ${head(c)}, owed up to ${end}, membership ${JSON.stringify(c.members.get(d.user))}`);
      start.set(c.id, end);
      continue;
    }
    if (cf.cursor < lo || cf.cursor > hi) fail(`${d.key} got ${show(cf)}: cursor must be in [${lo}, ${hi}] (acked ${cursorLo(d, c.id)}..${cursorHi(d, c.id)}, membership ${JSON.stringify(c.members.get(d.user))})`);
    if (cf.cursor >= end) fail(`${d.key} got ${show(cf)} with nothing owed (owed up to ${end})`);
    if (cf.head !== head(c)) fail(`${d.key} got ${show(cf)}: the head is ${head(c)}`);
    const seen = m.epochs.get(c.id);
    if (seen === undefined) m.epochs.set(c.id, cf.epoch);
    else if (seen !== cf.epoch) fail(`${d.key} got ${show(cf)}: epoch changed from ${seen} with no data lost`);
    start.set(c.id, cf.cursor);
  }
  d.conn = { node, start };
  exercised.connectStartsChecked += [...start.values()].length;
  // the messages themselves are compared (and waited for) by checkLive
}

/** A request and its one final reply echoing its id (PROTOCOL.md "WebSocket"); none within STORE_WAIT_MS is a violation. */
function ask(d: DeviceModel, client: Client, frame: Record<string, unknown>): Promise<Frame> {
  return client.request(frame, STORE_WAIT_MS).catch((err: Error) => fail(`${d.key} ${JSON.stringify(frame)} got no reply echoing its id: ${err.message}`));
}

async function open(m: Model, r: Real, d: DeviceModel, node: number): Promise<Client> {
  const n = r.world.nodes[node]!;
  const client = await Client.connect(n.wsUrl);
  r.opened.push(client);
  const tok = await tokenFor(d.user, d.device);
  client.send({ t: 'hello', v: 1, token: tok });
  const first = await client.waitFor((f) => f.t === 'welcome' || f.t === 'error', 10_000).catch((err: Error) => fail(`${d.key} hello on node ${node}: ${err.message}`));
  if (first.t !== 'welcome') fail(`${d.key} hello on healthy node ${node} answered ${show(first)}`);
  await client.waitSynced(10_000).catch((err: Error) => fail(`${d.key} on node ${node}: no synced: ${err.message}`));
  return client;
}

const devIdx = fc.integer({ min: 0, max: 3 });

/**
 * The `pick`-th (modulo) of the devices `ok` accepts, or -1: a command names a device among
 * those it can act on, so few generated commands are skipped, and shrinking keeps them valid.
 */
/**
 * How a command names its device: `d#2` is the third (modulo) of the devices it can act on
 * at that point (for connect: the unconnected ones; else the connected ones). Command objects
 * are shared between a run and its shrink candidates, so the name shows the pick, which the
 * sequence alone determines; the violation message names the device itself (user/device).
 */
const devName = (pick: number): string => `d#${pick}`;

function choose(m: Readonly<Model>, pick: number, ok: (d: DeviceModel) => boolean): number {
  const idx = m.devices.flatMap((d, i) => (ok(d) ? [i] : []));
  return idx.length ? idx[pick % idx.length]! : -1;
}
const nodeIdx = fc.integer({ min: 0, max: 1 });
const convIdx = fc.integer({ min: 0, max: 1 });

export class Connect implements Cmd {
  /** which device this command acts on, resolved by check() from `pick` among the devices it can act on */
  dev = -1;
  readonly pick: number;
  readonly node: number;
  constructor(dev: number, node: number) {
    this.pick = dev; this.node = node;
  }
  check = (m: Readonly<Model>) => (this.dev = choose(m, this.pick, (d) => !d.conn)) >= 0 && healthy(m, this.node);
  async run(m: Model, r: Real) {
    const d = m.devices[this.dev]!;
    const client = await open(m, r, d, this.node);
    r.clients.set(d.key, client);
    checkBacklog(m, d, client, this.node);
    await checkLive(m, r);
  }
  toString = () => `connect(${devName(this.pick)}, node${this.node})`;
}

class Replace implements Cmd {
  /** which device this command acts on, resolved by check() from `pick` among the devices it can act on */
  dev = -1;
  readonly pick: number;
  readonly node: number;
  constructor(dev: number, node: number) {
    this.pick = dev; this.node = node;
  }
  check = (m: Readonly<Model>) => (this.dev = choose(m, this.pick, (d) => !!d.conn && healthy(m, d.conn.node))) >= 0 && healthy(m, this.node);
  async run(m: Model, r: Real) {
    const d = m.devices[this.dev]!;
    const old = r.clients.get(d.key)!;
    const oldNode = d.conn!.node;
    r.clients.delete(d.key);
    d.conn = undefined;
    const client = await open(m, r, d, this.node);
    const closed = await old.waitClose(8000).catch(() => fail(`${d.key}: the older connection was not closed after its device connected again on node ${this.node}`));
    if (closed.code !== 4409) fail(`${d.key}: the replaced connection closed ${closed.code} ${closed.reason}, not 4409`);
    r.clients.set(d.key, client);
    // the old connection's acks are flushed at its close, which may land before or after the
    // new one read its cursor: checkBacklog allows any cursor in [lo, hi]
    checkBacklog(m, d, client, this.node);
    // A healthy node closing the replaced connection writes its acks, as at a graceful close:
    // confirmed here, since a later cut or kill of that node may lose them while unwritten
    // (allowed: an unhealthy node's close may), which the model would take as a cursor short of
    // its acks (imstorm explore --model --seed 5 found that race: replace, then cut the old node)
    if (healthy(m, oldNode)) await confirmCursors(m, r, d);
    await checkLive(m, r);
  }
  toString = () => `replace(${devName(this.pick)}, node${this.node})`;
}

/** GET /v1/conversations for the device until every cursor is what its acks asked for (a graceful close flushes them). */
async function confirmCursors(m: Model, r: Real, d: DeviceModel): Promise<void> {
  const url = r.world.nodes[anyHealthyNode(m)]!.url;
  const tok = await tokenFor(d.user, d.device);
  const want = (c: ConvModel) => listedCursor(c, d.user, cursorHi(d, c.id));
  const lows = (c: ConvModel) => listedCursor(c, d.user, cursorLo(d, c.id));
  let last = '';
  const reached = new Set<string>();
  // a violation stops the polling at once (waitUntil would retry past a thrown one)
  let violation: string | undefined;
  await waitUntil(
    async () => {
      const res = await api(url, 'GET', '/v1/conversations', { token: tok });
      if (res.status !== 200) return (violation = `${d.key}: GET /v1/conversations answered ${res.status} ${res.text}`);
      last = JSON.stringify(res.body.convs);
      const listed = new Map<string, { cursor: number; head: number }>(res.body.convs.map((x: { conv: string; cursor: number; head: number }) => [x.conv, x]));
      let done = true;
      for (const c of m.convs) {
        const got = listed.get(c.id);
        if (!got) continue;
        if (got.head !== head(c)) return (violation = `${d.key}: GET /v1/conversations says ${c.id} head ${got.head}, the model ${head(c)}`);
        if (got.cursor > want(c)) return (violation = `${d.key}: cursor of ${c.id} is ${got.cursor} after a close, above the ${want(c)} its acks asked for (a message it never acked counts as delivered)`);
        if (got.cursor < lows(c)) return (violation = `${d.key}: cursor of ${c.id} went back to ${got.cursor} below ${lows(c)}`);
        // unsure: an earlier ack may be lost, so any cursor in the bounds is right
        if (got.cursor !== want(c) && !d.unsure.has(c.id)) done = false;
        else if (got.cursor === want(c)) reached.add(c.id);
      }
      return done;
    },
    { what: `${d.key}'s acks flushed at its close`, timeoutMs: 4000, intervalMs: 40 },
  ).catch((err: Error) => fail(`${d.key}: cursors never reached its acks after a graceful close (${err.message}); last ${last}`));
  if (violation) fail(violation);
  for (const c of m.convs) {
    // an unsure conv stays unsure (and its lo where it was) unless the store showed it at hi
    if (d.unsure.has(c.id) && !reached.has(c.id)) continue;
    d.unsure.delete(c.id);
    d.lo.set(c.id, cursorHi(d, c.id));
  }
}

export class Disconnect implements Cmd {
  /** which device this command acts on, resolved by check() from `pick` among the devices it can act on */
  dev = -1;
  readonly pick: number;
  constructor(dev: number) {
    this.pick = dev;
  }
  check = (m: Readonly<Model>) => (this.dev = choose(m, this.pick, (d) => !!d.conn)) >= 0;
  async run(m: Model, r: Real) {
    const d = m.devices[this.dev]!;
    const client = r.clients.get(d.key)!;
    const node = d.conn!.node;
    r.clients.delete(d.key);
    d.conn = undefined;
    client.close();
    await client.waitClose(5000);
    // a close on a node that cannot reach Redis may lose its acks: only a healthy node's close must flush them
    if (healthy(m, node)) await confirmCursors(m, r, d);
    else acksMayBeLost(m, d);
    await checkLive(m, r);
  }
  toString = () => `disconnect(${devName(this.pick)})`;
}

/**
 * A command of one device in one conversation (Send, Ack): check() resolves the device from
 * `pick` among those that can act, and takes the other conversation when the one asked for
 * is not usable by that device's user.
 */
abstract class DeviceConvCmd {
  /** which device this command acts on, resolved by check() from `pick` among the devices it can act on */
  dev = -1;
  readonly pick: number;
  /** the conversation (0 dm, 1 group) asked for, and the one taken */
  readonly wantConv: number;
  convI: number;
  constructor(dev: number, convI: number) {
    this.pick = dev;
    this.wantConv = this.convI = convI;
  }
  protected resolve(m: Readonly<Model>, canAct: (d: DeviceModel) => boolean, usable: (d: DeviceModel, c: ConvModel) => boolean): boolean {
    this.dev = choose(m, this.pick, (d) => canAct(d) && m.convs.some((c) => usable(d, c)));
    if (this.dev < 0) return false;
    this.convI = usable(m.devices[this.dev]!, m.convs[this.wantConv]!) ? this.wantConv : 1 - this.wantConv;
    return true;
  }
}

export class Send extends DeviceConvCmd implements Cmd {
  readonly cmid: string;
  constructor(dev: number, convI: number, cmid: string) {
    super(dev, convI);
    this.cmid = cmid;
  }
  check = (m: Readonly<Model>) => this.resolve(m, (d) => !!d.conn, (d, c) => isMemberNow(c, d.user));
  async run(m: Model, r: Real) {
    const d = m.devices[this.dev]!;
    const c = m.convs[this.convI]!;
    const client = r.clients.get(d.key)!;
    const key = `${d.user}\n${this.cmid}`;
    const body = bodyOf(d.user, this.cmid);
    const ans = await ask(d, client, { t: 'send', conv: c.id, cmid: this.cmid, body });
    const cut = m.nodes[d.conn!.node]!.cut;
    if (cut) {
      // The node cannot reach Redis: nothing can be stored while the link is cut, so the
      // only answers allowed are the unknown-outcome ones. Whether the node's queued write
      // lands after the heal is unknown: Heal retries it with the same cmid and learns.
      if (ans.t !== 'error' || !['unavailable', 'internal'].includes(ans.code) || ans.retryable !== true) fail(`${d.key} send ${c.id}/${this.cmid} on node ${d.conn!.node} with its Redis link cut answered ${show(ans)}, not a retryable unavailable`);
      exercised.cutSendsUnknown++;
      if (!c.dedupe.has(key) && !m.uncertain.some((u) => u.conv === c.id && u.sender === d.user && u.cmid === this.cmid)) m.uncertain.push({ conv: c.id, sender: d.user, cmid: this.cmid, body });
    } else {
      if (ans.t !== 'sent') fail(`${d.key} send ${c.id}/${this.cmid} on healthy node ${d.conn!.node} answered ${show(ans)}`);
      const known = c.dedupe.get(key);
      if (known !== undefined) {
        exercised.resendsDup++;
        if (ans.dup !== true || ans.seq !== known) fail(`${d.key} resent ${c.id}/${this.cmid} (stored as seq ${known}) and got ${show(ans)}: must be dup:true seq ${known}`);
      } else {
        // a key left uncertain by a cut is resolved at the heal, before any send on a healthy
        // node could meet it, except a send on the other node during the cut: nothing of the
        // cut node's reached Redis then, so this one is new either way
        if (ans.dup !== false || ans.seq !== head(c) + 1) fail(`${d.key} sent ${c.id}/${this.cmid} for the first time from ${d.user} and got ${show(ans)}: must be dup:false seq ${head(c) + 1}`);
        c.log.push({ seq: ans.seq, from: d.user, cmid: this.cmid, body });
        c.dedupe.set(key, ans.seq);
        m.uncertain = m.uncertain.filter((u) => !(u.conv === c.id && u.sender === d.user && u.cmid === this.cmid));
      }
    }
    await checkLive(m, r);
  }
  override toString = () => `send(${devName(this.pick)}, ${this.wantConv ? 'group' : 'dm'}, ${this.cmid})`;
}

export class Ack extends DeviceConvCmd implements Cmd {
  readonly aboveHead: boolean;
  constructor(dev: number, convI: number, aboveHead: boolean) {
    super(dev, convI);
    this.aboveHead = aboveHead;
  }
  check = (m: Readonly<Model>) => this.resolve(m, (d) => !!d.conn && healthy(m, d.conn.node), (d, c) => isMemberNow(c, d.user) && head(c) > 0);
  async run(m: Model, r: Real) {
    const d = m.devices[this.dev]!;
    const c = m.convs[this.convI]!;
    const client = r.clients.get(d.key)!;
    // a device acks what it holds (checkLive saw it get everything owed), or claims more than exists
    const held = client.msgs(c.id).at(-1)?.seq ?? head(c);
    const seq = this.aboveHead ? head(c) + 3 : held;
    if (this.aboveHead) exercised.acksAboveHead++;
    const ans = await ask(d, client, { t: 'ack', conv: c.id, seq });
    if (ans.t !== 'ok') fail(`${d.key} ack ${c.id} ${seq} answered ${show(ans)}`);
    // "The cursor only moves forward and never past the head"
    const asked = Math.min(seq, head(c));
    // an ack at the highest the device ever asked for makes a lost earlier one moot once written
    if (asked >= cursorHi(d, c.id)) d.unsure.delete(c.id);
    d.hi.set(c.id, Math.max(cursorHi(d, c.id), asked));
    await checkLive(m, r);
  }
  override toString = () => `ack(${devName(this.pick)}, ${this.wantConv ? 'group' : 'dm'}, ${this.aboveHead ? 'above head' : 'held'})`;
}

class History implements Cmd {
  /** which device this command acts on, resolved by check() from `pick` among the devices it can act on */
  dev = -1;
  readonly pick: number;
  /** the conversation (0 dm, 1 group) asked for; Send and Ack take the other one when the device's user is not in it */
  convI: number;
  readonly mode: 'after' | 'before' | 'newest';
  readonly at: number;
  readonly limit: number;
  constructor(dev: number, convI: number, mode: 'after' | 'before' | 'newest', at: number, limit: number) {
    this.pick = dev; this.convI = convI; this.mode = mode; this.at = at; this.limit = limit;
  }
  check = (m: Readonly<Model>) => (this.dev = choose(m, this.pick, (d) => !!d.conn && healthy(m, d.conn.node))) >= 0;
  async run(m: Model, r: Real) {
    const d = m.devices[this.dev]!;
    const c = m.convs[this.convI]!;
    const client = r.clients.get(d.key)!;
    const q: Record<string, unknown> = { t: 'history', conv: c.id, limit: this.limit };
    if (this.mode === 'after') q.after = this.at;
    if (this.mode === 'before') q.before = this.at;
    const ans = await ask(d, client, q);
    if (!isMemberNow(c, d.user)) {
      // history is for members only (a former member is refused too)
      exercised.historyRefused++;
      if (ans.t !== 'error' || ans.code !== 'forbidden') fail(`${d.key} (not a member of ${c.id}) asked history and got ${show(ans)}, not forbidden`);
    } else {
      if (ans.t !== 'page') fail(`${d.key} history ${JSON.stringify(q)} answered ${show(ans)}`);
      const all = c.log;
      let sel = this.mode === 'after' ? all.filter((e) => e.seq > this.at) : this.mode === 'before' ? all.filter((e) => e.seq < this.at) : all;
      const more = sel.length > this.limit;
      sel = this.mode === 'after' ? sel.slice(0, this.limit) : sel.slice(-this.limit);
      const got = (ans.msgs as Array<{ seq: number; from: string; cmid: string; body: string }>).map((x) => `${x.seq}:${x.from}/${x.cmid}/${x.body}`);
      const want = sel.map((x) => `${x.seq}:${x.from}/${x.cmid}/${x.body}`);
      if (JSON.stringify(got) !== JSON.stringify(want) || ans.more !== more) fail(`${d.key} history ${JSON.stringify(q)} on ${c.id}: got [${got.join(' ')}] more=${ans.more}, the log says [${want.join(' ')}] more=${more}`);
    }
    await checkLive(m, r);
  }
  toString = () => `history(${devName(this.pick)}, ${this.convI ? 'group' : 'dm'}, ${this.mode} ${this.at}, limit ${this.limit})`;
}

class Join implements Cmd {
  /** user 1 or 2 (user 0 owns the group and stays) */
  readonly user: number;
  constructor(user: number) {
    this.user = user;
  }
  check = (m: Readonly<Model>) => !isMemberNow(m.convs[1]!, m.users[this.user]!);
  async run(m: Model, r: Real) {
    const c = m.convs[1]!;
    const u = m.users[this.user]!;
    const node = anyHealthyNode(m);
    const res = await api(r.world.nodes[node]!.url, 'POST', `/v1/groups/${m.group}/members`, { token: await tokenFor(m.users[0]!), body: { users: [u] } });
    if (res.status !== 200) fail(`join ${u} to ${c.id} via node ${node} answered ${res.status} ${res.text}`);
    const ms = c.members.get(u) ?? [];
    ms.push({ join: head(c), left: -1 });
    c.members.set(u, ms);
    await checkLive(m, r);
  }
  toString = () => `join(user${this.user})`;
}

class Leave implements Cmd {
  readonly user: number;
  constructor(user: number) {
    this.user = user;
  }
  check = (m: Readonly<Model>) => isMemberNow(m.convs[1]!, m.users[this.user]!);
  async run(m: Model, r: Real) {
    const c = m.convs[1]!;
    const u = m.users[this.user]!;
    const node = anyHealthyNode(m);
    const res = await api(r.world.nodes[node]!.url, 'DELETE', `/v1/groups/${m.group}/members/${u}`, { token: await tokenFor(u) });
    if (res.status !== 200) fail(`${u} leaving ${c.id} via node ${node} answered ${res.status} ${res.text}`);
    c.members.get(u)!.at(-1)!.left = head(c);
    await checkLive(m, r);
  }
  toString = () => `leave(user${this.user})`;
}

class Kill implements Cmd {
  readonly node: number;
  constructor(node: number) {
    this.node = node;
  }
  // the other node stays healthy, so HTTP calls and reconnects have somewhere to go
  check = (m: Readonly<Model>) => m.nodes[this.node]!.up && healthy(m, 1 - this.node);
  async run(m: Model, r: Real) {
    await r.world.nodes[this.node]!.kill();
    m.nodes[this.node]!.up = false;
    for (const d of m.devices) {
      if (d.conn?.node !== this.node) continue;
      const client = r.clients.get(d.key)!;
      await client.waitClose(5000).catch(() => fail(`${d.key}'s connection stayed open after node ${this.node} was killed`));
      r.clients.delete(d.key);
      // acks the dead node had not written yet are lost: the cursor stays somewhere in [lo, hi]
      d.conn = undefined;
      acksMayBeLost(m, d);
    }
    await checkLive(m, r);
  }
  toString = () => `kill(node${this.node})`;
}

class Restart implements Cmd {
  readonly node: number;
  constructor(node: number) {
    this.node = node;
  }
  check = (m: Readonly<Model>) => !m.nodes[this.node]!.up && !m.nodes[this.node]!.cut;
  async run(m: Model, r: Real) {
    const n = r.world.nodes[this.node]!;
    const t0 = Date.now();
    await n.start().catch((err: Error) => fail(`node ${this.node} did not come back ready after ${Date.now() - t0} ms: ${err.message}; its last output: ${n.tail(15)}`));
    m.nodes[this.node]!.up = true;
    await checkLive(m, r);
  }
  toString = () => `restart(node${this.node})`;
}

export class Cut implements Cmd {
  check = (m: Readonly<Model>) => healthy(m, m.relayed) && healthy(m, 1 - m.relayed);
  async run(m: Model, r: Real) {
    r.world.relay.cut();
    m.nodes[m.relayed]!.cut = true;
    await checkLive(m, r);
  }
  toString = () => 'cut(node1 redis link)';
}

export class Heal implements Cmd {
  check = (m: Readonly<Model>) => m.nodes[m.relayed]!.cut;
  async run(m: Model, r: Real) {
    const n = r.world.nodes[m.relayed]!;
    r.world.relay.restore();
    m.nodes[m.relayed]!.cut = false;
    if (m.nodes[m.relayed]!.up) await waitUntil(async () => (await readyz(n)) === 200, { what: `node ${m.relayed} ready after its Redis link healed`, timeoutMs: 15_000, intervalMs: 50 }).catch((err: Error) => fail(err.message));
    // Resolve every send the cut left unknown by retrying it with the same cmid (PROTOCOL.md
    // Guarantee 2: the retry is safe): dup:true says the node's queued write landed after the
    // heal, dup:false that it never did; either way the message is stored exactly once and
    // now, after every seq the model knows, with no hole left.
    const node = anyHealthyNode(m);
    const before = new Map(m.convs.map((c) => [c.id, head(c)]));
    for (const u of m.uncertain) {
      const c = conv(m, u.conv);
      const res = await api(r.world.nodes[node]!.url, 'POST', '/v1/messages', { token: await tokenFor(u.sender), body: { conv: u.conv, cmid: u.cmid, body: u.body } });
      if (res.status === 403 && c.kind === 'group' && !isMemberNow(c, u.sender)) {
        // The sender left the group after its unknown send (the cut came first, so nothing of
        // it could land before the heal): a write landing now is refused as a non-member's,
        // as the retry is. So it was never stored; a member's read of the log must agree.
        const member = m.users.find((x) => isMemberNow(c, x));
        if (member !== undefined) {
          const page = await api(r.world.nodes[node]!.url, 'GET', `/v1/conversations/${encodeURIComponent(c.id)}/messages?after=${before.get(c.id)!}&limit=100`, { token: await tokenFor(member) });
          if (page.status !== 200) fail(`reading ${c.id} after the heal as ${member} answered ${page.status} ${page.text}`);
          const stored = (page.body.msgs as { seq: number; from: string; cmid: string }[]).find((x) => x.from === u.sender && x.cmid === u.cmid);
          if (stored) fail(`${u.sender}'s ${c.id}/${u.cmid}, sent on the cut node before ${u.sender} left, is stored as seq ${stored.seq} after the heal: a non-member's message (its retry answered 403)`);
        }
        exercised.unknownRefusedAfterLeave++;
        continue;
      }
      if (res.status !== 200 && res.status !== 201) fail(`retrying ${u.sender}'s ${u.conv}/${u.cmid} after the heal answered ${res.status} ${res.text}`);
      const seq = res.body.seq as number;
      if (res.body.dup) exercised.unknownStoredBeforeRetry++;
      else exercised.unknownStoredByRetry++;
      if (seq <= before.get(c.id)! || c.log[seq - 1]) fail(`retrying ${u.sender}'s ${u.conv}/${u.cmid} after the heal answered seq ${seq} (dup ${res.body.dup}), a seq the log already holds for ${c.log[seq - 1]?.from}/${c.log[seq - 1]?.cmid}`);
      c.log[seq - 1] = { seq, from: u.sender, cmid: u.cmid, body: u.body };
      c.dedupe.set(`${u.sender}\n${u.cmid}`, seq);
    }
    for (const c of m.convs) for (let i = 0; i < c.log.length; i++) if (!c.log[i]) fail(`${c.id} has no message at seq ${i + 1} after resolving the sends the cut left unknown: a hole`);
    m.uncertain = [];
    await checkLive(m, r);
  }
  toString = () => `heal(node1 redis link)`;
}

/** Command arbitraries. `faults: false` leaves out kill/restart/cut/heal (the cheap set the bug controls use). */
export function protocolCommands(opts: { faults: boolean; maxCommands: number; replayPath?: string }) {
  const cmid = fc.constantFrom('c1', 'c2', 'c3');
  const connect = fc.tuple(devIdx, nodeIdx).map(([d, n]): Cmd => new Connect(d, n));
  const send = fc.tuple(devIdx, convIdx, cmid).map(([d, c, x]): Cmd => new Send(d, c, x));
  // fc.commands picks among its arbitraries evenly and skips a command whose check refuses it:
  // connects and sends are listed several times so most sequences have devices that talk
  const arbs: fc.Arbitrary<Cmd>[] = [
    connect,
    connect,
    connect,
    fc.tuple(devIdx, nodeIdx).map(([d, n]) => new Replace(d, n)),
    devIdx.map((d) => new Disconnect(d)),
    send,
    send,
    send,
    send,
    fc.tuple(devIdx, convIdx, fc.boolean()).map(([d, c, a]) => new Ack(d, c, a)),
    fc.tuple(devIdx, convIdx, fc.boolean()).map(([d, c, a]) => new Ack(d, c, a)),
    fc.tuple(devIdx, convIdx, fc.constantFrom('after' as const, 'before' as const, 'newest' as const), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 4 })).map(([d, c, mo, at, l]) => new History(d, c, mo, at, l)),
    fc.integer({ min: 1, max: 2 }).map((u) => new Join(u)),
    fc.integer({ min: 1, max: 2 }).map((u) => new Leave(u)),
  ];
    // restart and heal twice: a kill or a cut with no way back would leave most of a run on one node
  if (opts.faults) arbs.push(nodeIdx.map((n) => new Kill(n)), nodeIdx.map((n) => new Restart(n)), nodeIdx.map((n) => new Restart(n)), fc.constant(new Cut()), fc.constant(new Heal()), fc.constant(new Heal()));
  // noBias: fast-check's bias would make most sequences a handful of commands long, too few
  // for a bug that needs an ack, a disconnect, a send and a reconnect in that order
  return fc.noBias(fc.commands(arbs, { maxCommands: opts.maxCommands, size: 'max', replayPath: opts.replayPath }));
}

/**
 * A sequence that reaches the cut's unknown outcomes, which random sequences reach rarely (a
 * device on the relayed node must send while its link is cut): sends answered `unavailable`,
 * a resend of one of them during the cut, sends on the healthy node meanwhile, the heal's
 * retries, a resend after it. fast-check runs it before the random ones (`examples`).
 */
export function cutExample(): Cmd[] {
  return [new Connect(0, 1), new Connect(1, 0), new Cut(), new Send(0, 0, 'c1'), new Send(1, 0, 'c2'), new Send(0, 1, 'c3'), new Send(0, 0, 'c1'), new Heal(), new Send(0, 0, 'c1'), new Disconnect(0)];
}

/**
 * After the last command: a short settle so a message that should never come has time to
 * arrive, the live check once more, then every device on a healthy node closes gracefully
 * and its cursors must be what its acks asked for (the run's end is one more observation).
 */
export async function finalCheck(m: Model, r: Real): Promise<void> {
  await checkLive(m, r, 150);
  for (const d of m.devices) {
    if (!d.conn || !healthy(m, d.conn.node)) continue;
    const client = r.clients.get(d.key)!;
    r.clients.delete(d.key);
    d.conn = undefined;
    client.close();
    await client.waitClose(5000);
    await confirmCursors(m, r, d);
  }
}
