// The external provider: a Redis and a Toxiproxy that someone else runs (CI service
// containers, a lab), given as REDIS_URL and TOXIPROXY_URL. The harness creates its
// proxies there and removes them again, but never kills, pauses or restarts the Redis.
// The Toxiproxy must reach this machine's 127.0.0.1 (same host, host networking) for
// client links to nodes started here.
import { Toxiproxy } from 'toxiproxy-node-client';
import { EnvUnavailableError, UnsupportedControlError, type EnvOptions, type Environment, type RedisService } from './environment.ts';
import { rawRedisCommand } from './redis-process.ts';

export interface ExternalEnvOptions extends EnvOptions {
  /** Host the Toxiproxy's proxies listen on; default the TOXIPROXY_URL's host. */
  proxyHost?: string;
  /** Host:port at which the Toxiproxy reaches Redis; default the REDIS_URL's host:port. */
  redisUpstream?: string;
}

function parseUrl(value: string, what: string, protocols: string[]): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EnvUnavailableError(`external environment: ${what} is not a URL: ${value}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new EnvUnavailableError(`external environment: ${what} must start with ${protocols.map((p) => `${p}//`).join(' or ')} (got ${value})`);
  }
  return url;
}

export async function startExternalEnv(opts: ExternalEnvOptions = {}): Promise<Environment> {
  const redisUrl = opts.redisUrl ?? process.env.REDIS_URL;
  const toxiproxyUrl = (opts.toxiproxyUrl ?? process.env.TOXIPROXY_URL)?.replace(/\/+$/, '');
  if (!redisUrl || !toxiproxyUrl) {
    const missing = [!redisUrl && 'REDIS_URL (--redis-url)', !toxiproxyUrl && 'TOXIPROXY_URL (--toxiproxy-url)'].filter(Boolean).join(' and ');
    throw new EnvUnavailableError(`external environment: set ${missing}, e.g. REDIS_URL=redis://127.0.0.1:6379 TOXIPROXY_URL=http://127.0.0.1:8474`);
  }
  const r = parseUrl(redisUrl, 'REDIS_URL', ['redis:']);
  parseUrl(toxiproxyUrl, 'TOXIPROXY_URL', ['http:', 'https:']);
  const host = r.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(r.port || 6379);

  const ping = await rawRedisCommand(port, ['PING'], 3000, host).catch((err: Error) => err);
  if (ping !== 'PONG') {
    const why = ping instanceof Error ? ping.message : `answered ${String(ping)}`;
    throw new EnvUnavailableError(`external environment: Redis at ${redisUrl} does not answer PING (${why})`);
  }
  const toxiproxy = new Toxiproxy(toxiproxyUrl);
  try {
    await toxiproxy.getVersion();
  } catch (err) {
    throw new EnvUnavailableError(`external environment: no Toxiproxy API at ${toxiproxyUrl} (GET /version: ${(err as Error).message})`);
  }

  const refuse = (what: string) => () =>
    Promise.reject(new UnsupportedControlError(`cannot ${what} an external Redis (${redisUrl}); use the local or containers environment for process faults`));
  const redis: RedisService = {
    url: redisUrl,
    host,
    port,
    upstream: opts.redisUpstream ?? `${host.includes(':') ? `[${host}]` : host}:${port}`,
    controllable: false,
    kill: refuse('kill'),
    stop: refuse('stop'),
    start: refuse('start'),
    pause: refuse('pause'),
    resume: refuse('resume'),
    command: (...args) => rawRedisCommand(port, args, 2000, host),
  };
  const proxyHost = opts.proxyHost ?? process.env.TOXIPROXY_LISTEN_HOST ?? new URL(toxiproxyUrl).hostname.replace(/^\[|\]$/g, '');
  return {
    kind: 'external',
    description: `external: Redis ${redisUrl}, Toxiproxy ${toxiproxyUrl} (proxies listen on ${proxyHost})`,
    redis,
    toxiproxyUrl,
    toxiproxy,
    proxyHost,
    hostUpstream: (p) => `127.0.0.1:${p}`,
    async stop() {
      // nothing of ours runs there but the proxies, which the topology removes
    },
  };
}
