// The containers environment for real: a Docker engine, the Redis and Toxiproxy images
// (in CI the ones docker/build-local-images.sh builds, since no registry is reachable),
// Testcontainers' RedisContainer and ToxiProxyContainer, label-based cleanup, and the
// whole topology suite on containers.
//
// Runs only with IMSTORM_TEST_CONTAINERS=1 (.ci/run sets it once dockerd runs and the
// images are built). Without it the suites below are reported as skipped, by name.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import {
  containersAvailability,
  detectEngine,
  listLabelledContainers,
  reapStaleContainers,
  startEnvironment,
  LABEL_HARNESS,
  LABEL_HOST,
  LABEL_PID,
  LABEL_RUN,
  LOCAL_REDIS_IMAGE,
  LOCAL_TOXIPROXY_IMAGE,
  type ContainersEnvironment,
} from '../../harness/env/index.ts';
import { rawRedisCommand } from '../../harness/env/redis-process.ts';
import { defineTopologySuite } from './topology-suite.ts';

const enabled = process.env.IMSTORM_TEST_CONTAINERS === '1';
const SKIPPED = 'skipped: IMSTORM_TEST_CONTAINERS is not 1 (.ci/run sets it after starting dockerd and building the images)';
if (!enabled) {
  process.stderr.write(`\n[containers environment tests] SKIPPED: IMSTORM_TEST_CONTAINERS is not 1. To run them: start dockerd, run docker/build-local-images.sh, then IMSTORM_TEST_CONTAINERS=1 npm test\n\n`);
}
// Ryuk's image cannot be had without a registry; the harness cleans up by label instead.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

const redisImage = process.env.IMSTORM_REDIS_IMAGE ?? LOCAL_REDIS_IMAGE;
const toxiproxyImage = process.env.IMSTORM_TOXIPROXY_IMAGE ?? LOCAL_TOXIPROXY_IMAGE;
const BIN = new URL('../../bin/imstorm.js', import.meta.url).pathname;

/** Containers of ours started by this test process. */
async function ours(): Promise<string[]> {
  return (await listLabelledContainers()).filter((c) => c.labels[LABEL_PID] === String(process.pid)).map((c) => c.id);
}

