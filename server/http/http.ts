import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readdirSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import type { Hub } from '../delivery/hub.ts';
import type { Gateway } from '../gateway/gateway.ts';
import type { RateBuckets } from '../gateway/rate.ts';
import { TokenError, type Identity, type TokenVerifier } from '../gateway/tokens.ts';
import type { Metrics } from '../observability/metrics.ts';
import { ProtocolError, errorCodes } from '../protocol/codes.ts';
import { cmid, convForUser, convId, groupId, userId, USER_ID_RE } from '../protocol/ids.ts';
import type { Bus } from '../bus/bus.ts';
import { startCursor } from '../delivery/cursor.ts';
import type { MessageSender } from '../messaging/send.ts';
import type { RedisLinks } from '../store/links.ts';
import type { Stores } from '../store/stores.ts';
import { presenceInBatches, statesInBatches } from '../store/batched-states.ts';
import type { Semaphore } from '../util/semaphore.ts';
import { settledResources } from '../util/next-turn.ts';
import { capturing, noteHttp } from '../capture/capture.ts';
import { monoNow } from '../util/clock.ts';
import { SlotWaitAborted } from '../gateway/send-gate.ts';

/** PROTOCOL.md "HTTP": REST routes, health, metrics, and (DEBUG_ROUTES=1) leak-check helpers. */
export interface HttpDeps {
  config: Config;
  log: Logger;
  store: Pick<Stores, 'log' | 'cursors' | 'groups' | 'presence'>;
  sender: MessageSender;
  bus: Bus;
  links: RedisLinks;
  hub: Hub;
  gateway: () => Gateway;
  tokens: TokenVerifier;
  buckets: RateBuckets;
  /** per-user buckets for the group routes that change something */
  groupBuckets: RateBuckets;
  metrics: Metrics;
  isReady: () => boolean;
  /** why the node is not ready, when it knows more than "the store is not answering" */
  notReadyReason?: () => string | null;
  /** the node's bulk reads, shared with the WebSocket requests */
  bulkReads: Semaphore;
  /** plain (not upgraded) HTTP sockets open now */
  httpSockets: () => number;
  /** work still in flight after clients left: Redis commands queued, deregistrations pending */
  backlog: () => { storeCommands: number; pendingDeregistrations: number };
}

/**
 * Room in a request body for everything around its payload: field names, a conversation
 * id (≤ 132 characters), a cmid or group id (≤ 64), whitespace.
 */
const REQUEST_ENVELOPE_BYTES = 1024;
/** JSON may spell any byte as a 6-byte `\u00XX` escape, so a payload of n bytes may take up to 6n on the wire. */
const JSON_ESCAPE_FACTOR = 6;
/** A user id is at most 64 characters, written as a JSON string and a comma. */
const LISTED_ID_BYTES = JSON_ESCAPE_FACTOR * 64 + 3;

/**
 * The largest request body a route reads, derived from the limits of what it carries, so a
 * request that could only be refused later is refused before it is buffered: every way of
 * writing a body within MAX_BODY_BYTES (or GROUP_MAX ids) in JSON fits; more is 413.
 */
function requestBodyCaps(c: Pick<Config, 'MAX_BODY_BYTES' | 'GROUP_MAX'>) {
  return {
    message: { bytes: JSON_ESCAPE_FACTOR * c.MAX_BODY_BYTES + REQUEST_ENVELOPE_BYTES, rule: `${JSON_ESCAPE_FACTOR} × MAX_BODY_BYTES + ${REQUEST_ENVELOPE_BYTES}` },
    group: { bytes: LISTED_ID_BYTES * c.GROUP_MAX + REQUEST_ENVELOPE_BYTES, rule: `${LISTED_ID_BYTES} × GROUP_MAX + ${REQUEST_ENVELOPE_BYTES}` },
  };
}
type RequestCap = ReturnType<typeof requestBodyCaps>['message'];

const postMessage = z.object({ conv: convId, cmid, body: z.string() });
const createGroup = z.object({ id: groupId, members: z.array(userId).max(100_000).default([]) });
const addMembers = z.object({ users: z.array(userId).min(1, 'must list at least one user').max(100_000) });
// Query numbers are plain decimal integers: no "", "1e3", "0x10", " 7" or "Infinity" (which Number() would take).
const decimal = (what: string) => z.string().regex(/^(0|[1-9][0-9]{0,15})$/, `must be ${what}`).transform(Number);
const seqParam = decimal('an integer 0..9007199254740991').pipe(z.number().max(Number.MAX_SAFE_INTEGER, 'must be an integer 0..9007199254740991'));
const historyQuery = z.object({
  after: seqParam.optional(),
  before: seqParam.optional(),
  limit: decimal('1..100').pipe(z.number().min(1, 'must be 1..100').max(100, 'must be 1..100')).default(50),
});

