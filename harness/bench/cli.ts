// `imstorm bench`: the server beside the raw-ws baseline, in one invocation (issue 10).
// Each step is one of the bench scripts run as a child process (they own their servers,
// Redis and load processes, and must not overlap: the machine has two cores), each writing
// its own JSON; this command runs them one after the other with a deadline each, forwards
// their progress lines, and assembles bench.json, bench.html and one line of the history
// file that `imstorm compare --bench` gates on.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from '../env/paths.ts';
import { onExit } from '../env/procs.ts';
import { parseCommandFlags, UsageError, type CliIo, type Subcommand } from '../subcommand.ts';
import { whole } from '../util/cli-flags.ts';
import { benchHtml } from './bench-html.ts';
import { dmWarmupSeconds, receiverProcesses } from './bench-kit.ts';
import { configKey, dmStep, fanoutStep, flatRatios, idlePresence, idleStep, STEPS, stormStep, type BenchResult, type HistoryLine, type StepName, type StepResult } from './bench-result.ts';

export const DEFAULT_HISTORY = path.join('reports', 'bench-history.ndjson');

const rates = (what: string, max: number) =>
  z
    .string()
    .regex(/^\d+(,\d+)*$/, { message: `--${what} takes a comma list of rates per second, e.g. 2500,5000,10000` })
    .transform((s) => s.split(',').map(Number))
    .refine((rs) => rs.length <= 12 && rs.every((r) => r >= 10 && r <= max), { message: `--${what}: at most 12 rates, each 10..${max} per second` });
const int = (flag: string, min: number, max: number) => whole(`--${flag}`, min, max);

const Flags = z.object({
  steps: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .refine((xs) => xs.length > 0 && xs.every((x) => (STEPS as readonly string[]).includes(x)), { message: `--steps takes a comma list of ${STEPS.join(', ')}` })
    .transform((xs) => STEPS.filter((s) => xs.includes(s))),
  quick: z.boolean().default(false),
  'idle-connections': int('idle-connections', 10, 200_000).optional(),
  'presence-subs': int('presence-subs', 0, 1000),
  connections: int('connections', 10, 40_000).refine((n) => n % 2 === 0, { message: '--connections must be even (the 1:1 step pairs them)' }).optional(),
  'dm-rates': rates('dm-rates', 100_000).optional(),
  receivers: int('receivers', 10, 50_000).optional(),
  'group-size': int('group-size', 2, 1000).optional(),
  'fanout-rates': rates('fanout-rates', 200_000).optional(),
  'step-seconds': int('step-seconds', 2, 120).optional(),
  'warmup-seconds': int('warmup-seconds', 0, 60).optional(),
  'grace-seconds': int('grace-seconds', 1, 60).optional(),
  pin: z.enum(['auto', 'off'], { message: '--pin must be auto or off' }),
  out: z.string().optional(),
  history: z.string(),
  'no-history': z.boolean().default(false),
  'test-bugs': z
    .string()
    .regex(/^[a-z_]+(,[a-z_]+)*$/, { message: '--test-bugs takes a comma list of TEST_BUGS names, e.g. slow_delivery' })
    .optional(),
});
type Flags = z.output<typeof Flags>;

/** The sizes of a full run and of --quick (CI: a couple of minutes in all). */
const SIZES = {
  full: { idle: 10_000, connections: 10_000, dmRates: [2500, 5000, 10_000], receivers: 10_000, groupSize: 100, fanoutRates: [2500, 5000, 10_000], step: 10, warmup: 3, grace: 5 },
  quick: { idle: 1000, connections: 1000, dmRates: [500, 2000], receivers: 1000, groupSize: 100, fanoutRates: [1000, 2000], step: 3, warmup: 2, grace: 3 },
};

interface Plan {
  script: string;
  args: string[];
  /** kill it past this */
  deadlineMs: number;
  makes: StepName[];
  /** the idle step's twin with presence subscriptions: set beside the idle step, not a step of its own */
  idlePresence?: true;
}

