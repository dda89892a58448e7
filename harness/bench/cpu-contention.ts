import { readFileSync } from 'node:fs';
import { cpuMicros } from './bench-kit.ts';

/**
 * Who waited for a core during a bench step, second by second. On a machine the server shares
 * with its Redis and the load generator, a step's latency measures that sharing as much as
 * the server: in the 1:1 bench at 10,000 msg/s on 2 cores (issue 10, 2026-12-07) the node's
 * event loop waited for a core a quarter to two fifths of every second while the three
 * together used about 1.7 of the 2 cores. Each step says so beside its latency, so a slow
 * step that was starved reads differently from one the server lost on its own.
 *
 * CPU is the whole process's (/proc/<pid>/stat); the wait is its main thread's, the event
 * loop or Redis's command thread, whose waits delay every request (/proc/<pid>/schedstat,
 * time runnable on a run queue). Linux only: elsewhere, or when a file cannot be read, the
 * figures are null.
 */

/** The processes of a step by role. */
export interface StepProcesses {
  server: number;
  /** the imstorm node's Redis */
  redis?: number;
  /** the load generator's: receiver processes, and the bench process itself where it sends */
  load: number[];
}

/** Per role: the server, its Redis (imstorm only), the load generator (its processes' mean for waits, their sum for CPU). */
export interface PerRole {
  server: number | null;
  redis?: number | null;
  load: number | null;
}

export interface ContentionSecond {
  /** seconds from the start of watching to the end of this sample */
  atS: number;
  /** cores used */
  cpu: PerRole;
  /** share of the sample its main thread was runnable but waited for a core, % */
  waitPct: PerRole;
  /** the machine's /proc/pressure/cpu `some`: share of the sample in which a runnable task waited for a CPU, % (null: no PSI) */
  cpuPressurePct: number | null;
}

export interface StepContention {
  /** over the whole step (not a mean of the seconds: a short last sample weighs what it lasted) */
  cpu: PerRole;
  waitPct: PerRole;
  cpuPressurePct: number | null;
  seconds: ContentionSecond[];
}

/** `/proc/<pid>/schedstat`: time on a CPU, time waiting on a run queue (ns), time slices. */
export function parseSchedstat(text: string): { runNs: number; waitNs: number } {
  const [run, wait] = text.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(run) || !Number.isFinite(wait)) throw new Error(`schedstat: expected "<run ns> <wait ns> <slices>", got ${JSON.stringify(text.slice(0, 80))}`);
  return { runNs: run!, waitNs: wait! };
}

/** `/proc/pressure/cpu`: the `some` line's total, µs. */
export function parsePsiSomeTotal(text: string): number {
  const m = /^some .*\btotal=(\d+)/m.exec(text);
  if (!m) throw new Error(`/proc/pressure/cpu: no "some … total=" line in ${JSON.stringify(text.slice(0, 120))}`);
  return Number(m[1]);
}

interface RoleReading {
  cpuMicros: number;
  waitMicros: number;
}

/** What the files said at one moment; null where a file could not be read. */
export interface ContentionSnapshot {
  atMs: number;
  server: RoleReading | null;
  redis?: RoleReading | null;
  /** summed over the load processes */
  load: RoleReading | null;
  loadProcesses: number;
  psiMicros: number | null;
}

function readRole(pids: number[]): RoleReading | null {
  try {
    let cpu = 0;
    let wait = 0;
    for (const pid of pids) {
      cpu += cpuMicros(pid);
      wait += parseSchedstat(readFileSync(`/proc/${pid}/schedstat`, 'utf8')).waitNs / 1000;
    }
    return { cpuMicros: cpu, waitMicros: wait };
  } catch {
    return null;
  }
}

function readPsi(): number | null {
  try {
    return parsePsiSomeTotal(readFileSync('/proc/pressure/cpu', 'utf8'));
  } catch {
    return null;
  }
}

export function snapshot(p: StepProcesses, atMs = performance.now()): ContentionSnapshot {
  return {
    atMs,
    server: readRole([p.server]),
    ...(p.redis !== undefined ? { redis: readRole([p.redis]) } : {}),
    load: p.load.length ? readRole(p.load) : null,
    loadProcesses: p.load.length,
    psiMicros: readPsi(),
  };
}

const round = (n: number, digits: number) => +n.toFixed(digits);

/** The span from `a` to `b` as CPU (cores) and wait shares (%) per role. */
export function between(a: ContentionSnapshot, b: ContentionSnapshot): Omit<ContentionSecond, 'atS'> {
  const spanMicros = (b.atMs - a.atMs) * 1000;
  const role = (x: RoleReading | null | undefined, y: RoleReading | null | undefined, processes: number) =>
    x && y && spanMicros > 0 ? { cpu: round((y.cpuMicros - x.cpuMicros) / spanMicros, 2), wait: round(((y.waitMicros - x.waitMicros) / processes / spanMicros) * 100, 1) } : null;
  const server = role(a.server, b.server, 1);
  const load = role(a.load, b.load, Math.max(1, b.loadProcesses));
  const redis = 'redis' in b ? role(a.redis, b.redis, 1) : undefined;
  return {
    cpu: { server: server?.cpu ?? null, ...(redis !== undefined ? { redis: redis?.cpu ?? null } : {}), load: load?.cpu ?? null },
    waitPct: { server: server?.wait ?? null, ...(redis !== undefined ? { redis: redis?.wait ?? null } : {}), load: load?.wait ?? null },
    cpuPressurePct: a.psiMicros !== null && b.psiMicros !== null && spanMicros > 0 ? round(((b.psiMicros - a.psiMicros) / spanMicros) * 100, 1) : null,
  };
}

/** Samples `p` every `everyMs` until stop(), which returns the step's figures (a last sample taken then if it spans at least a fifth of `everyMs`). */
export function watchContention(p: StepProcesses, everyMs = 1000): { stop(): StepContention } {
  const first = snapshot(p);
  let last = first;
  const seconds: ContentionSecond[] = [];
  const take = () => {
    const now = snapshot(p);
    seconds.push({ atS: round((now.atMs - first.atMs) / 1000, 2), ...between(last, now) });
    last = now;
  };
  // unref: a step that fails before stop() leaves nothing that keeps the bench alive
  const timer = setInterval(take, everyMs).unref();
  return {
    stop() {
      clearInterval(timer);
      if (performance.now() - last.atMs >= everyMs / 5) take();
      return { ...between(first, last), seconds };
    },
  };
}

const pct = (n: number | null | undefined) => (n === null || n === undefined ? 'n/a' : `${Math.round(n)} %`);

/** The step line's part: `waited for a core: server 27 %, Redis 25 %, load 70 % of the step; CPU pressure 52 %`. */
export function formatContention(c: StepContention): string {
  return `waited for a core: server ${pct(c.waitPct.server)}${'redis' in c.waitPct ? `, Redis ${pct(c.waitPct.redis)}` : ''}, load ${pct(c.waitPct.load)} of the step; CPU pressure ${pct(c.cpuPressurePct)}`;
}
