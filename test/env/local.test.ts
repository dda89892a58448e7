// Environments without Docker: local (redis-server + embedded proxy), external (pointed at
// services someone else runs), auto's verdict when nothing can run, `imstorm env up`, and
// the whole topology suite on the local provider.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  detectEngine,
  EnvUnavailableError,
  liveChildren,
  startEnvironment,
  startExternalEnv,
  startLocalEnv,
  startTopology,
  UnsupportedControlError,
} from '../../harness/env/index.ts';
import { defineTopologySuite, TEST_SERVER_ENV } from './topology-suite.ts';

const BIN = fileURLToPath(new URL('../../bin/imstorm.js', import.meta.url));

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch {
    return true;
  }
}

describe('local environment', () => {
  it('starts redis-server with AOF and the embedded Toxiproxy API, and stops both', async () => {
    const env = await startLocalEnv();
    try {
      expect(env.kind).toBe('local');
      expect(env.description).toMatch(/redis-server .*AOF on.*embedded Toxiproxy-compatible proxy/);
      expect(await env.redis.command('PING')).toBe('PONG');
      expect(String(await env.redis.command('INFO', 'persistence'))).toMatch(/aof_enabled:1/);
      expect(await env.toxiproxy.getVersion()).toMatch(/2\.\d+/);
      expect(env.redis.controllable).toBe(true);
    } finally {
      await env.stop();
    }
    const dir = /dir (\S+)\)/.exec(env.description)?.[1];
    expect(dir && existsSync(dir)).toBe(false);
    expect(await refused(`${env.toxiproxyUrl}/version`)).toBe(true);
    await expect(env.redis.command('PING')).rejects.toThrow();
    expect(liveChildren()).toBe(0);
  });

  it('volatileRedis: redis-server without persistence, empty after a stop and a start', async () => {
    const env = await startLocalEnv({ volatileRedis: true });
    try {
      expect(env.description).toMatch(/volatile: no AOF/);
      expect(String(await env.redis.command('INFO', 'persistence'))).toMatch(/aof_enabled:0/);
      expect(await env.redis.command('SET', 'k', 'v')).toBe('OK');
      await env.redis.stop();
      await env.redis.start();
      expect(await env.redis.command('DBSIZE')).toBe(0);
    } finally {
      await env.stop();
    }
  });

  it('says what to install when redis-server is missing', async () => {
    await expect(startLocalEnv({ redisServerBin: '/nonexistent/redis-server' })).rejects.toThrow(
      /\/nonexistent\/redis-server \(REDIS_SERVER_BIN\) is not an executable redis-server; install it: apt-get install -y redis-server .*brew install redis/,
    );
  });
});

describe('topology without proxies', () => {
  it('nodes reach Redis directly and clients only directly when asked to', async () => {
    const topo = await startTopology({ nodes: 1, envChoice: 'local', redisBehindProxy: false, clientLinksBehindProxy: false, serverEnv: TEST_SERVER_ENV });
    try {
      const n = topo.nodes[0]!;
      expect(n.redisUrl).toBe(topo.redis.url);
      expect(n.proxiedWsUrl).toBeUndefined();
      expect(n.wsUrl).toBe(n.directWsUrl);
      expect(topo.links).toEqual([]);
      expect(await topo.env.toxiproxy.getAll()).toEqual({});
      await expect(topo.addToxic('client-link:node-1', { type: 'latency', attributes: { latency: 10 } })).rejects.toThrow(/no link client-link:node-1/);
      expect(topo.clientLinks(5).note).toMatch(/all 5 clients connect directly/);
      expect((await fetch(`${n.url}/readyz`)).status).toBe(200);
    } finally {
      await topo.stop({ graceMs: 2000 });
    }
    expect(liveChildren()).toBe(0);
  });
});

describe('external environment', () => {
  it('runs a topology on services it did not start, removes its proxies after, and refuses to hurt that Redis', async () => {
    const services = await startLocalEnv();
    try {
      const env = await startExternalEnv({ redisUrl: services.redis.url, toxiproxyUrl: services.toxiproxyUrl });
      expect(env.kind).toBe('external');
      expect(env.redis.controllable).toBe(false);
      const topo = await startTopology({ env, nodes: 1, serverEnv: TEST_SERVER_ENV });
      try {
        const names = Object.keys(await services.toxiproxy.getAll());
        expect(names).toHaveLength(2);
        expect(names.every((n) => /^imstorm-[0-9a-f]{6}-(client|redis)-link-node-1$/.test(n))).toBe(true);
        const res = await fetch(`${topo.nodes[0]!.proxiedUrl}/readyz`);
        expect(res.status).toBe(200);
        await expect(topo.killRedis()).rejects.toThrow(UnsupportedControlError);
        await expect(topo.pauseRedis()).rejects.toThrow(/cannot pause an external Redis/);
        expect(topo.timeline).toEqual([]);
      } finally {
        await topo.stop({ graceMs: 2000 });
      }
      expect(await services.toxiproxy.getAll()).toEqual({});
      expect(await services.redis.command('PING')).toBe('PONG'); // still theirs, still up
    } finally {
      await services.stop();
    }
  });

  it('names the missing variables, and an unreachable service', async () => {
    const saved = { r: process.env.REDIS_URL, t: process.env.TOXIPROXY_URL };
    delete process.env.REDIS_URL;
    delete process.env.TOXIPROXY_URL;
    try {
      await expect(startExternalEnv()).rejects.toThrow(/set REDIS_URL \(--redis-url\) and TOXIPROXY_URL \(--toxiproxy-url\)/);
      await expect(startExternalEnv({ redisUrl: 'redis://127.0.0.1:1', toxiproxyUrl: 'http://127.0.0.1:1' })).rejects.toThrow(/Redis at redis:\/\/127.0.0.1:1 does not answer PING/);
      await expect(startExternalEnv({ redisUrl: 'http://x', toxiproxyUrl: 'http://127.0.0.1:1' })).rejects.toThrow(EnvUnavailableError);
    } finally {
      if (saved.r !== undefined) process.env.REDIS_URL = saved.r;
      if (saved.t !== undefined) process.env.TOXIPROXY_URL = saved.t;
    }
  });
});

