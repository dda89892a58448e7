import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { between, formatContention, parsePsiSomeTotal, parseSchedstat, snapshot, watchContention, type ContentionSnapshot } from '../../harness/bench/cpu-contention.ts';

describe('the files it reads', () => {
  it('schedstat: run and wait ns; anything else is an error naming the file', () => {
    expect(parseSchedstat('2500000 700000 12\n')).toEqual({ runNs: 2_500_000, waitNs: 700_000 });
    expect(() => parseSchedstat('')).toThrow(/schedstat: expected "<run ns> <wait ns> <slices>"/);
  });

  it('/proc/pressure/cpu: the some line total, not the full one', () => {
    const text = 'some avg10=4.46 avg60=11.48 avg300=18.69 total=7396158009\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=12\n';
    expect(parsePsiSomeTotal(text)).toBe(7_396_158_009);
    expect(() => parsePsiSomeTotal('full avg10=0 total=1')).toThrow(/no "some … total=" line/);
  });
});

describe('between two snapshots', () => {
  const at = (atMs: number, k: number, redis: ContentionSnapshot['redis'] = { cpuMicros: 100_000 * k, waitMicros: 200_000 * k }): ContentionSnapshot => ({
    atMs,
    server: { cpuMicros: 750_000 * k, waitMicros: 250_000 * k },
    redis,
    load: { cpuMicros: 600_000 * k, waitMicros: 1_000_000 * k },
    loadProcesses: 2,
    psiMicros: 500_000 * k,
  });

  it('cores used, the main thread waits as a share of the span (the load: its processes mean), and CPU pressure', () => {
    // 2 s: the server used 1.5 s of CPU and waited 0.5 s; two load processes waited 2 s together
    expect(between(at(1000, 1), at(3000, 3))).toEqual({
      cpu: { server: 0.75, redis: 0.1, load: 0.6 },
      waitPct: { server: 25, redis: 20, load: 50 },
      cpuPressurePct: 50,
    });
  });

  it('a role whose file could not be read is null, the others stand', () => {
    const r = between(at(0, 0), at(1000, 1, null));
    expect(r.cpu.redis).toBeNull();
    expect(r.waitPct.redis).toBeNull();
    expect(r.waitPct.server).toBe(25);
  });

  it('the step line names each role', () => {
    const r = { ...between(at(1000, 1), at(3000, 3)), seconds: [] };
    expect(formatContention(r)).toBe('waited for a core: server 25 %, Redis 20 %, load 50 % of the step; CPU pressure 50 %');
    const { redis: _, ...noRedis } = r.waitPct;
    expect(formatContention({ ...r, waitPct: noRedis })).toBe('waited for a core: server 25 %, load 50 % of the step; CPU pressure 50 %');
  });
});

describe('real processes', () => {
  const burners: ChildProcess[] = [];
  afterEach(() => {
    // SIGTERM: `timeout` passes it on to its burner (SIGKILL would leave the burner running)
    for (const b of burners.splice(0)) b.kill('SIGTERM');
  });
  /** a shell busy loop on CPU 0, bounded to 10 s whatever happens to the test */
  const burn = () => {
    const b = spawn('timeout', ['10', 'taskset', '-c', '0', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
    burners.push(b);
    return b;
  };

  it('three busy processes on one CPU: each gets at most about a third of it and waits the rest', async () => {
    // `timeout` execs nothing: its child is the burner; read the burners themselves
    burn();
    burn();
    burn();
    const pids = await burnerPids(burners);
    const w = watchContention({ server: pids[0]!, load: pids.slice(1) }, 500);
    await new Promise((r) => setTimeout(r, 1600));
    const c = w.stop();
    // more load on the machine only lowers what each gets and raises its wait
    expect(c.cpu.server).toBeLessThan(0.45);
    expect(c.cpu.load).toBeLessThan(0.9);
    expect(c.waitPct.server).toBeGreaterThan(50);
    expect(c.waitPct.load).toBeGreaterThan(50);
    // the load's wait is its processes' mean, each at most the whole span
    expect(c.waitPct.load).toBeLessThan(105);
    expect(c.seconds.length).toBeGreaterThanOrEqual(3);
    for (const s of c.seconds) expect(s.waitPct.server).toBeGreaterThan(30);
  }, 15_000);

  it('a process that is gone reads as null, not as an error', () => {
    const s = snapshot({ server: 2 ** 22 + 7, load: [] });
    expect(s.server).toBeNull();
    expect(s.load).toBeNull();
  });
});

/** the busy shell under each `timeout` (its only child, once it runs `sh`), waited for at most 5 s: a loaded machine starts them late */
async function burnerPids(list: ChildProcess[]): Promise<number[]> {
  const shellOf = (b: ChildProcess): number | null => {
    try {
      const [pid] = readFileSync(`/proc/${b.pid}/task/${b.pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
      return pid && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sh' ? pid : null;
    } catch {
      return null;
    }
  };
  for (const until = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 50))) {
    const pids = list.map(shellOf);
    if (pids.every((p) => p !== null)) return pids as number[];
    if (Date.now() > until) throw new Error(`no busy shell under timeout ${list[pids.indexOf(null)]!.pid} after 5 s`);
  }
}