function fail(code: keyof typeof errorCodes, message: string): never {
  throw new ProtocolError(code, message);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The client went away (reset, aborted) before its request was read: nothing to answer, nothing to log. */
class ClientGone extends Error {}

function tooLarge(cap: RequestCap): ProtocolError {
  return new ProtocolError('too_large', `request body over ${cap.bytes} bytes (${cap.rule})`);
}

/**
 * The request body, at most `cap.bytes`. A body over it (announced by Content-Length or
 * not) is read to its end and discarded, never buffered, and then answered 413: a server
 * that answers and closes while the client still writes makes the client see a reset
 * (EPIPE, ECONNRESET) instead of the answer. HTTP_REQUEST_TIMEOUT_MS bounds the read.
 */
function readBody(req: IncomingMessage, cap: RequestCap): Promise<Buffer> {
  if (req.destroyed) return Promise.reject(new ClientGone('closed before the request body was read'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers['content-length'] ?? 0) > cap.bytes;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      over = size > cap.bytes;
      if (over) chunks.length = 0;
      else chunks.push(chunk);
    });
    req.once('end', () => (over ? reject(tooLarge(cap)) : resolve(Buffer.concat(chunks))));
    // the request stream fails or closes early only when its socket does (ECONNRESET, "aborted")
    req.once('error', (err) => reject(new ClientGone(String(err))));
    req.once('close', () => {
      if (!req.complete) reject(new ClientGone('closed before the request body ended'));
    });
  });
}

async function readJson(req: IncomingMessage, cap: RequestCap): Promise<unknown> {
  const body = await readBody(req, cap);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    fail('bad_request', 'request body is not valid JSON');
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  fail('bad_request', i.path.length ? `field \`${i.path.join('.')}\`: ${i.message}` : i.message);
}

