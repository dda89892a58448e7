// A topology: N server nodes (child processes: process.execPath server/main.ts) on one
// environment's Redis, each node reaching Redis through its own proxy (redis-link:<node>)
// and reachable by clients through another (client-link:<node>) as well as directly.
// Every control — a toxic on any link, a disabled link, kill/stop/pause/resume/restart of a
// node or of Redis — goes through here and lands on the fault timeline.
//
// Faults on links always go through Toxiproxy's HTTP API with toxiproxy-node-client, whether
// the environment runs real Toxiproxy or the embedded proxy: one code path.
import { randomBytes } from 'node:crypto';
import type { Proxy, Toxic, ToxicType } from 'toxiproxy-node-client';
import type { FaultEvent } from '../model/facts.ts';
import type { EnvChoice, Environment, RedisService } from './environment.ts';
import { startEnvironment, type StartEnvironmentOptions } from './select.ts';
import { startServerNode, type ServerNodeHandle } from './server-node.ts';
import { connectRemoteNode } from './remote-node.ts';
import { connectTargetEnv } from './target-env.ts';
import type { TargetSpec } from './target.ts';
import { FaultTimeline } from './timeline.ts';

export type LinkKind = 'client' | 'redis';
export type ServerEnv = Record<string, string | number | undefined>;

export interface TopologyOptions {
  /** Number of server nodes; default 1. */
  nodes?: number;
  /** Each node reaches Redis through its own proxy (redis-link:<node>); default true. */
  redisBehindProxy?: boolean;
  /** Each node gets a proxy in front of it for clients (client-link:<node>); default true. */
  clientLinksBehindProxy?: boolean;
  /** Environment of every node (PROTOCOL.md's variables, DEBUG_ROUTES, TEST_BUGS, ...). */
  serverEnv?: ServerEnv;
  /** Extra environment per node, by index. */
  nodeEnv?: Array<ServerEnv | undefined>;
  /** JWT_SECRET of every node; default a random one (topology.jwtSecret). */
  jwtSecret?: string;
  /** Run on this environment (not stopped by topology.stop()); default: start one. */
  env?: Environment;
  /** Which environment to start when `env` is not given; default auto. */
  envChoice?: EnvChoice;
  envOptions?: Omit<StartEnvironmentOptions, 'env'>;
  /** Node ids are `${nodeIdPrefix}-1` .. ; default "node". */
  nodeIdPrefix?: string;
  /** Script to run instead of server/main.ts. */
  serverEntry?: string;
  /** How long a node may take to become ready; default 30 s. */
  readyTimeoutMs?: number;
  /** Largest number of clients clientLinks() routes through the client-link proxies; default 1000. */
  maxProxiedClients?: number;
  /** Progress lines for people. */
  log?: (line: string) => void;
  /**
   * Servers someone else runs (imstorm run --target): no environment and no node is started;
   * `nodes` is their count, Redis is out of reach (no redis links), and client links go
   * through proxies on the target's Toxiproxy only when it gave one.
   */
  target?: TargetSpec;
}

export interface Link {
  /** Timeline target, e.g. client-link:node-1, redis-link:node-2. */
  readonly target: string;
  readonly kind: LinkKind;
  /** The node it belongs to. */
  readonly node: string;
  /** The Toxiproxy proxy's name. */
  readonly proxyName: string;
  /** host:port the proxy listens on. */
  readonly listen: string;
  /** host:port it forwards to (as the proxy sees it). */
  readonly upstream: string;
  readonly enabled: boolean;
  /** A fresh toxiproxy-node-client Proxy for it. */
  proxy(): Promise<Proxy>;
}

export interface TopologyNode {
  /** node-1, node-2, ... (also its NODE_ID). */
  readonly id: string;
  readonly index: number;
  readonly directUrl: string;
  readonly directWsUrl: string;
  /** /metrics and the debug routes: the node's ADMIN_PORT listener when it has one, else directUrl */
  readonly adminUrl: string;
  /** METRICS_TOKEN of the node, if it was given one */
  readonly metricsToken: string | undefined;
  /** Through client-link:<id>; undefined when client links are not behind proxies. */
  readonly proxiedUrl: string | undefined;
  readonly proxiedWsUrl: string | undefined;
  /** The proxied URL when there is one, else the direct one. */
  readonly url: string;
  readonly wsUrl: string;
  /** REDIS_URL the node was given (its redis-link proxy, or Redis itself). */
  readonly redisUrl: string;
  readonly clientLink: Link | undefined;
  readonly redisLink: Link | undefined;
  readonly process: ServerNodeHandle;
  readonly running: boolean;
  readonly paused: boolean;
}