function plan(f: Flags, outDir: string): Plan[] {
  const z0 = f.quick ? SIZES.quick : SIZES.full;
  const step = f['step-seconds'] ?? z0.step;
  const warmup = f['warmup-seconds'] ?? z0.warmup;
  const grace = f['grace-seconds'] ?? z0.grace;
  const common = ['--step-seconds', String(step), '--warmup-seconds', String(warmup), '--grace-seconds', String(grace), '--pin', f.pin];
  // a step's deadline: generous room for connecting and settling, plus its timed parts
  const sweepMs = (n: number, conns: number) => 120_000 + conns * 20 + 2 * (warmup + n * (step + grace + 60)) * 1000;
  const plans: Plan[] = [];
  if (f.steps.includes('idle')) {
    const n = f['idle-connections'] ?? z0.idle;
    // RSS after V8's memory-reducing GC, on both sides: after full GCs alone it counts pages
    // the connect storm's garbage left pooled, ±2 KiB a connection from run to run (README
    // "Idle memory")
    plans.push({ script: 'server-bench.ts', args: ['--connections', String(n), '--fanout', '0', '--gc', 'reduce', '--out', path.join(outDir, 'idle.json')], deadlineMs: 180_000 + n * 20, makes: ['idle'] });
    const subs = f['presence-subs'];
    // each device watches the next `subs` users: subscriptions are n × subs entries in all
    if (subs > 0) plans.push({ script: 'server-bench.ts', args: ['--connections', String(n), '--fanout', '0', '--gc', 'reduce', '--presence-subs', String(subs), '--out', path.join(outDir, 'idle-presence.json')], deadlineMs: 180_000 + n * 20 + n * subs * 2, makes: [], idlePresence: true });
  }
  if (f.steps.includes('storm') || f.steps.includes('dm')) {
    const n = f.connections ?? z0.connections;
    const dmRates = f.steps.includes('dm') ? (f['dm-rates'] ?? z0.dmRates) : [];
    plans.push({
      script: 'dm-bench.ts',
      args: ['--connections', String(n), '--rates', dmRates.length ? dmRates.join(',') : 'none', ...common, '--out', path.join(outDir, 'storm-dm.json')],
      // its warm-up lasts until every client sent once (dmWarmupSeconds), longer than --warmup-seconds at a low first rate
      deadlineMs: sweepMs(dmRates.length, 2 * n) + 2000 * (dmRates.length ? dmWarmupSeconds(warmup, n, dmRates[0]!, receiverProcesses(n)) - warmup : 0),
      makes: f.steps.filter((s) => s === 'storm' || s === 'dm'),
    });
  }
  if (f.steps.includes('fanout')) {
    const r = f.receivers ?? z0.receivers;
    const s = f['group-size'] ?? z0.groupSize;
    if (r % s !== 0) throw new UsageError(`--receivers ${r} must be a multiple of --group-size ${s}, e.g. ${Math.max(1, Math.round(r / s)) * s}`);
    const fr = f['fanout-rates'] ?? z0.fanoutRates;
    for (const x of fr) if (x < s) throw new UsageError(`--fanout-rates: ${x} deliveries/s is under one message a second to groups of ${s}; give at least ${s}`);
    plans.push({ script: 'fanout-bench.ts', args: ['--receivers', String(r), '--group-size', String(s), '--rates', fr.join(','), ...common, '--out', path.join(outDir, 'fanout.json')], deadlineMs: sweepMs(fr.length, 2 * r), makes: ['fanout'] });
  }
  return plans;
}

