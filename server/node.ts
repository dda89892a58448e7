import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Config } from './config/config.ts';
import { CloseCode } from './protocol/codes.ts';
import { Bus } from './bus/bus.ts';
import { RedisBusLink } from './bus/redis-bus-link.ts';
import { Hub } from './delivery/hub.ts';
import { Gateway } from './gateway/gateway.ts';
import { Admission, parseTrustedProxies } from './gateway/admission.ts';
import { frameStats } from './gateway/connection.ts';
import { RateBuckets } from './gateway/rate.ts';
import { TokenVerifier } from './gateway/tokens.ts';
import { createHttpHandler } from './http/http.ts';
import { Reclaimer } from './messaging/reclaimer.ts';
import { MessageSender } from './messaging/send.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { Presence } from './presence/presence.ts';
import { checkDurability } from './store/durability.ts';
import { keys } from './store/keys.ts';
import { RedisLinks } from './store/links.ts';
import { RedisCursorStore } from './store/redis/redis-cursors.ts';
import { RedisGroupStore } from './store/redis/redis-groups.ts';
import { RedisConversationLog } from './store/redis/redis-log.ts';
import { RedisPresenceStore } from './store/redis/redis-presence.ts';
import type { Stores } from './store/stores.ts';
import { Semaphore } from './util/semaphore.ts';
import { capturedHttp, startCapture } from './capture/capture.ts';

/** bulk reads of the whole node in flight at once */
const BULK_READS = 8;
/** How often a running node checks that its Redis is still fit (appendonly, noeviction). */
const FITNESS_CHECK_MS = 5000;

/** The process's open-file soft limit (Linux), or null when it cannot be read. */
function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The Redis implementations of every seam, on the node's command link. */
export function redisStores(links: RedisLinks, config: Config): Stores {
  return {
    log: new RedisConversationLog(links.cmd, { retentionMaxMsgs: config.RETENTION_MAX_MSGS, retentionMs: config.RETENTION_MS, dedupeTtlMs: config.DEDUPE_TTL_MS, newConversationsPerMinute: config.NEW_CONVERSATIONS_PER_MINUTE, reclaimAddGraceMs: 2 * config.STORE_TIMEOUT_MS }, links.fast),
    cursors: new RedisCursorStore(links.cmd, links.fast),
    groups: new RedisGroupStore(links.cmd, { groupMax: config.GROUP_MAX, maxGroupsPerUser: config.MAX_GROUPS_PER_USER }, links.fast),
    presence: new RedisPresenceStore(links.cmd, links.fast),
    bus: new RedisBusLink(links, keys.busChannel()),
  };
}

export interface NodeOptions {
  /** Wraps the seams before anything uses them (server/test-main.ts wires deliberately faulty ones). */
  wrapStores?: (stores: Stores, links: RedisLinks) => Stores;
  /** Logged as a warning at start (what the wrapper changed). */
  warning?: string;
}

/**
 * One server node: wires the parts together, listens, and stops on SIGTERM/SIGINT.
 * Every behaviour lives in the part named after it (see README "How the server works").
 */