export interface ToxicSpec {
  type: ToxicType;
  /** Toxiproxy's attributes for the type, in its units (latency/jitter ms, rate KB/s, ...). */
  attributes?: Record<string, number>;
  /** default downstream */
  stream?: 'upstream' | 'downstream';
  /** Probability per connection; default 1. */
  toxicity?: number;
  /** default `<type>_<stream>_<fault event id>` */
  name?: string;
}

export interface ActiveToxic {
  readonly name: string;
  readonly target: string;
  readonly event: FaultEvent;
  /** Removes the toxic and closes its timeline event. */
  remove(): Promise<void>;
}

/** Which clients go through the client-link proxies (each proxied link costs the proxy two fds). */
export interface ClientLinkPlan {
  readonly total: number;
  readonly proxied: number;
  readonly direct: number;
  /** One line for the run's log and report. */
  readonly note: string;
  isProxied(clientIndex: number): boolean;
  /** The WebSocket URL for client i (node: i mod N unless given). */
  wsUrl(clientIndex: number, nodeIndex?: number): string;
  /** The node client i is assigned to when no node is given. */
  nodeOf(clientIndex: number): TopologyNode;
}

export interface Topology {
  readonly env: Environment;
  readonly redis: RedisService;
  readonly jwtSecret: string;
  readonly nodes: readonly TopologyNode[];
  readonly links: readonly Link[];
  readonly toxiproxyUrl: string;
  /** Every control action so far, in order (the live array). */
  readonly timeline: readonly FaultEvent[];
  readonly faults: FaultTimeline;
  node(id: string | number): TopologyNode;
  link(target: string): Link;

  addToxic(target: string, spec: ToxicSpec): Promise<ActiveToxic>;
  removeToxic(target: string, name: string): Promise<void>;
  /** Refuses new connections and drops existing ones until enableLink(). */
  disableLink(target: string): Promise<void>;
  enableLink(target: string): Promise<void>;

  killNode(id: string | number): Promise<void>;
  stopNode(id: string | number): Promise<number | null>;
  startNode(id: string | number): Promise<void>;
  restartNode(id: string | number): Promise<void>;
  pauseNode(id: string | number): Promise<void>;
  resumeNode(id: string | number): Promise<void>;

  killRedis(): Promise<void>;
  stopRedis(): Promise<void>;
  startRedis(): Promise<void>;
  restartRedis(): Promise<void>;
  pauseRedis(): Promise<void>;
  resumeRedis(): Promise<void>;

