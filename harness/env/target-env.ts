// The environment of a run against servers the harness did not start (--target): no Redis
// it can reach or hurt, and a Toxiproxy API only when the user gives one (--toxiproxy-url)
// whose proxies can reach the targets. Its proxies are named imstorm-<id>-… there and
// removed after the run, as on any shared Toxiproxy.
import { Toxiproxy } from 'toxiproxy-node-client';
import { EnvUnavailableError, UnsupportedControlError, type Environment, type RedisService } from './environment.ts';
import type { TargetSpec } from './target.ts';

export async function connectTargetEnv(spec: TargetSpec): Promise<Environment> {
  const noRedis = (what: string) => () => Promise.reject(new UnsupportedControlError(`cannot ${what} the target's Redis: --target runs reach only the servers`));
  const redis: RedisService = {
    // empty: the sampler reads no Redis INFO, and nothing else may dial it
    url: '',
    host: '',
    port: 0,
    upstream: '',
    controllable: false,
    kill: noRedis('kill'),
    stop: noRedis('stop'),
    start: noRedis('start'),
    pause: noRedis('pause'),
    resume: noRedis('resume'),
    command: noRedis('send a command to'),
  };
  const url = spec.toxiproxyUrl;
  let toxiproxy: Toxiproxy | undefined;
  if (url) {
    toxiproxy = new Toxiproxy(url);
    try {
      await toxiproxy.getVersion();
    } catch (err) {
      throw new EnvUnavailableError(`--toxiproxy-url: no Toxiproxy API answers at ${url} (GET /version: ${(err as Error).message}); start one in front of the targets (toxiproxy-server -host 0.0.0.0, or imstorm toxiproxy), or drop the flag to run without link faults`);
    }
  }
  const proxyHost = url ? (process.env.TOXIPROXY_LISTEN_HOST ?? new URL(url).hostname.replace(/^\[|\]$/g, '')) : '';
  return {
    kind: 'target',
    description: `target: ${spec.nodes.map((n) => n.wsUrl).join(', ')} (not started here); ${url ? `Toxiproxy ${url} (client-link proxies listen on ${proxyHost})` : 'no Toxiproxy (--toxiproxy-url): no link faults'}`,
    redis,
    toxiproxyUrl: url ?? '',
    get toxiproxy(): Toxiproxy {
      if (!toxiproxy) throw new UnsupportedControlError('no Toxiproxy API for this target: give --toxiproxy-url for link faults');
      return toxiproxy;
    },
    proxyHost,
    hostUpstream() {
      throw new UnsupportedControlError('a --target run starts nothing on this machine for a proxy to reach');
    },
    async stop() {
      // nothing of ours runs there but the proxies, which the topology removes
    },
  };
}
