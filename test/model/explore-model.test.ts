// `imstorm explore --model` end to end with tiny budgets: its own real Redis and two real
// nodes, progress lines, and on a deliberately broken server (TEST_BUGS=drop_replay: a backlog
// replay loses its first message, announced as trimmed) a shrunk counterexample printed with
// its seed and path and written to a file that `--from` replays. The property itself is the
// one test/model/protocol.model.test.ts runs (harness/protocol-model/run.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../harness/cli.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await main(['explore', '--model', ...args], { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`) });
  return { code, text: lines.join('\n') };
}

describe('imstorm explore --model', () => {
  it('refuses bad flags, naming the flag and the fix (exit 2)', async () => {
    for (const [args, msg] of [
      [['--path', '1:2'], '--path needs the --seed'],
      [['--seed', '1', '--replay-path', 'AB'], '--replay-path needs the --path'],
      [['--server-env', 'STORE_TIMEOUT_MS=5'], '--server-env takes TEST_BUGS=<bug>'],
      [['--budget', 'soon'], '--budget takes seconds'],
      [['--from', path.join(dir, 'none.json')], 'ENOENT'],
      [['--from', 'x.json', '--seed', '2'], '--from carries its own seed'],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code, r.text).toBe(2);
      expect(r.text).toContain(msg);
      expect(r.text).toContain('Usage: imstorm explore --model');
    }
  });

  it('passes a few sequences on the correct server, with progress (exit 0)', { timeout: 60_000 }, async () => {
    const r = await cli(['--runs', '30', '--seed', '7', '--client-only', '--max-commands', '12', '--progress-every', '1s']);
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(/\[model \d+:\d\d\] world up: Redis on \d+, nodes http/);
    expect(r.text).toMatch(/\[model \d+:\d\d\] searching: \d+ run\(s\), \d+\.\d runs\/min/);
    expect(r.text).toMatch(/^30 sequence\(s\) searched in \d+ s/m);
    expect(r.text).toMatch(/^no model violation found\.$/m);
  });

  it('on TEST_BUGS=drop_replay reports a shrunk counterexample with seed and path, and its file replays it (exit 1)', { timeout: 90_000 }, async () => {
    const file = path.join(dir, 'drop-replay.json');
    const r = await cli(['--server-env', 'TEST_BUGS=drop_replay', '--seed', '1', '--client-only', '--max-commands', '16', '--budget', '30s', '--shrink-budget', '20s', '--out', file]);
    expect(r.code, r.text).toBe(1);
    expect(r.text).toMatch(/\[model \d+:\d\d\] violation after \d+ run\(s\)/);
    expect(r.text).toMatch(/^COUNTEREXAMPLE \(model violation, TEST_BUGS=drop_replay\):$/m);
    const steps = /shrunk in [\d.]+ s \(\d+ candidates, (\d+) steps down.*\): (\d+) → (\d+) command\(s\)/.exec(r.text);
    expect(steps, r.text).not.toBeNull();
    const [, , before, after] = steps!.map(Number) as [number, number, number, number];
    expect(after).toBeLessThanOrEqual(3);
    expect(after).toBeLessThanOrEqual(before);
    expect(r.text).toMatch(/^ {4}1\. connect\(d#\d, node\d\)$/m);
    expect(r.text).toMatch(/^ {2}violated: model violation: /m);
    expect(r.text).toMatch(/^ {2}seed 1, path \d+(:\d+)*, replayPath \S+$/m);
    expect(r.text).toContain(`replay it: imstorm explore --model --from ${path.relative(process.cwd(), file)}`);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved).toMatchObject({ kind: 'imstorm-model-counterexample', seed: 1, bugs: 'drop_replay', clientOnly: true, maxCommands: 16 });
    expect(saved.commands).toHaveLength(after);

    // the file replays the shrunk sequence first: it fails again, no bigger
    const again = await cli(['--from', file, '--shrink-budget', '10s', '--out', path.join(dir, 'again.json')]);
    expect(again.code, again.text).toBe(1);
    expect(again.text).toMatch(/the replay fails again with \d+ command\(s\)/);
    const n = /: \d+ → (\d+) command\(s\)/.exec(again.text);
    expect(Number(n?.[1])).toBeLessThanOrEqual(after);
  });
});
