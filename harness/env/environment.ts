// What every environment provider gives a run: one Redis it can hurt, and one Toxiproxy
// API (real Toxiproxy or the embedded, API-compatible proxy) that the topology drives
// through toxiproxy-node-client. Providers: containers (Testcontainers), local
// (redis-server from PATH + the embedded proxy), external (REDIS_URL + TOXIPROXY_URL);
// and target (imstorm run --target: servers someone else runs, no Redis of ours at all).
import type { Toxiproxy } from 'toxiproxy-node-client';

export type EnvKind = 'containers' | 'local' | 'external' | 'target';
/** `target` is not chosen with --env: --target picks it */
export type EnvChoice = Exclude<EnvKind, 'target'> | 'auto';
export const ENV_CHOICES: readonly EnvChoice[] = ['auto', 'containers', 'local', 'external'];

/**
 * The Redis under test. Process controls keep its data: AOF is on (appendfsync always)
 * and start() reuses the same data dir (local) or the same container (containers), on the
 * same address. An external Redis is not ours to hurt: its controls throw
 * UnsupportedControlError.
 */
export interface RedisService {
  /** redis://host:port as the harness (and a node started on this host) reaches it. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** host:port as the Toxiproxy reaches it (the upstream of a node's Redis link). */
  readonly upstream: string;
  /** Whether kill/stop/start/pause/resume are available. */
  readonly controllable: boolean;
  /** SIGKILL (docker kill); resolves once it is down. */
  kill(): Promise<void>;
  /** Graceful shutdown (SIGTERM; docker stop); resolves once it is down. */
  stop(): Promise<void>;
  /** Start again after kill() or stop(), same address and data; resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGSTOP (docker pause): connections stay open, nothing is answered. */
  pause(): Promise<void>;
  /** SIGCONT (docker unpause). */
  resume(): Promise<void>;
  /** One command over a short-lived connection (PING, INFO, CONFIG GET, DBSIZE, GET, SET). */
  command(...args: string[]): Promise<unknown>;
}

export interface Environment {
  readonly kind: EnvKind;
  /** One line for people: what runs where (images, binaries, URLs). */
  readonly description: string;
  readonly redis: RedisService;
  /** Base URL of the Toxiproxy HTTP API, e.g. http://127.0.0.1:8474. */
  readonly toxiproxyUrl: string;
  /** A toxiproxy-node-client bound to toxiproxyUrl. */
  readonly toxiproxy: Toxiproxy;
  /** Host the proxies listen on, as clients and nodes on this machine dial it (127.0.0.1). */
  readonly proxyHost: string;
  /** The proxy-side address of something listening on this machine's 127.0.0.1:port. */
  hostUpstream(port: number): string;
  /** Stops everything this environment started (idempotent). Data is not kept. */
  stop(): Promise<void>;
}

/** The common options of every provider (flags and env fill them in the CLI). */
export interface EnvOptions {
  /** containers: Redis image; default IMSTORM_REDIS_IMAGE or redis:7-alpine. */
  redisImage?: string;
  /** containers: Toxiproxy image; default IMSTORM_TOXIPROXY_IMAGE or ghcr.io/shopify/toxiproxy:2.12.0. */
  toxiproxyImage?: string;
  /** external: default REDIS_URL. */
  redisUrl?: string;
  /** external: default TOXIPROXY_URL. */
  toxiproxyUrl?: string;
  /** local: redis-server binary; default REDIS_SERVER_BIN or PATH. */
  redisServerBin?: string;
  /** local and containers: Redis without persistence (appendonly no, no snapshots), so a restart comes back empty; default false. */
  volatileRedis?: boolean;
  /** Progress lines for people (which provider, why). */
  log?: (line: string) => void;
}

/** The chosen provider cannot run here; the message says what to install or set. */
export class EnvUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvUnavailableError';
  }
}

/** A process control that this environment does not allow (e.g. killing an external Redis). */
export class UnsupportedControlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedControlError';
  }
}