/** RFC 7235: the scheme name is case-insensitive. */
function bearer(req: IncomingMessage): string | null {
  return /^bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (x: string) => createHash('sha256').update(x).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Which routes a listener serves: `all` (one port: PROTOCOL.md's default), or, with
 * ADMIN_PORT set, `public` (REST, health) on PORT and `admin` (/metrics, debug, health) on
 * ADMIN_PORT.
 */
export type HttpSurface = 'all' | 'public' | 'admin';

export function createHttpHandler(d: HttpDeps, surface: HttpSurface = 'all') {
  const operator = surface !== 'public';
  const caps = requestBodyCaps(d.config);
  async function auth(req: IncomingMessage): Promise<Identity> {
    const jwt = bearer(req);
    if (!jwt) fail('unauthorized', 'missing `Authorization: Bearer <jwt>` header');
    try {
      return await d.tokens.verify(jwt);
    } catch (err) {
      fail('unauthorized', err instanceof TokenError ? err.message : 'invalid token');
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    let parts: string[];
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      parts = url.pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
    } catch {
      fail('bad_request', 'malformed request target: the path must be a valid URL path with valid percent-encoding (e.g. %2F, not %ZZ)');
    }
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok' });
    if (method === 'GET' && path === '/readyz') {
      let ok = d.isReady();
      if (ok) ok = await d.links.cmd.ping().then(() => true, () => false);
      return json(res, ok ? 200 : 503, ok ? { status: 'ready' } : { code: 'unavailable', message: d.notReadyReason?.() ?? 'the store is not answering' });
    }
    if (operator && method === 'GET' && path === '/metrics') {
      const want = d.config.METRICS_TOKEN;
      if (want !== undefined) {
        const given = bearer(req);
        if (given === null || !sameSecret(given, want)) fail('unauthorized', '/metrics needs `Authorization: Bearer <METRICS_TOKEN>`');
      }
      const text = await d.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': d.metrics.registry.contentType });
      return void res.end(text);
    }
    if (operator && d.config.DEBUG_ROUTES && parts[0] === 'debug') {
      if (method === 'POST' && path === '/debug/gc') {
        // read once this turn's queued immediates have run (next-turn.ts), before the GCs so
        // that nothing runs between them and the heap figures
        const activeResources = await settledResources();
        v8.setFlagsFromString('--expose-gc');
        const gc = vm.runInNewContext('gc') as (opts?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
        gc();
        gc();
        // ?reduce=1: then V8's memory-reducing collection (the 'last-resort' flavor), which also
        // hands back to the OS the pages a collection freed (V8 otherwise keeps them pooled for
        // a while), so RSS read next counts what is held rather than what the last burst of
        // garbage needed (the bench's RSS per idle connection)
        if (url.searchParams.get('reduce') === '1') gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
        d.metrics.excuseStall();
        let openFds = -1;
        try {
          openFds = readdirSync('/proc/self/fd').length - 1;
        } catch {
          // not Linux
        }
        d.metrics.refreshProcessSamples();
        const mem = process.memoryUsage();
        return json(res, 200, {
          heapUsed: mem.heapUsed,
          rss: mem.rss,
          // what each V8 space holds and how much of it is resident (the bench's RSS breakdown)
          spaces: v8.getHeapSpaceStatistics().map((x) => ({ space: x.space_name, size: x.space_size, used: x.space_used_size, physical: x.physical_space_size })),
          openFds,
          httpSockets: d.httpSockets(),
          connections: d.gateway().connectionCount,
          connectionsOpened: d.gateway().connectionsOpened,
          activeResources,
          ...d.backlog(),
        });
      }
      if (method === 'GET' && path === '/debug/state') {
        return json(res, 200, {
          connections: d.gateway().connectionCount,
          users: d.hub.userCount,
          channels: d.hub.channelCount,
          sendBuckets: d.buckets.size,
          memory: process.memoryUsage(),
          activeResources: process.getActiveResourcesInfo(),
          redis: { cmd: d.links.cmd.status, bus: d.links.sub.status },
        });
      }
    }

    if (parts[0] !== 'v1' || surface === 'admin') fail('not_found', `no route ${method} ${path}`);
    const me = await auth(req);
    if (capturing) noteHttp(res, { user: me.user });

    // POST /v1/messages
    if (method === 'POST' && path === '/v1/messages') {
      const b = parse(postMessage, await readJson(req, caps.message));
      if (capturing) noteHttp(res, { device: me.device, conv: b.conv, cmid: b.cmid, bytes: Buffer.byteLength(b.body) });
      // refused by what needs no store call before it waits for a send slot
      const bodyJson = d.sender.admit(me.user, b.conv, b.body);
      // the response not yet written: a close is the client leaving, which gives up its place
      const left = new AbortController();
      res.once('close', () => left.abort());
      let started = false;
      const r = await d.gateway()
        .withSendSlot(left.signal, () => {
          started = true;
          return d.sender.storeAdmitted(me.user, b.conv, b.cmid, bodyJson);
        })
        .catch((err: unknown) => {
          // No slot in time (503): the node refused it untried, so its token is not spent. A
          // client that hangs up while it waits keeps paying: else leaving and coming back
          // would cycle the queue without any bucket bounding it.
          if (!started && err instanceof ProtocolError && err.code === 'unavailable') d.sender.unadmit(me.user);
          throw err;
        });
      return json(res, r.dup ? 200 : 201, { conv: b.conv, seq: r.seq, cmid: b.cmid, ts: r.ts, dup: r.dup });
    }

    // GET /v1/conversations
    if (method === 'GET' && path === '/v1/conversations') {
      const convs = await d.bulkReads.run(() => d.store.groups.userConvs(me.user));
      const [states, cursors, reads] = await Promise.all([
        statesInBatches(d.store.log, d.bulkReads, me.user, convs),
        d.bulkReads.run(() => Promise.all([d.store.cursors.cursors(me.user, me.device), d.store.cursors.reads(me.user)])),
      ]).then(([st, [cu, rd]]) => [st, cu, rd] as const);
      const out = [];
      for (let i = 0; i < convs.length; i++) {
        const st = states[i]!;
        const conv = convs[i]!;
        if (st.join < 0 || st.left >= 0 || st.epoch === null) continue;
        const rd = reads.get(conv);
        out.push({ conv, epoch: st.epoch, head: st.head, cursor: startCursor(st, cursors.get(conv)), read: rd && rd.epoch === st.epoch ? rd.seq : 0 });
      }
      return json(res, 200, { convs: out });
    }

    // GET /v1/conversations/{conv}/messages
    if (method === 'GET' && parts[1] === 'conversations' && parts.length === 4 && parts[3] === 'messages') {
      const conv = parse(convId, parts[2]);
      convForUser(conv, me.user);
      const q = parse(historyQuery, Object.fromEntries(url.searchParams));
      const page = await d.bulkReads.run(() => d.store.log.history(me.user, conv, q));
      return json(res, 200, `{"epoch":${JSON.stringify(page.epoch)},"msgs":[${page.msgsJson.join(',')}],"more":${page.more}}`);
    }

    // groups
    if (parts[1] === 'groups') {
      // a change is paced per user, and its list is bounded by GROUP_MAX, before anything is read or written
      const changing = method === 'POST' || method === 'DELETE';
      if (changing) {
        const now = monoNow();
        if (d.groupBuckets.size > 10_000) d.groupBuckets.prune(now);
        if (!d.groupBuckets.take(me.user, now)) fail('rate_limited', `over ${d.config.GROUP_OPS_RATE} group changes/s (burst ${d.config.GROUP_OPS_BURST}); slow down and retry`);
      }
      const capList = (list: readonly string[], field: string) => {
        if (list.length > d.config.GROUP_MAX) fail('too_large', `field \`${field}\`: at most ${d.config.GROUP_MAX} users (GROUP_MAX)`);
      };
      if (method === 'POST' && parts.length === 2) {
        const b = parse(createGroup, await readJson(req, caps.group));
        capList(b.members, 'members');
        if (capturing) noteHttp(res, { group: b.id, users: b.members });
        const conv = await d.store.groups.createGroup(me.user, b.id, b.members);
        return json(res, 201, { conv });
      }
      const id = parts[2] !== undefined && USER_ID_RE.test(parts[2]) ? parts[2] : fail('bad_request', 'group id must match ^[A-Za-z0-9_-]{1,64}$');
      if (method === 'GET' && parts.length === 3) {
        const g = await d.store.groups.getGroup(me.user, id);
        return json(res, 200, { id, owner: g.owner || null, members: g.members, head: g.head });
      }
      if (method === 'POST' && parts.length === 4 && parts[3] === 'members') {
        const b = parse(addMembers, await readJson(req, caps.group));
        capList(b.users, 'users');
        if (capturing) noteHttp(res, { group: id, users: b.users });
        const added = await d.store.groups.joinGroup(me.user, id, b.users);
        return json(res, 200, { conv: `g:${id}`, added });
      }
      if (method === 'DELETE' && parts.length === 5 && parts[3] === 'members') {
        const user = parse(userId, parts[4]);
        if (capturing) noteHttp(res, { group: id, users: [user] });
        const removed = await d.store.groups.leaveGroup(me.user, id, user);
        return json(res, 200, { conv: `g:${id}`, removed });
      }
    }

    // GET /v1/presence?users=a,b
    if (method === 'GET' && path === '/v1/presence') {
      const raw = url.searchParams.get('users') ?? fail('bad_request', 'query `users` is required: ?users=a,b');
      const users = [...new Set(raw.split(',').filter(Boolean))];
      if (users.length > 1000) fail('too_large', 'at most 1000 users per request');
      for (const u of users) if (!USER_ID_RE.test(u)) fail('bad_request', `query \`users\`: "${u}" is not a valid user id`);
      const states = await presenceInBatches(d.store.presence, d.bulkReads, users);
      return json(res, 200, { users: Object.fromEntries(users.map((u, i) => [u, states[i]])) });
    }

    // DELETE /v1/users/{user}/sessions[/{device}]
    if (method === 'DELETE' && parts[1] === 'users' && parts[3] === 'sessions' && (parts.length === 4 || parts.length === 5)) {
      if (!me.admin) fail('forbidden', 'operator token (adm) required');
      const user = parse(userId, parts[2]);
      const device = parts.length === 5 ? parse(userId, parts[4]) : '*';
      // what the kick targets: the connections registered for that user (and device) now,
      // on whichever nodes hold them; each node closes its own when the `K` reaches it
      const regs = await d.store.presence.registrations(user);
      const connections = [...regs].filter(([, dev]) => device === '*' || dev === device).map(([id]) => id);
      await d.bus.publish({ k: 'K', user, device: device === '*' ? null : device });
      return json(res, 200, { user, device: device === '*' ? null : device, connections });
    }

    fail('not_found', `no route ${method} ${path}`);
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent || err instanceof ClientGone || err instanceof SlotWaitAborted) return void res.destroy();
      if (err instanceof ProtocolError) {
        d.metrics.errors.inc({ code: err.code });
        return json(res, errorCodes[err.code].http, { code: err.code, message: err.message });
      }
      const correlation = Math.random().toString(36).slice(2, 10);
      d.log.error({ err: err instanceof Error ? err.stack : String(err), correlation, path: req.url }, 'internal error');
      d.metrics.errors.inc({ code: 'internal' });
      json(res, 500, { code: 'internal', message: `internal error (correlation id ${correlation})` });
    });
  };
}
