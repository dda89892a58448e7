// The containers provider: Redis in a container through @testcontainers/redis's
// RedisContainer (AOF on, its port published on 127.0.0.1 at a fixed host port so a
// restarted container keeps its address), and Toxiproxy in a container on the host's
// network (so the proxies in front of server nodes running on this machine dial
// 127.0.0.1 and listen on 127.0.0.1: no traffic leaves loopback).
//
// Everything is labelled (LABEL_HARNESS, LABEL_RUN, LABEL_PID): stop() removes this
// run's containers, an exit hook removes them with the docker CLI if the process dies
// first (Ctrl-C, an uncaught error), and each new run reaps containers of dead runs —
// Ryuk is not needed (it is used as well when TESTCONTAINERS_RYUK_DISABLED is not "true"
// and its image is present or pullable).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Toxiproxy } from 'toxiproxy-node-client';
import type { ContainerRuntimeClient } from 'testcontainers';
import { EnvUnavailableError, type EnvOptions, type Environment, type RedisService } from './environment.ts';
import { freePort, onExit, sleep } from './procs.ts';
import { ping, rawRedisCommand } from './redis-process.ts';

export const DEFAULT_REDIS_IMAGE = 'redis:7-alpine';
export const DEFAULT_TOXIPROXY_IMAGE = 'ghcr.io/shopify/toxiproxy:2.12.0';
/** Tags of the images docker/build-local-images.sh builds without a registry. */
export const LOCAL_REDIS_IMAGE = 'imstorm-local/redis:7';
export const LOCAL_TOXIPROXY_IMAGE = 'imstorm-local/toxiproxy:2.12.0';

/** Testcontainers' reaper image (testcontainers 12), used unless TESTCONTAINERS_RYUK_DISABLED=true. */
const RYUK_IMAGE = 'testcontainers/ryuk:0.14.0';

export const LABEL_HARNESS = 'dev.imstorm.harness';
export const LABEL_RUN = 'dev.imstorm.run';
export const LABEL_PID = 'dev.imstorm.pid';
export const LABEL_HOST = 'dev.imstorm.host';
export const LABEL_ROLE = 'dev.imstorm.role';

export interface ContainersEnvOptions extends EnvOptions {
  /** Longest wait for an image pull; default 120 s. */
  pullTimeoutMs?: number;
  /** How to look for the engine (tests point it at nothing). */
  engine?: EngineProbeOptions;
}

export interface EngineProbeOptions {
  /** Longest wait for an engine that has a socket to answer; default 5 s. */
  timeoutMs?: number;
  /** Socket (and config) files whose absence means "no engine"; default the usual places. */
  socketPaths?: string[];
  /** DOCKER_HOST to assume; default process.env.DOCKER_HOST ("" = unset). */
  dockerHost?: string;
}

export type EngineCheck = { ok: true; client: ContainerRuntimeClient; version: string } | { ok: false; reason: string };

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]);
}

/** Where a Docker engine could be: if none of these exists (and DOCKER_HOST is unset) there is none, and we say so at once. */
function engineCandidates(): string[] {
  const home = os.homedir();
  const out = ['/var/run/docker.sock', path.join(home, '.docker', 'run', 'docker.sock'), path.join(home, '.docker', 'desktop', 'docker.sock')];
  if (process.env.XDG_RUNTIME_DIR) out.push(path.join(process.env.XDG_RUNTIME_DIR, 'docker.sock'));
  out.push(path.join(home, '.testcontainers.properties'));
  return out;
}

/**
 * Does a container engine answer? Milliseconds when there is none (no DOCKER_HOST, no
 * socket file); at most `timeoutMs` when a socket exists but nothing answers on it.
 */
