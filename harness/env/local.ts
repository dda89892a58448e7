// The local provider: redis-server from PATH on a free 127.0.0.1 port in a temp dir
// (AOF on, appendfsync always), and the embedded Toxiproxy-compatible proxy in a process
// of its own (proxy-process.ts) on a free 127.0.0.1 port. No Docker needed.
import { Toxiproxy } from 'toxiproxy-node-client';
import { startProxyProcess } from './proxy-process.ts';
import { EnvUnavailableError, type EnvOptions, type Environment, type RedisService } from './environment.ts';
import { findRedisServer, redisServerVersion, startRedisProcess, REDIS_INSTALL_HINT, type RedisProcessHandle } from './redis-process.ts';

export interface LocalEnvOptions extends EnvOptions {
  /** Port of the embedded Toxiproxy API; default 0 (a free one). */
  toxiproxyPort?: number;
}

/** Why the local provider cannot run here, or undefined when it can. */
export function localUnavailableReason(opts: Pick<EnvOptions, 'redisServerBin'> = {}): string | undefined {
  const wanted = opts.redisServerBin ?? process.env.REDIS_SERVER_BIN;
  const bin = findRedisServer(wanted);
  if (!bin && wanted) return `${wanted} (REDIS_SERVER_BIN) is not an executable redis-server; ${REDIS_INSTALL_HINT}`;
  if (!bin) return `redis-server is not on PATH; ${REDIS_INSTALL_HINT}`;
  if (!redisServerVersion(bin)) return `${bin} does not run (redis-server --version failed); reinstall it: ${REDIS_INSTALL_HINT}`;
  return undefined;
}

export function localRedisService(proc: RedisProcessHandle): RedisService {
  return {
    get url() {
      return proc.url;
    },
    host: proc.host,
    port: proc.port,
    upstream: `${proc.host}:${proc.port}`,
    controllable: true,
    kill: () => proc.kill(),
    stop: () => proc.stop(),
    start: () => proc.start(),
    pause: async () => proc.pause(),
    resume: async () => proc.resume(),
    command: (...args) => proc.command(...args),
  };
}

export async function startLocalEnv(opts: LocalEnvOptions = {}): Promise<Environment> {
  const reason = localUnavailableReason(opts);
  if (reason) throw new EnvUnavailableError(`local environment: ${reason}`);
  const bin = findRedisServer(opts.redisServerBin ?? process.env.REDIS_SERVER_BIN)!;
  const redis = await startRedisProcess({ bin, appendonly: !opts.volatileRedis });
  let proxy;
  try {
    proxy = await startProxyProcess({ host: '127.0.0.1', port: opts.toxiproxyPort ?? 0 });
  } catch (err) {
    await redis.cleanup();
    throw err;
  }
  let stopped = false;
  return {
    kind: 'local',
    description: `local: ${bin} (v${redisServerVersion(bin) ?? '?'}, ${opts.volatileRedis ? 'volatile: no AOF' : 'AOF on'}, dir ${redis.dir}) on ${redis.url}; embedded Toxiproxy-compatible proxy on ${proxy.url}`,
    redis: localRedisService(redis),
    toxiproxyUrl: proxy.url,
    toxiproxy: new Toxiproxy(proxy.url),
    proxyHost: '127.0.0.1',
    hostUpstream: (port) => `127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await proxy.close();
      await redis.cleanup();
    },
  };
}