/** Runs one step script, its output forwarded line by line; rejects on a non-zero exit or past the deadline. */
function runScript(p: Plan, env: Record<string, string>, io: CliIo): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'harness', 'bench', p.script), ...p.args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    // stopped with this process, whatever ends it: SIGTERM, so the script stops its own
    // Redis, node and load processes (a SIGKILL would leave them running)
    const unregister = onExit(() => child.kill('SIGTERM'));
    const forward = (stream: NodeJS.ReadableStream, to: (l: string) => void) => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        buf += d;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          to(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      stream.on('end', () => buf && to(buf));
    };
    const tail: string[] = [];
    forward(child.stdout!, (l) => io.out(l));
    forward(child.stderr!, (l) => {
      tail.push(l);
      if (tail.length > 20) tail.shift();
      io.err(l);
    });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      reject(new Error(`${p.script} ran past its deadline of ${Math.round(p.deadlineMs / 1000)} s and was stopped; smaller sizes (--quick, --connections, --receivers) or a quieter machine`));
    }, p.deadlineMs);
    child.on('exit', (code, signal) => {
      unregister();
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${p.script} ${p.args.join(' ')} failed (${signal ?? `exit ${code}`})${tail.length ? `: ${tail.slice(-3).join(' | ')}` : ''}`));
    });
  });
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}

const fmt = (x: number | null | undefined, unit = '') => (x === null || x === undefined ? '—' : `${x}${unit}`);

/** The summary printed at the end: per step, imstorm beside raw-ws and the ratios. */
export function summaryLines(r: BenchResult): string[] {
  const lines: string[] = [];
  for (const s of r.steps) {
    for (const p of s.points) {
      const at = p.offeredPerSec ? ` at ${p.offeredPerSec}/s` : '';
      const side = (f: typeof p.imstorm) =>
        `p50 ${fmt(f.p50Ms, ' ms')} p99 ${fmt(f.p99Ms, ' ms')}, ${fmt(f.perSec, '/s')}, CPU ${fmt(f.cpuMicros, ' µs')}${f.cpuMicrosWithRedis != null ? ` (${f.cpuMicrosWithRedis} with Redis)` : ''}, lag p99 ${fmt(f.eventLoopLagP99Ms, ' ms')}${f.waitedForCorePct != null ? `, waited for a core ${f.waitedForCorePct} %` : ''}, heap ${fmt(f.heapKiBPerConnection, ' KiB')} RSS ${fmt(f.rssKiBPerConnection, ' KiB')}/conn${f.pass === undefined ? '' : f.pass ? ' PASS' : ' FAIL'}`;
      lines.push(`${s.step}${at}: imstorm ${side(p.imstorm)}`);
      lines.push(`${' '.repeat(s.step.length + at.length)}  raw-ws  ${side(p.rawWs)}`);
    }
    if (s.presence) lines.push(`${s.step} with ${s.presence.subscriptions} presence subscriptions each: imstorm heap ${s.presence.heapKiBPerConnection} KiB RSS ${s.presence.rssKiBPerConnection} KiB/conn (×${fmt(s.presence.heapRatioToIdle)} and ×${fmt(s.presence.rssRatioToIdle)} the idle figures above)`);
    if (s.load) lines.push(`${s.step}: fleet RSS ${s.load.fleetRssKiB} KiB/device vs raw ws client ${s.load.rawWsClientRssKiB} KiB`);
    lines.push(`${s.step} ratios (imstorm ÷ raw-ws, higher is worse${s.ratioRates ? `; CPU and p99 over ${s.ratioRates.join(', ')}/s` : ''}): ${Object.entries(s.ratios).map(([k, v]) => `${k} ×${fmt(v)}`).join(', ')}`);
  }
  return lines;
}

export async function runBench(f: Flags, io: CliIo): Promise<{ result: BenchResult; dir: string }> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.resolve(f.out ?? path.join(REPO_ROOT, 'reports', `bench-${stamp}`));
  mkdirSync(dir, { recursive: true });
  const plans = plan(f, dir);
  const env: Record<string, string> = f['test-bugs'] ? { BENCH_TEST_BUGS: f['test-bugs'] } : {};
  const t0 = Date.now();
  const loadavgStart = os.loadavg().map((x) => +x.toFixed(2));
  io.out(`imstorm bench: steps ${f.steps.join(', ')}${f.quick ? ' (--quick)' : ''}; load average ${loadavgStart.join(' ')}; ${os.cpus().length} CPUs; output ${path.relative(process.cwd(), dir) || '.'}${f['test-bugs'] ? `; imstorm with TEST_BUGS=${f['test-bugs']}` : ''}`);
  const steps: StepResult[] = [];
  let pinning = '';
  for (const p of plans) {
    io.out(`imstorm bench: ${p.idlePresence ? `idle with ${f['presence-subs']} presence subscriptions each` : p.makes.join(' + ')} (${p.script}, deadline ${Math.round(p.deadlineMs / 1000)} s)`);
    await runScript(p, env, io);
    const file = p.args[p.args.indexOf('--out') + 1]!;
    const json = JSON.parse(readFileSync(file, 'utf8'));
    const rel = path.basename(file);
    pinning ||= json.machine?.pinning ?? '';
    if (p.makes.includes('idle')) steps.push(idleStep(json, rel));
    if (p.idlePresence) {
      const idle = steps.find((s) => s.step === 'idle');
      if (idle) idle.presence = idlePresence(idle, json, rel);
    }
    if (p.makes.includes('storm')) steps.push(stormStep(json, rel));
    if (p.makes.includes('dm')) steps.push(dmStep(json, rel));
    if (p.makes.includes('fanout')) steps.push(fanoutStep(json, rel));
  }
  steps.sort((a, b) => STEPS.indexOf(a.step) - STEPS.indexOf(b.step));
  const result: BenchResult = {
    kind: 'imstorm-bench',
    version: 1,
    at: new Date(t0).toISOString(),
    commit: gitCommit(),
    node: process.version,
    machine: { cpus: os.cpus().length, loadavgStart, loadavgEnd: os.loadavg().map((x) => +x.toFixed(2)), pinning: pinning || 'not pinned' },
    quick: f.quick,
    testBugs: f['test-bugs'] ?? null,
    seconds: Math.round((Date.now() - t0) / 1000),
    steps,
    ratios: flatRatios(steps),
    config: configKey(steps),
  };
  writeFileSync(path.join(dir, 'bench.json'), JSON.stringify(result, null, 2));
  writeFileSync(path.join(dir, 'bench.html'), benchHtml(result));
  if (!f['no-history']) {
    const line: HistoryLine = { at: result.at, config: result.config, commit: result.commit, quick: result.quick, testBugs: result.testBugs, loadavg1: loadavgStart[0]!, out: path.relative(REPO_ROOT, dir), ratios: result.ratios };
    const hist = path.resolve(REPO_ROOT, f.history);
    mkdirSync(path.dirname(hist), { recursive: true });
    appendFileSync(hist, `${JSON.stringify(line)}\n`);
  }
  for (const l of summaryLines(result)) io.out(l);
  io.out(`imstorm bench: ${result.seconds} s; wrote ${path.join(dir, 'bench.json')} and bench.html${f['no-history'] ? '' : `; appended a line to ${f.history}`}`);
  return { result, dir };
}

export const benchCommand: Subcommand = {
  name: 'bench',
  summary: 'Measure the server beside a raw-ws baseline: idle, connect storm, fan-out, 1:1',
  usage: [
    'Usage: imstorm bench [--steps idle,storm,fanout,dm] [--quick] [--out DIR] [sizes]',
    '',
    'Runs each step against an imstorm node (its own redis-server, AOF everysec) and a raw-ws',
    'baseline server (harness/bench/raw-ws-server.ts) driven by the same clients, one step',
    'after the other, and reports imstorm, the baseline and their ratio (higher is worse).',
    '',
    'Steps (default all four):',
    '  idle    N idle devices in 5 conversations each from fleet processes: heap and RSS per',
    '          connection beside the raw-ws server\'s, the fleet\'s RSS per device beside a raw ws client\'s',
    '  storm   N clients connect (hello → synced): connects/s, p50/p99, CPU µs per connect',
    '  fanout  groups with receivers acking every 50 ms, open-loop sweep of delivery rates',
    '  dm      1:1 pairs sending to each other, open loop (send, store, push, ack) per rate',
    '',
    'Options:',
    '  --steps LIST              which steps, comma-separated',
    '  --quick                   CI sizes: 1,000 connections, 2 rates, 3 s steps (about 2 min)',
    '  --idle-connections N      idle step (default 10000; quick 1000)',
    '  --presence-subs P         the idle step again with P presence subscriptions per',
    '                            connection, reported beside it (default 50; 0 skips it)',
    '  --connections N           storm and dm clients, even (default 10000; quick 1000)',
    '  --dm-rates LIST           1:1 messages/s (default 2500,5000,10000; quick 500,2000)',
    '  --receivers N             fan-out receivers (default 10000; quick 1000)',
    '  --group-size S            fan-out group size (default 100)',
    '  --fanout-rates LIST       fan-out deliveries/s (default 2500,5000,10000; quick 1000,2000)',
    '  --step-seconds N          one rate\'s sending time (default 10; quick 3)',
    '  --warmup-seconds N        unrecorded first step per server (default 3; quick 2); dm: at least until every client sent once',
    '  --grace-seconds N         longest wait for stragglers (default 5; quick 3)',
    '  --pin auto|off            taskset servers to CPU 0 and load to the others (default auto)',
    '  --out DIR                 where bench.json, bench.html and the steps\' JSON go',
    '                            (default reports/bench-<time>)',
    `  --history FILE            the history a line is appended to (default ${DEFAULT_HISTORY})`,
    '  --no-history              append nothing',
    '  --test-bugs LIST          run imstorm with these TEST_BUGS (loopback only; for the CI',
    '                            gate\'s control, e.g. slow_delivery)',
    '  -h, --help                show this help',
    '',
    'Gate the ratios with `imstorm compare --bench` (see its --help).',
    'Exit code: 0 when every step ran, 1 when one failed to run, 2 for bad flags.',
  ].join('\n'),
  async run(args, io) {
    const parsed = parseCommandFlags(
      args,
      {
        steps: { type: 'string', default: STEPS.join(',') },
        quick: { type: 'boolean' },
        'idle-connections': { type: 'string' },
        'presence-subs': { type: 'string', default: '50' },
        connections: { type: 'string' },
        'dm-rates': { type: 'string' },
        receivers: { type: 'string' },
        'group-size': { type: 'string' },
        'fanout-rates': { type: 'string' },
        'step-seconds': { type: 'string' },
        'warmup-seconds': { type: 'string' },
        'grace-seconds': { type: 'string' },
        pin: { type: 'string', default: 'auto' },
        out: { type: 'string' },
        history: { type: 'string', default: DEFAULT_HISTORY },
        'no-history': { type: 'boolean' },
        'test-bugs': { type: 'string' },
      },
      Flags,
    );
    if (parsed === 'help') {
      io.out(this.usage);
      return 0;
    }
    await runBench(parsed.flags, io);
    return 0;
  },
};