export async function detectEngine(opts: EngineProbeOptions = {}): Promise<EngineCheck> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const dockerHost = opts.dockerHost ?? process.env.DOCKER_HOST ?? '';
  const candidates = opts.socketPaths ?? engineCandidates();
  if (!dockerHost && !candidates.some((p) => existsSync(p))) {
    return { ok: false, reason: `no Docker engine: DOCKER_HOST is not set and ${candidates[0] ?? '/var/run/docker.sock'} does not exist` };
  }
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await withTimeout(getContainerRuntimeClient(), timeoutMs, 'the Docker engine');
    return { ok: true, client, version: String(client.info.containerRuntime.serverVersion) };
  } catch (err) {
    return { ok: false, reason: `no working Docker engine (${(err as Error).message})` };
  }
}

export interface ImageChoice {
  redisImage: string;
  toxiproxyImage: string;
  /** Whether Testcontainers' Ryuk also watches this run (unless disabled, and only when its image is there). */
  useRyuk: boolean;
  /** What was decided, for people (e.g. fell back to a local build). */
  notes: string[];
}

async function imageExists(client: ContainerRuntimeClient, name: string): Promise<boolean> {
  const { ImageName } = await import('testcontainers');
  try {
    return await client.image.exists(ImageName.fromString(name));
  } catch {
    return false;
  }
}