export async function runNode(config: Config, opts: NodeOptions = {}): Promise<void> {
  const log = createLogger(config.LOG_LEVEL, config.NODE_ID);
  const incarnation = `${config.NODE_ID}.${randomBytes(4).toString('hex')}`;
  // An error nothing caught may have left state half-updated: log it with context and exit 1,
  // so the supervisor starts a fresh incarnation (clients reconnect and replay from their
  // cursors; this incarnation's presence lapses after PRESENCE_TTL_MS). README "Failures".
  const die = (kind: string) => (err: unknown) => {
    log.fatal({ kind, err: err instanceof Error ? err.stack : String(err), incarnation }, `${kind}: exiting (code 1) for the supervisor to restart the node`);
    process.exit(1);
  };
  process.on('uncaughtException', die('uncaughtException'));
  process.on('unhandledRejection', die('unhandledRejection'));
  if (opts.warning) log.warn(opts.warning);
  if (config.ALLOW_VOLATILE_STORE) log.warn('ALLOW_VOLATILE_STORE=1: a Redis without appendonly is accepted; a restart can lose acked messages');

  // CAPTURE_DIR: what this node sees, for `imstorm replay` (server/capture); before anything serves
  const capture = config.CAPTURE_DIR
    ? startCapture({ dir: config.CAPTURE_DIR, node: config.NODE_ID, incarnation, sample: config.CAPTURE_SAMPLE, maxBytes: config.CAPTURE_MAX_BYTES, bodies: config.CAPTURE_BODIES, log })
    : null;
  if (capture) log.info({ dir: config.CAPTURE_DIR, sample: config.CAPTURE_SAMPLE, maxBytes: config.CAPTURE_MAX_BYTES, bodies: config.CAPTURE_BODIES }, 'capturing');

  const fdLimit = openFileLimit();
  const maxConnections = fdLimit ? Math.max(1, Math.min(config.MAX_CONNECTIONS, fdLimit - 512)) : config.MAX_CONNECTIONS;

  const links = new RedisLinks(config.REDIS_URL, config.STORE_TIMEOUT_MS, keys.busChannel(), log, config.NODE_ID);
  let stores = redisStores(links, config);
  if (opts.wrapStores) stores = opts.wrapStores(stores, links);

  let gateway: Gateway;
  const metrics = createMetrics({ connections: () => gateway?.connectionCount ?? 0, unsentBytes: () => gateway?.unsentBytes() ?? 0, channels: () => hub.channelCount, framesOut: () => frameStats.out, connectionsOpened: () => gateway?.connectionsOpened ?? 0, sends: () => ({ inFlight: gateway?.sends.inFlight ?? 0, holds: gateway?.sends.holds ?? 0, held: gateway?.sends.heldConnections ?? 0, waitingRequests: gateway?.sends.waitingRequests ?? 0 }) });
  const hub = new Hub(stores, log, metrics, { backlogLimit: config.BACKLOG_LIMIT, slowConsumerBytes: config.SLOW_CONSUMER_BYTES });
  const presence = new Presence(stores.presence, log, incarnation, config.PRESENCE_TTL_MS, config.MAX_DEVICES, () => hub.conns.values(), (conn) => gateway.close(conn, CloseCode.replaced, 'replaced by a newer connection'));
  const tokens = new TokenVerifier({ secret: config.JWT_SECRET, adminSecret: config.ADMIN_JWT_SECRET, audience: config.JWT_AUDIENCE, issuer: config.JWT_ISSUER, maxAgeS: config.JWT_MAX_AGE_S });
  const buckets = new RateBuckets(config.SEND_RATE, config.SEND_BURST);
  const groupBuckets = new RateBuckets(config.GROUP_OPS_RATE, config.GROUP_OPS_BURST);
  const sender = new MessageSender(stores.log, buckets, metrics, config);
  // History pages, presence states and conversation lists, over WebSocket and HTTP: with
  // one command link per node, a send waits behind whatever replies are queued on it, so
  // bulk reads are let onto it a few at a time.
  const bulkReads = new Semaphore(BULK_READS);
  const reclaimer = new Reclaimer(stores.log, metrics, log, config.RECLAIM_INTERVAL_MS, () => links.isCmdUp);
  gateway = new Gateway({ config, log, store: stores, sender, hub, presence, tokens, buckets, metrics, nodeId: config.NODE_ID, maxConnections, bulkReads });

  const bus = new Bus(stores.bus, log, incarnation, config.STORE_TIMEOUT_MS, {
    message: (conv, epoch, seq, frame) => hub.onMessage(conv, epoch, seq, frame),
    join: (conv, user, at) => hub.onJoin(conv, user, at),
    leave: (conv, user, at) => hub.onLeave(conv, user, at),
    presence: (user, status, v, ts) => presence.onChange(user, status, v, ts),
    read: (user, conv, seq, origin) => hub.onRead(user, conv, seq, origin),
    kick: (_user, connId, code) => gateway.kick(connId, code),
    kickUser: (user, device) => gateway.kickUser(user, device),
    busDown: () => hub.onBusDown(),
    resync: (reason) => {
      hub.requestResync(reason);
      presence.requestReconcile();
    },
  });

  let durable = false;
  /** why the Redis this node runs on is not fit any more (its configuration changed), or null */
  let unfit: string | null = null;
  let cmdWasDown = false;
  links.on('down', () => (cmdWasDown = true));
  if (capture) {
    links.on('up', () => capture.redis('cmd', 'up'));
    links.on('down', () => capture.redis('cmd', 'down'));
    links.on('busUp', () => capture.redis('bus', 'up'));
    links.on('busDown', () => capture.redis('bus', 'down'));
  }
  /**
   * At start an unfit Redis stops the node (exit 1). Once running, a Redis whose
   * configuration changes under it makes the node unready and say why, every node alike,
   * instead of every node exiting at once; it is checked again every FITNESS_CHECK_MS.
   */
  const checkFitness = async (): Promise<boolean> => {
    const problem = await checkDurability(links.cmd, config.ALLOW_VOLATILE_STORE);
    if (problem && !durable) {
      log.fatal({ problem }, 'refusing to run on this Redis');
      process.stderr.write(`imstorm server: refusing to run: ${problem}\n`);
      process.exit(1);
    }
    if (problem !== unfit) {
      if (problem) log.error({ problem }, 'the Redis configuration changed under this node: not ready until it is fixed');
      else if (unfit) log.warn('the Redis configuration is fit again: ready');
    }
    unfit = problem;
    return problem === null;
  };
  const fitnessTimer = setInterval(() => {
    if (durable && links.isCmdUp) checkFitness().catch(() => {});
  }, FITNESS_CHECK_MS);
  fitnessTimer.unref();
  links.on('up', async () => {
    try {
      if (!(await checkFitness())) return;
      if (!durable) {
        log.info('store ready');
        await presence.renew();
      }
      durable = true;
      // The lease and the bus may have missed everything while the link was away.
      if (cmdWasDown) {
        cmdWasDown = false;
        void presence.renew();
        hub.requestResync('redis link returned');
        presence.requestReconcile();
      }
    } catch (err) {
      log.warn({ err: String(err) }, 'durability check failed; will retry when the link returns');
      links.cmd.disconnect(true);
    }
  });

  // Plain HTTP sockets open right now (upgraded ones become WebSocket connections): leak
  // checks subtract them, so a sampler's keep-alive socket does not read as a leak.
  let httpSockets = 0;
  const httpDeps = {
    config, log, store: stores, sender, bus, links, hub, gateway: () => gateway, tokens, buckets, groupBuckets, metrics, bulkReads,
    isReady: () => durable && unfit === null && links.isCmdUp,
    notReadyReason: () => (unfit ? `Redis is not fit to run on: ${unfit}` : null),
    httpSockets: () => httpSockets,
    backlog: () => ({ storeCommands: links.cmd.commandQueue.length + links.sub.inFlight + (links.fast?.inFlight ?? 0), pendingDeregistrations: presence.pendingCloses }),
  };
  const withAdmin = config.ADMIN_PORT !== undefined;
  // Every socket on PORT counts toward MAX_CONNECTIONS (and MAX_CONNECTIONS_PER_ADDRESS), see admission.ts
  const admission = new Admission(maxConnections, config.MAX_CONNECTIONS_PER_ADDRESS, parseTrustedProxies(config.TRUSTED_PROXIES));
  const plainHandler = createHttpHandler(httpDeps, withAdmin ? 'public' : 'all');
  const publicHandler = capture ? capturedHttp(capture, plainHandler) : plainHandler;
  const httpOptions = { headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS, requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: Math.min(1000, config.HTTP_HEADERS_TIMEOUT_MS) };
  const http = createServer(httpOptions, (req, res) => {
    if (!admission.isOverLimit(req.socket)) return publicHandler(req, res);
    metrics.errors.inc({ code: 'unavailable' });
    const body = '{"code":"unavailable","message":"connection limit reached; try again later"}';
    res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });
  // ADMIN_PORT: /metrics and the debug routes on their own listener (PROTOCOL.md)
  const admin = withAdmin ? createServer(httpOptions, createHttpHandler(httpDeps, 'admin')) : null;
  if (admin) {
    admin.on('connection', (socket) => {
      httpSockets++;
      socket.once('close', () => httpSockets--);
    });
    admin.on('clientError', (_err, socket) => socket.destroy());
    admin.keepAliveTimeout = 5000;
  }
  if (config.DEBUG_ROUTES) log.warn({ host: withAdmin ? config.ADMIN_HOST : config.HOST, forced: config.FORCE_DEBUG_ON_PUBLIC_HOST }, 'DEBUG_ROUTES=1: POST /debug/gc and GET /debug/state are served without authentication');
  // one listener for every socket, not a closure each (see Admission.accept)
  const onHttpSocketClose = () => {
    httpSockets--;
  };
  http.on('connection', (socket) => {
    if (!admission.accept(socket)) {
      metrics.closes.inc({ code: 'refused' });
      return void socket.destroy();
    }
    httpSockets++;
    socket.on('close', onHttpSocketClose);
  });
  http.on('upgrade', (req, socket, head) => {
    // no longer a plain HTTP socket: taking its listener off costs nothing per connection,
    // where remembering it in a WeakSet cost ~44 bytes of every idle WebSocket
    socket.off('close', onHttpSocketClose);
    httpSockets--;
    gateway.handleUpgrade(req, socket, head, admission.isOverLimit(socket) || !admission.admitForwarded(socket as Socket, req));
  });
  http.on('clientError', (_err, socket) => socket.destroy());
  http.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.PORT, config.HOST, () => resolve());
  });
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  let adminPort: number | undefined;
  if (admin) {
    await new Promise<void>((resolve, reject) => {
      admin.once('error', reject);
      admin.listen(config.ADMIN_PORT, config.ADMIN_HOST, () => resolve());
    });
    const a = admin.address();
    adminPort = typeof a === 'object' && a ? a.port : config.ADMIN_PORT;
  }
  // PROTOCOL.md: this line is always written, whatever LOG_LEVEL says.
  log.child({}, { level: 'info' }).info({ port, host: config.HOST, ...(admin ? { adminPort, adminHost: config.ADMIN_HOST } : {}), incarnation, maxConnections, fdLimit }, 'listening');

  capture?.node('start');
  links.start();
  bus.start();
  presence.start();
  gateway.start();
  reclaimer.start();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, connections: gateway.connectionCount, drainMs: config.DRAIN_MS }, 'shutting down');
    // recorded when the stop begins: a supervisor that kills the node mid-drain still leaves a stop (a restart, not a crash)
    capture?.node('stop', signal);
    gateway.stopAccepting();
    reclaimer.stop();
    http.close();
    // the admin listener stays up while draining: /metrics shows the drain
    await gateway.drain(config.DRAIN_MS);
    // let close frames and their handlers run before deregistering
    await new Promise((r) => setTimeout(r, 100));
    // deregistering may not hold the exit either: other nodes sweep what is left
    await presence.shutdown(gateway.connections(), 2 * config.STORE_TIMEOUT_MS);
    gateway.stop();
    clearInterval(fitnessTimer);
    bus.stop();
    await links.close();
    await capture?.stop(signal);
    http.closeAllConnections();
    admin?.closeAllConnections();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