describe.skipIf(!enabled)(enabled ? 'containers environment' : `containers environment (${SKIPPED})`, () => {
  afterAll(async () => {
    expect(await ours()).toEqual([]);
  });

  it('finds the engine and the images', async () => {
    const engine = await detectEngine();
    expect(engine.ok).toBe(true);
    const avail = await containersAvailability({ redisImage, toxiproxyImage });
    expect(avail).toMatchObject({ ok: true, images: { redisImage, toxiproxyImage } });
  });

  it('auto chooses containers when an engine answers and the images are present; stop() removes them', async () => {
    const lines: string[] = [];
    const env = (await startEnvironment({ env: 'auto', redisImage, toxiproxyImage, log: (l) => lines.push(l) })) as ContainersEnvironment;
    try {
      expect(env.kind).toBe('containers');
      expect(lines.join('\n')).toMatch(/using containers/);
      expect(await env.redis.command('PING')).toBe('PONG');
      expect(await env.toxiproxy.getVersion()).toMatch(/2\./);
      const mine = await listLabelledContainers(undefined, env.run);
      expect(mine.map((c) => c.labels['dev.imstorm.role']).sort()).toEqual(['redis', 'toxiproxy']);
    } finally {
      await env.stop();
    }
    expect(await listLabelledContainers(undefined, env.run)).toEqual([]);
  });

  it('ToxiProxyContainer runs the Toxiproxy image unchanged, in front of a RedisContainer on a network of its own', async () => {
    const { Network } = await import('testcontainers');
    const { RedisContainer } = await import('@testcontainers/redis');
    const { ToxiProxyContainer } = await import('@testcontainers/toxiproxy');
    const labels = { [LABEL_HARNESS]: 'true', [LABEL_RUN]: `tc-${process.pid}`, [LABEL_PID]: String(process.pid), [LABEL_HOST]: os.hostname() };
    const network = await new Network().start();
    try {
      const redis = await new RedisContainer(redisImage).withNetwork(network).withNetworkAliases('redis').withLabels(labels).withAutoCleanup(false).start();
      // RedisContainer's own helpers work against the image (redis-cli inside it)
      expect((await redis.executeCliCmd('PING')).trim()).toBe('PONG');
      const toxiproxy = await new ToxiProxyContainer(toxiproxyImage).withNetwork(network).withLabels(labels).withAutoCleanup(false).start();
      const proxy = await toxiproxy.createProxy({ name: 'redis', upstream: 'redis:6379' });
      expect(proxy.instance.listen).toMatch(/:8666$/);
      expect(await rawRedisCommand(proxy.port, ['PING'], 2000, '127.0.0.1')).toBe('PONG');
      await proxy.instance.addToxic({ name: 'slow', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 300, jitter: 0 } });
      const t0 = performance.now();
      expect(await rawRedisCommand(proxy.port, ['PING'], 3000, '127.0.0.1')).toBe('PONG');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
      await proxy.setEnabled(false);
      await expect(rawRedisCommand(proxy.port, ['PING'], 1000, '127.0.0.1')).rejects.toThrow();
      await toxiproxy.stop();
      await redis.stop();
    } finally {
      for (const { id } of await listLabelledContainers(undefined, `tc-${process.pid}`)) {
        const { getContainerRuntimeClient } = await import('testcontainers');
        await (await getContainerRuntimeClient()).container.getById(id).remove({ force: true, v: true }).catch(() => {});
      }
      await network.stop();
    }
  });

  it("reaps containers left by a run whose process died", async () => {
    const engine = await detectEngine();
    if (!engine.ok) throw new Error(engine.reason);
    const { GenericContainer } = await import('testcontainers');
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    const run = `stale-${process.pid}`;
    const c = await new GenericContainer(redisImage)
      .withLabels({ [LABEL_HARNESS]: 'true', [LABEL_RUN]: run, [LABEL_PID]: String(dead.pid), [LABEL_HOST]: os.hostname() })
      .withAutoCleanup(false)
      .start();
    expect((await listLabelledContainers(undefined, run)).map((x) => x.id)).toEqual([c.getId()]);
    expect(await reapStaleContainers(engine.client)).toBeGreaterThanOrEqual(1);
    expect(await listLabelledContainers(undefined, run)).toEqual([]);
  });

  it('imstorm env up --env containers prints the URLs and removes its containers on SIGINT', async () => {
    const child = spawn(process.execPath, [BIN, 'env', 'up', '--env', 'containers', '--nodes', '1', '--json', '--server-env', 'LOG_LEVEL=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, IMSTORM_REDIS_IMAGE: redisImage, IMSTORM_TOXIPROXY_IMAGE: toxiproxyImage },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!out.includes('ready; Ctrl-C')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`env up did not get ready:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const info = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as { env: string; nodes: Array<{ proxiedUrl: string }> };
      expect(info.env).toBe('containers');
      expect((await fetch(`${info.nodes[0]!.proxiedUrl}/readyz`)).status).toBe(200);
      const theirs = (await listLabelledContainers()).filter((c) => c.labels[LABEL_PID] === String(child.pid));
      expect(theirs).toHaveLength(2);
      child.kill('SIGINT');
      expect(await exit).toBe(0);
      expect((await listLabelledContainers()).filter((c) => c.labels[LABEL_PID] === String(child.pid))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

defineTopologySuite('containers', enabled, enabled ? 'topology on the containers environment' : `topology on the containers environment (${SKIPPED})`, {
  afterStop: async (topo) => {
    expect(topo.env.kind).toBe('containers');
    expect(await listLabelledContainers(undefined, (topo.env as ContainersEnvironment).run)).toEqual([]);
  },
});