  /** Removes every toxic, enables every link, resumes paused processes (closing their events). */
  heal(): Promise<void>;
  /** `nodes`: spread the clients over the first this many nodes only (default all) */
  clientLinks(totalClients: number, opts?: { maxProxied?: number; nodes?: number }): ClientLinkPlan;
  /** Stops the nodes (SIGTERM, SIGKILL after graceMs), removes the proxies, stops the environment if it started it. */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

interface LinkState extends Link {
  enabledNow: boolean;
  disableEvent: string | undefined;
  toxics: Map<string, { event: FaultEvent; toxic: Toxic<unknown> }>;
}

export async function startTopology(opts: TopologyOptions = {}): Promise<Topology> {
  const log = opts.log ?? (() => {});
  const count = opts.nodes ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new Error(`nodes must be a whole number >= 1 (got ${count})`);
  const redisBehindProxy = opts.redisBehindProxy ?? true;
  const clientLinksBehindProxy = opts.clientLinksBehindProxy ?? true;
  const prefix = opts.nodeIdPrefix ?? 'node';
  const jwtSecret = opts.jwtSecret ?? randomBytes(32).toString('hex');
  const target = opts.target;
  if (target) {
    if (count !== target.nodes.length) throw new Error(`nodes (${count}) must be the number of targets (${target.nodes.length})`);
    if (redisBehindProxy) throw new Error('a target topology has no redis links: pass redisBehindProxy: false');
    if (clientLinksBehindProxy && !target.toxiproxyUrl) throw new Error('client links behind proxies need the target\'s Toxiproxy (--toxiproxy-url)');
  }
  const ownEnv = !opts.env;
  const env = opts.env ?? (target ? await connectTargetEnv(target) : await startEnvironment({ ...opts.envOptions, env: opts.envChoice, log: opts.envOptions?.log ?? log }));
  // Proxies on a shared Toxiproxy (external, or the target's) carry this run's id; on our own, plain names.
  const sharedProxy = env.kind === 'external' || env.kind === 'target';
  const proxyPrefix = sharedProxy ? `imstorm-${randomBytes(3).toString('hex')}-` : '';
  const faults = new FaultTimeline();
  const links: LinkState[] = [];
  const nodes: Array<TopologyNode & { handle: ServerNodeHandle }> = [];
  let toxicSeq = 0;

  const createLink = async (kind: LinkKind, node: string, upstream: string): Promise<LinkState> => {
    const target = `${kind}-link:${node}`;
    const proxyName = `${proxyPrefix}${kind}-link-${node}`;
    const proxy = await env.toxiproxy.createProxy({ name: proxyName, listen: `${env.proxyHost}:0`, upstream, enabled: true });
    const link: LinkState = {
      target,
      kind,
      node,
      proxyName,
      listen: proxy.listen,
      upstream,
      get enabled() {
        return link.enabledNow;
      },
      proxy: () => env.toxiproxy.get(proxyName),
      enabledNow: true,
      disableEvent: undefined,
      toxics: new Map(),
    };
    links.push(link);
    return link;
  };
  const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));

  const startOne = async (index: number) => {
    const id = `${prefix}-${index + 1}`;
    const redisLink = redisBehindProxy ? await createLink('redis', id, env.redis.upstream) : undefined;
    const redisUrl = redisLink ? `redis://${env.proxyHost}:${portOf(redisLink.listen)}` : env.redis.url;
    const t = target?.nodes[index];
    const handle = t
      ? await connectRemoteNode(t, { metricsToken: target!.metricsToken, timeoutMs: opts.readyTimeoutMs ?? 15_000 })
      : await startServerNode({
          redisUrl,
          jwtSecret,
          nodeId: id,
          env: { ...opts.serverEnv, ...opts.nodeEnv?.[index] },
          timeoutMs: opts.readyTimeoutMs ?? 30_000,
          ...(opts.serverEntry ? { entry: opts.serverEntry } : {}),
        });
    // a target's proxy forwards to the target's own address, as the user's Toxiproxy reaches it
    const clientLink = clientLinksBehindProxy ? await createLink('client', id, t ? `${handle.host.includes(':') ? `[${handle.host}]` : handle.host}:${handle.port}` : env.hostUpstream(handle.port)) : undefined;
    const proxiedHost = clientLink ? `${env.proxyHost}:${portOf(clientLink.listen)}` : undefined;
    const wsPath = t ? new URL(t.wsUrl).pathname : '/ws';
    const node = {
      id,
      index,
      handle,
      process: handle,
      directUrl: handle.url,
      directWsUrl: handle.wsUrl,
      get adminUrl() {
        return handle.adminUrl;
      },
      get metricsToken() {
        return handle.metricsToken;
      },
      proxiedUrl: proxiedHost ? `http://${proxiedHost}` : undefined,
      proxiedWsUrl: proxiedHost ? `ws://${proxiedHost}${wsPath}` : undefined,
      get url() {
        return node.proxiedUrl ?? node.directUrl;
      },
      get wsUrl() {
        return node.proxiedWsUrl ?? node.directWsUrl;
      },
      redisUrl,
      clientLink,
      redisLink,
      get running() {
        return handle.running;
      },
      get paused() {
        return handle.paused;
      },
    };
    nodes[index] = node;
  };

  let stopped = false;
  const stop = async ({ graceMs = 5000 }: { graceMs?: number } = {}) => {
    if (stopped) return;
    stopped = true;
    await Promise.all(
      nodes.filter(Boolean).map(async (n) => {
        n.handle.resume();
        await n.handle.stop(graceMs);
      }),
    );
    if (!ownEnv || sharedProxy) {
      // the environment (or the Toxiproxy) outlives us: take our proxies away
      await Promise.all(links.map((l) => l.proxy().then((p) => p.remove()).catch(() => {})));
    }
    if (ownEnv) await env.stop();
  };

  try {
    await Promise.all(Array.from({ length: count }, (_, i) => startOne(i)));
  } catch (err) {
    await Promise.all(nodes.filter(Boolean).map((n) => n.handle.kill()));
    if (!ownEnv || sharedProxy) await Promise.all(links.map((l) => l.proxy().then((p) => p.remove()).catch(() => {})));
    if (ownEnv) await env.stop().catch(() => {});
    throw err;
  }

  const nodeBy = (id: string | number) => {
    const n = typeof id === 'number' ? nodes[id] : nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${String(id)} (nodes: ${nodes.map((x) => x.id).join(', ')})`);
    return n;
  };
  const linkBy = (target: string) => {
    const l = links.find((x) => x.target === target || x.proxyName === target);
    if (!l) throw new Error(`no link ${target} (links: ${links.map((x) => x.target).join(', ') || 'none'})`);
    return l;
  };
  const setEnabled = async (link: LinkState, enabled: boolean) => {
    const proxy = await link.proxy();
    await proxy.update({ enabled, listen: proxy.listen, upstream: proxy.upstream });
    link.enabledNow = enabled;
  };
  /** Closes open "down" events of a target once it is back. */
  const back = (target: string, kinds: RegExp) => faults.endAll({ target, kind: kinds });

  const topology: Topology = {
    env,
    redis: env.redis,
    jwtSecret,
    nodes,
    links,
    toxiproxyUrl: env.toxiproxyUrl,
    get timeline() {
      return faults.events;
    },
    faults,
    node: nodeBy,
    link: linkBy,

    async addToxic(target, spec) {
      const link = linkBy(target);
      const stream = spec.stream ?? 'downstream';
      const toxicity = spec.toxicity ?? 1;
      const attributes = spec.attributes ?? {};
      const seq = ++toxicSeq;
      const name = spec.name ?? `${spec.type}_${stream}_t${seq}`;
      const proxy = await link.proxy();
      // from the request: the toxic acts during the call, which a busy proxy answers seconds later
      const start = Date.now();
      const toxic = await proxy.addToxic({ name, type: spec.type, stream, toxicity, attributes });
      const event = faults.begin(`toxic:${spec.type}`, link.target, { name, stream, toxicity, attributes: { ...attributes } }, start);
      link.toxics.set(name, { event, toxic: toxic as Toxic<unknown> });
      return {
        name,
        target: link.target,
        event,
        remove: () => topology.removeToxic(link.target, name),
      };
    },
    async removeToxic(target, name) {
      const link = linkBy(target);
      const entry = link.toxics.get(name);
      if (entry) await entry.toxic.remove();
      else await (await (await link.proxy()).getToxic(name)).remove();
      link.toxics.delete(name);
      if (entry) faults.end(entry.event.id);
    },
    async disableLink(target) {
      const link = linkBy(target);
      if (!link.enabledNow) return;
      // from the request: the proxy closes the link's connections before it answers
      const start = Date.now();
      await setEnabled(link, false);
      link.disableEvent = faults.begin('link:disable', link.target, undefined, start).id;
    },
    async enableLink(target) {
      const link = linkBy(target);
      if (link.enabledNow) return;
      await setEnabled(link, true);
      if (link.disableEvent) faults.end(link.disableEvent);
      link.disableEvent = undefined;
    },

    async killNode(id) {
      const n = nodeBy(id);
      if (!n.handle.running) return;
      const start = Date.now();
      await n.handle.kill();
      faults.endAll({ target: n.id, kind: 'node:pause' });
      faults.begin('node:kill', n.id, { signal: 'SIGKILL' }, start);
    },
    async stopNode(id) {
      const n = nodeBy(id);
      if (!n.handle.running) return n.handle.process.exitCode;
      const start = Date.now();
      const code = await n.handle.stop();
      faults.endAll({ target: n.id, kind: 'node:pause' });
      faults.begin('node:stop', n.id, { signal: 'SIGTERM', exitCode: code }, start);
      return code;
    },
    async startNode(id) {
      const n = nodeBy(id);
      if (n.handle.running) return;
      await n.handle.start();
      back(n.id, /^node:(kill|stop)$/);
    },
    async restartNode(id) {
      const n = nodeBy(id);
      const start = Date.now();
      const wasRunning = n.handle.running;
      await n.handle.restart();
      const end = Date.now();
      back(n.id, /^node:(kill|stop|pause)$/);
      faults.span('node:restart', n.id, start, end, { wasRunning });
    },
    async pauseNode(id) {
      const n = nodeBy(id);
      if (!n.handle.running || n.handle.paused) return;
      n.handle.pause();
      faults.begin('node:pause', n.id, { signal: 'SIGSTOP' });
    },
    async resumeNode(id) {
      const n = nodeBy(id);
      n.handle.resume();
      back(n.id, /^node:pause$/);
    },

    async killRedis() {
      const start = Date.now();
      await env.redis.kill();
      faults.endAll({ target: 'redis', kind: 'redis:pause' });
      faults.begin('redis:kill', 'redis', { signal: 'SIGKILL' }, start);
    },
    async stopRedis() {
      const start = Date.now();
      await env.redis.stop();
      faults.endAll({ target: 'redis', kind: 'redis:pause' });
      faults.begin('redis:stop', 'redis', { signal: 'SIGTERM' }, start);
    },
    async startRedis() {
      await env.redis.start();
      back('redis', /^redis:(kill|stop|pause)$/);
    },
    async restartRedis() {
      const start = Date.now();
      await env.redis.stop();
      await env.redis.start();
      const end = Date.now();
      back('redis', /^redis:(kill|stop|pause)$/);
      faults.span('redis:restart', 'redis', start, end);
    },
    async pauseRedis() {
      if (faults.open({ target: 'redis', kind: 'redis:pause' }).length) return;
      await env.redis.pause();
      faults.begin('redis:pause', 'redis', { signal: 'SIGSTOP' });
    },
    async resumeRedis() {
      await env.redis.resume();
      back('redis', /^redis:pause$/);
    },

    async heal() {
      for (const link of links) {
        for (const name of [...link.toxics.keys()]) await topology.removeToxic(link.target, name);
        if (!link.enabledNow) await topology.enableLink(link.target);
      }
      for (const n of nodes) if (n.handle.paused) await topology.resumeNode(n.id);
      if (faults.open({ target: 'redis', kind: 'redis:pause' }).length) await topology.resumeRedis();
    },

    clientLinks(total, o = {}) {
      const max = o.maxProxied ?? opts.maxProxiedClients ?? 1000;
      const proxyable = clientLinksBehindProxy && max > 0;
      const step = proxyable ? Math.max(1, Math.ceil(total / max)) : Infinity;
      const isProxied = (i: number) => proxyable && i % step === 0;
      const proxied = proxyable ? Math.ceil(total / step) : 0;
      const direct = total - proxied;
      const note = !clientLinksBehindProxy
        ? `client links: all ${total} clients connect directly (client links are not behind proxies; client-link faults do not apply)`
        : direct === 0
          ? `client links: all ${total} clients go through the client-link proxies (${2 * proxied} proxy file descriptors)`
          : `client links: ${proxied} of ${total} clients (1 in ${step}) go through the client-link proxies, ${2 * proxied} proxy file descriptors at 2 per link; the other ${direct} connect directly and see no client-link faults`;
      const spread = Math.min(nodes.length, Math.max(1, o.nodes ?? nodes.length));
      const nodeOf = (i: number) => nodes[i % spread]!;
      return {
        total,
        proxied,
        direct,
        note,
        isProxied,
        nodeOf,
        wsUrl(i, nodeIndex) {
          const n = nodeIndex === undefined ? nodeOf(i) : nodeBy(nodeIndex);
          return isProxied(i) && n.proxiedWsUrl ? n.proxiedWsUrl : n.directWsUrl;
        },
      };
    },
    stop,
  };
  log(
    `topology: ${count} node(s) on ${env.kind}; Redis ${target ? 'not reachable from here (a target)' : redisBehindProxy ? 'behind a proxy per node' : 'reached directly'}; client links ${clientLinksBehindProxy ? 'behind a proxy per node' : 'direct only'}`,
  );
  return topology;
}
