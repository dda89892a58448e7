// The managed child process behind server nodes and redis-server (harness/env/child-process.ts).
import { describe, expect, it } from 'vitest';
import { ManagedProcess, SpawnError } from '../../harness/env/child-process.ts';

const managed = () => new ManagedProcess({ name: 'child', maxLines: 8, toLine: (l) => ({ ...l, upper: l.text.toUpperCase() }) });
const script = (js: string): [string, string[]] => [process.execPath, ['-e', js]];
const wait = { before: 'ready', timeout: 'was not ready', intervalMs: 10 };

describe('ManagedProcess', () => {
  it('keeps output lines (split across chunks, blank ones dropped, the oldest quarter dropped past maxLines), waits for a line, tracks the exit', async () => {
    const p = managed();
    p.start(...script(`process.stdout.write('a'); setTimeout(() => { process.stdout.write('b\\n\\n'); for (let i = 0; i < 8; i++) console.log('e' + i); console.log('ready'); setTimeout(() => {}, 60_000); }, 50);`));
    const ab = p.waitForLine((l) => l.text.includes('a'), 5000);
    const line = await p.waitForLine((l) => l.text === 'ready', 5000);
    expect((await ab).text).toBe('ab'); // one line though written in two chunks
    expect(line).toMatchObject({ stream: 'stdout', upper: 'READY' });
    expect(p.logs.map((l) => l.text)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'ready']); // at 9 lines the oldest 2 went
    expect(p.running).toBe(true);
    p.pause();
    expect(p.paused).toBe(true);
    p.resume();
    expect(p.paused).toBe(false);
    expect(await p.stop(5000)).toBe(null); // SIGTERM: no handler, died by the signal
    expect(p.running).toBe(false);
    expect(p.tail(1)).toBe('[stderr] [process exited: code null signal SIGTERM]');
  });

  it('waitReady fails with the tail when the process exits first, and kills it at the deadline', async () => {
    const p = managed();
    p.start(...script(`console.log('bye'); process.exit(3)`));
    await expect(p.waitReady(() => undefined, { ...wait, deadline: Date.now() + 5000, timeoutMs: 5000 })).rejects.toThrow(/^child exited \(3\) before ready:\n\[stdout\] bye/);
    const q = managed();
    q.start(...script(`setTimeout(() => {}, 60_000)`));
    await expect(q.waitReady(() => undefined, { ...wait, deadline: Date.now() + 200, timeoutMs: 200 })).rejects.toThrow(/^child was not ready within 200 ms/);
    await q.waitForLine((l) => l.text.startsWith('[process exited'), 5000);
    expect(q.child!.signalCode).toBe('SIGKILL');
    const r = managed();
    r.start(...script(`setTimeout(() => console.log('up'), 100); setTimeout(() => {}, 60_000)`));
    expect(await r.waitReady(() => (r.logs.some((l) => l.text === 'up') ? 'yes' : undefined), { ...wait, deadline: Date.now() + 5000, timeoutMs: 5000 })).toBe('yes');
    await r.kill();
    expect(r.running).toBe(false);
  });

  it('a binary that cannot be spawned is a SpawnError', async () => {
    const p = managed();
    p.start('/nonexistent/imstorm-binary', []);
    await expect(p.waitReady(() => undefined, { ...wait, deadline: Date.now() + 5000, timeoutMs: 5000 })).rejects.toThrow(SpawnError);
  });
});
