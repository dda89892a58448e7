import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/env/paths.ts';

/**
 * `npm run bench:fanout -- --capture DIR` (README "Replaying an incident", cost): a second
 * node capturing every user, stepped beside the plain one, and its CPU per delivery over
 * the plain node's. At the smallest sizes: it runs to the end, the capturing node recorded
 * the receivers' traffic, and the JSON carries the ratio per round. (It once died before
 * its first step: the capturing node had no debug routes for the memory reading.)
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-fanout-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs with a capturing node beside the plain one and reports capture-on over capture-off', async () => {
  const out = path.join(dir, 'bench.json');
  const cap = path.join(dir, 'cap');
  const args = ['harness/bench/fanout-bench.ts', '--receivers', '40', '--group-size', '20', '--rates', '200', '--step-seconds', '2', '--warmup-seconds', '0', '--grace-seconds', '2', '--pin', 'off', '--capture', cap, '--out', out];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, output).toBe(0);
  const r = JSON.parse(readFileSync(out, 'utf8')) as { capture: { sample: number; steps: { offeredPerSec: number; cpuOnOverOff: number | null }[] } };
  expect(r.capture.sample).toBe(1);
  expect(r.capture.steps.map((s) => s.offeredPerSec)).toEqual([200]);
  expect(r.capture.steps[0]!.cpuOnOverOff).toBeGreaterThan(0);
  const lines = readdirSync(cap).flatMap((f) => readFileSync(path.join(cap, f), 'utf8').split('\n').filter(Boolean));
  // every receiver said hello on the capturing node, and it recorded the pushes it made
  expect(lines.filter((l) => l.includes('"k":"hello"')).length).toBeGreaterThanOrEqual(40);
  expect(lines.some((l) => l.includes('"t":"msg"'))).toBe(true);
}, 180_000);