async function pullImage(client: ContainerRuntimeClient, name: string, timeoutMs: number): Promise<string | undefined> {
  const { ImageName } = await import('testcontainers');
  try {
    await withTimeout(client.image.pull(ImageName.fromString(name), { force: false, platform: undefined }), timeoutMs, `pulling ${name}`);
    return (await imageExists(client, name)) ? undefined : `pulled ${name} but it is still not there`;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

/**
 * The images to run: flag, else env (IMSTORM_REDIS_IMAGE / IMSTORM_TOXIPROXY_IMAGE), else
 * the public defaults; each must be present or pullable. When a default is neither and the
 * local build (docker/build-local-images.sh) is present, that is used instead, and said.
 */
export async function chooseImages(client: ContainerRuntimeClient, opts: ContainersEnvOptions = {}): Promise<ImageChoice | { reason: string }> {
  const notes: string[] = [];
  const pick = async (flag: string | undefined, envName: string, fallbackDefault: string, localBuild: string): Promise<string | { reason: string }> => {
    const explicit = flag ?? process.env[envName];
    const name = explicit || fallbackDefault;
    if (await imageExists(client, name)) return name;
    const pullError = await pullImage(client, name, opts.pullTimeoutMs ?? 120_000);
    if (!pullError) {
      notes.push(`pulled ${name}`);
      return name;
    }
    if (!explicit && (await imageExists(client, localBuild))) {
      notes.push(`${name} is not present and cannot be pulled (${pullError}); using the local build ${localBuild}`);
      return localBuild;
    }
    return {
      reason: `image ${name} is not present and cannot be pulled (${pullError}); build the local images with docker/build-local-images.sh and set ${envName}=${localBuild}`,
    };
  };
  const redisImage = await pick(opts.redisImage, 'IMSTORM_REDIS_IMAGE', DEFAULT_REDIS_IMAGE, LOCAL_REDIS_IMAGE);
  if (typeof redisImage !== 'string') return redisImage;
  const toxiproxyImage = await pick(opts.toxiproxyImage, 'IMSTORM_TOXIPROXY_IMAGE', DEFAULT_TOXIPROXY_IMAGE, LOCAL_TOXIPROXY_IMAGE);
  if (typeof toxiproxyImage !== 'string') return toxiproxyImage;
  let useRyuk = process.env.TESTCONTAINERS_RYUK_DISABLED !== 'true';
  if (useRyuk) {
    const ryuk = process.env.RYUK_CONTAINER_IMAGE || RYUK_IMAGE;
    if (!(await imageExists(client, ryuk))) {
      const pullError = await pullImage(client, ryuk, opts.pullTimeoutMs ?? 120_000);
      if (pullError) {
        useRyuk = false;
        notes.push(`Ryuk (${ryuk}) cannot be pulled (${pullError}); cleaning up by label only (set TESTCONTAINERS_RYUK_DISABLED=true to skip this check)`);
      }
    }
  }
  return { redisImage, toxiproxyImage, useRyuk, notes };
}

/** Why the containers provider cannot run here, or the engine and images it would use. */
export async function containersAvailability(opts: ContainersEnvOptions = {}): Promise<{ ok: true; client: ContainerRuntimeClient; version: string; images: ImageChoice } | { ok: false; reason: string }> {
  const engine = await detectEngine(opts.engine);
  if (!engine.ok) return engine;
  const images = await chooseImages(engine.client, opts);
  if ('reason' in images) return { ok: false, reason: images.reason };
  return { ok: true, client: engine.client, version: engine.version, images };
}

function dockerCli(args: string[], timeoutMs = 20_000): { ok: boolean; out: string } {
  const res = spawnSync('docker', args, { encoding: 'utf8', timeout: timeoutMs });
  return { ok: res.status === 0, out: `${res.stdout ?? ''}${res.stderr ?? ''}` };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Ids of containers carrying our label (and `run`'s id when given), running or not. */
export async function listLabelledContainers(client?: ContainerRuntimeClient, run?: string): Promise<Array<{ id: string; labels: Record<string, string> }>> {
  let c = client;
  if (!c) {
    const engine = await detectEngine();
    if (!engine.ok) return [];
    c = engine.client;
  }
  const all = await c.container.list();
  return all
    .filter((info) => info.Labels?.[LABEL_HARNESS] === 'true' && (run === undefined || info.Labels?.[LABEL_RUN] === run))
    .map((info) => ({ id: info.Id, labels: info.Labels ?? {} }));
}

/** Removes (force, with volumes) every container of ours whose run's process is gone from this host. */
export async function reapStaleContainers(client: ContainerRuntimeClient): Promise<number> {
  let removed = 0;
  for (const { id, labels } of await listLabelledContainers(client)) {
    const pid = Number(labels[LABEL_PID]);
    if (labels[LABEL_HOST] !== os.hostname() || !Number.isInteger(pid) || processAlive(pid)) continue;
    try {
      await client.container.getById(id).remove({ force: true, v: true });
      removed++;
    } catch {
      // already gone
    }
  }
  return removed;
}

/** Removes every container of run `run` (force, with volumes). */
export async function removeRunContainers(client: ContainerRuntimeClient, run: string): Promise<void> {
  for (const { id } of await listLabelledContainers(client, run)) {
    const container = client.container.getById(id);
    try {
      await container.remove({ force: true, v: true });
    } catch {
      // already gone
    }
  }
}

async function waitFor(what: string, timeoutMs: number, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export interface ContainersEnvironment extends Environment {
  readonly kind: 'containers';
  /** This run's LABEL_RUN value: every container it started carries it. */
  readonly run: string;
}

export async function startContainersEnv(opts: ContainersEnvOptions = {}): Promise<ContainersEnvironment> {
  const log = opts.log ?? (() => {});
  const availability = await containersAvailability(opts);
  if (!availability.ok) throw new EnvUnavailableError(`containers environment: ${availability.reason}`);
  const { client, images } = availability;
  for (const note of images.notes) log(note);
  const reaped = await reapStaleContainers(client);
  if (reaped) log(`removed ${reaped} container(s) left by an earlier run that died`);

  const { GenericContainer, Wait } = await import('testcontainers');
  const { RedisContainer } = await import('@testcontainers/redis');
  const run = randomBytes(6).toString('hex');
  const labels = { [LABEL_HARNESS]: 'true', [LABEL_RUN]: run, [LABEL_PID]: String(process.pid), [LABEL_HOST]: os.hostname() };
  const autoCleanup = images.useRyuk;
  // If this process dies before stop(), the exit hook removes this run's containers.
  const unregister = onExit(() => {
    const ids = dockerCli(['ps', '-aq', '--filter', `label=${LABEL_RUN}=${run}`], 5000);
    const list = ids.out.split(/\s+/).filter((s) => /^[0-9a-f]{6,}$/.test(s));
    if (list.length) dockerCli(['rm', '-fv', ...list]);
  });

  const cleanup = async () => {
    unregister();
    await removeRunContainers(client, run);
  };

  try {
    // Redis: a fixed host port on 127.0.0.1, so a killed and started container keeps its address.
    const redisPort = await freePort();
    class LoopbackRedisContainer extends RedisContainer {
      protected override async beforeContainerCreated(): Promise<void> {
        for (const bindings of Object.values(this.hostConfig.PortBindings ?? {}) as Array<Array<{ HostIp?: string }>>) {
          for (const b of bindings) b.HostIp = '127.0.0.1';
        }
      }
    }
    const redisContainer = await new LoopbackRedisContainer(images.redisImage)
      .withCommand(['redis-server', '--appendonly', opts.volatileRedis ? 'no' : 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction', '--dir', '/data'])
      .withExposedPorts({ container: 6379, host: redisPort })
      .withLabels({ ...labels, [LABEL_ROLE]: 'redis' })
      .withAutoCleanup(autoCleanup)
      .withStartupTimeout(60_000)
      .start();

    // Toxiproxy: host networking, API on a free 127.0.0.1 port (toxiproxy-server's -host/-port).
    const apiPort = await freePort();
    await new GenericContainer(images.toxiproxyImage)
      .withNetworkMode('host')
      .withCommand([`-host=127.0.0.1`, `-port=${apiPort}`])
      .withWaitStrategy(Wait.forLogMessage(/Starting Toxiproxy HTTP server|API listening/))
      .withStartupTimeout(60_000)
      .withLabels({ ...labels, [LABEL_ROLE]: 'toxiproxy' })
      .withAutoCleanup(autoCleanup)
      .start();
    const toxiproxyUrl = `http://127.0.0.1:${apiPort}`;
    const toxiproxy = new Toxiproxy(toxiproxyUrl);
    await waitFor(`Toxiproxy (${images.toxiproxyImage}) did not answer GET ${toxiproxyUrl}/version`, 30_000, async () => {
      await toxiproxy.getVersion();
      return true;
    });

    const redis = containerRedisService(client, redisContainer.getId(), redisPort);
    let stopped = false;
    return {
      kind: 'containers',
      description: `containers (Docker ${availability.version}): Redis ${images.redisImage} on redis://127.0.0.1:${redisPort} (${opts.volatileRedis ? 'volatile: no AOF' : 'AOF on'}); Toxiproxy ${images.toxiproxyImage} (host network) on ${toxiproxyUrl}; run label ${LABEL_RUN}=${run}`,
      redis,
      toxiproxyUrl,
      toxiproxy,
      proxyHost: '127.0.0.1',
      hostUpstream: (port) => `127.0.0.1:${port}`,
      run,
      async stop() {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function containerRedisService(client: ContainerRuntimeClient, id: string, port: number): RedisService {
  const container = client.container.getById(id);
  const state = async () => (await container.inspect()).State;
  const down = () => waitFor(`Redis container ${id.slice(0, 12)} did not go down`, 20_000, async () => !(await state()).Running);
  return {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    upstream: `127.0.0.1:${port}`,
    controllable: true,
    async kill() {
      const s = await state();
      if (!s.Running) return;
      if (s.Paused) await container.unpause();
      await container.kill({ signal: 'SIGKILL' });
      await down();
    },
    async stop() {
      const s = await state();
      if (!s.Running) return;
      if (s.Paused) await container.unpause();
      await container.stop({ t: 10 });
      await down();
    },
    async start() {
      const s = await state();
      if (s.Paused) await container.unpause();
      else if (!s.Running) await container.start();
      await waitFor(`Redis container ${id.slice(0, 12)} did not answer PING on 127.0.0.1:${port}`, 30_000, () => ping('127.0.0.1', port));
    },
    async pause() {
      const s = await state();
      if (s.Running && !s.Paused) await container.pause();
    },
    async resume() {
      const s = await state();
      if (s.Paused) await container.unpause();
    },
    command: (...args) => rawRedisCommand(port, args, 2000),
  };
}