describe('auto', () => {
  it('answers at once when there is no engine, and names what to install when nothing can run', async () => {
    const t0 = performance.now();
    const none = await detectEngine({ socketPaths: ['/nonexistent/docker.sock'], dockerHost: '' });
    expect(performance.now() - t0).toBeLessThan(100);
    expect(none).toMatchObject({ ok: false, reason: expect.stringMatching(/no Docker engine/) });

    const t1 = performance.now();
    const err = await startEnvironment({ env: 'auto', redisServerBin: '/nonexistent/redis-server', engine: { socketPaths: ['/nonexistent/docker.sock'], dockerHost: '' } }).catch((e: unknown) => e);
    expect(performance.now() - t1).toBeLessThan(1000);
    expect(err).toBeInstanceOf(EnvUnavailableError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/No environment can run on this machine/);
    expect(msg).toMatch(/apt-get install -y docker\.io/);
    expect(msg).toMatch(/apt-get install -y redis-server/);
    expect(msg).toMatch(/brew install redis/);
    expect(msg).not.toMatch(/\n\s+at /); // no stack trace in the message
  });

  it('falls back to local when no engine answers', async () => {
    const lines: string[] = [];
    const env = await startEnvironment({ env: 'auto', engine: { socketPaths: ['/nonexistent/docker.sock'], dockerHost: '' }, log: (l) => lines.push(l) });
    try {
      expect(env.kind).toBe('local');
      expect(lines.join('\n')).toMatch(/containers unavailable \(no Docker engine.*using local/s);
    } finally {
      await env.stop();
    }
  });
});

describe('imstorm env up', () => {
  it('prints node URLs and the Toxiproxy API URL, serves them, and tears everything down on SIGINT', async () => {
    const child = spawn(process.execPath, [BIN, 'env', 'up', '--env', 'local', '--nodes', '2', '--json', '--server-env', 'LOG_LEVEL=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes('ready; Ctrl-C stops everything')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`env up did not get ready:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(out).toMatch(/^Toxiproxy API: http:\/\/127\.0\.0\.1:\d+$/m);
      expect(out).toMatch(/^node-1: direct ws:\/\/127\.0\.0\.1:\d+\/ws {2}proxied ws:\/\/127\.0\.0\.1:\d+\/ws/m);
      const info = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as {
        env: string;
        toxiproxyUrl: string;
        nodes: Array<{ id: string; directUrl: string; proxiedUrl: string }>;
      };
      expect(info.env).toBe('local');
      expect(info.nodes.map((n) => n.id)).toEqual(['node-1', 'node-2']);
      for (const n of info.nodes) {
        expect((await fetch(`${n.directUrl}/readyz`)).status).toBe(200);
        expect((await fetch(`${n.proxiedUrl}/readyz`)).status).toBe(200);
      }
      expect(((await (await fetch(`${info.toxiproxyUrl}/proxies`)).json()) as Record<string, unknown>)['client-link-node-2']).toBeDefined();

      child.kill('SIGINT');
      expect(await exit).toBe(0);
      expect(err).toMatch(/SIGINT: stopping nodes and the environment/);
      expect(err).toMatch(/stopped/);
      for (const n of info.nodes) expect(await refused(`${n.directUrl}/healthz`)).toBe(true);
      expect(await refused(`${info.toxiproxyUrl}/version`)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('rejects bad flags with the usage', async () => {
    const child = spawn(process.execPath, [BIN, 'env', 'up', '--nodes', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/--nodes must be a whole number between 1 and 64/);
    expect(err).toMatch(/Usage: imstorm env up/);
  });
});

defineTopologySuite('local', true, 'topology on the local environment');

describe("the Toxiproxy image's entrypoint (harness/faults/toxiproxy-main.ts)", () => {
  it("takes toxiproxy-server's flags, logs its start line, loads -config, and exits 0 on SIGTERM", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'imstorm-tpmain-'));
    const config = path.join(dir, 'proxies.json');
    writeFileSync(config, JSON.stringify([{ name: 'one', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' }]));
    const entry = fileURLToPath(new URL('../../harness/faults/toxiproxy-main.ts', import.meta.url));
    const child = spawn(process.execPath, [entry, '-host=127.0.0.1', '-port', '0', `-config=${config}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 10_000;
      while (!out.includes('Starting Toxiproxy HTTP server')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no start line:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const start = JSON.parse(out.split('\n').find((l) => l.includes('Starting Toxiproxy'))!) as { port: string; version: string };
      expect(start.version).toMatch(/^2\./);
      const proxies = (await (await fetch(`http://127.0.0.1:${start.port}/proxies`)).json()) as Record<string, { upstream: string }>;
      expect(proxies.one?.upstream).toBe('127.0.0.1:1');
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
    const bad = spawn(process.execPath, [entry, '-nope']);
    expect(await new Promise((resolve) => bad.once('exit', resolve))).toBe(2);
  });
});
