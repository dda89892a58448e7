// `imstorm toxiproxy` as a standalone process, through bin/imstorm.js.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Toxiproxy } from 'toxiproxy-node-client';
import { describe, expect, it } from 'vitest';
import { connect, echo, HOST, portOf, roundTrip, startTcpServer } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/imstorm.js', import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function imstorm(...args: string[]): Run {
  // process.execPath is the project's Node 22 that runs vitest.
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (data: Buffer) => (out += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (err += data.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function firstLine(run: Run, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!run.stdout().includes('\n')) {
    if (Date.now() > deadline) throw new Error(`no output; stderr: ${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return run.stdout().split('\n')[0] ?? '';
}

describe('imstorm toxiproxy', () => {
  it('serves the API on the printed URL until SIGTERM', async () => {
    const run = imstorm('toxiproxy', '--host', HOST, '--port', '0');
    try {
      const line = await firstLine(run);
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(line)?.[0];
      expect(url).toBeDefined();
      expect(run.stdout().trim().split('\n')).toHaveLength(1);

      const toxiproxy = new Toxiproxy(url!);
      expect(JSON.parse(await toxiproxy.getVersion())).toHaveProperty('version');
      const upstream = await startTcpServer(echo);
      const proxy = await toxiproxy.createProxy({ name: 'cli', listen: `${HOST}:0`, upstream: upstream.upstream });
      const client = await connect(portOf(proxy));
      await roundTrip(client, 'via cli');
      expect(client.bytes.toString()).toBe('via cli');
      client.socket.destroy();
      await upstream.close();

      run.child.kill('SIGTERM');
      expect(await run.exit).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('exits 2 with a clear message on bad flags', async () => {
    const badPort = imstorm('toxiproxy', '--port', 'eighty');
    expect(await badPort.exit).toBe(2);
    expect(badPort.stderr()).toContain('--port must be a whole number between 0 and 65535');

    const unknown = imstorm('toxiproxy', '--verbose');
    expect(await unknown.exit).toBe(2);
    expect(unknown.stderr()).toContain("Unknown option '--verbose'");

    const noCommand = imstorm('frobnicate');
    expect(await noCommand.exit).toBe(2);
    expect(noCommand.stderr()).toContain("unknown command 'frobnicate'");
  });

  it('prints usage for --help', async () => {
    const top = imstorm('--help');
    expect(await top.exit).toBe(0);
    expect(top.stdout()).toContain('toxiproxy');

    const sub = imstorm('toxiproxy', '--help');
    expect(await sub.exit).toBe(0);
    expect(sub.stdout()).toContain('Usage: imstorm toxiproxy [--host HOST] [--port PORT]');
  });
});
