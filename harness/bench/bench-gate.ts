// `imstorm compare --bench`: gates `imstorm bench` results on their ratios to the raw-ws
// baseline (never on absolute times, which move with the machine's load). Two kinds of
// limit: a candidate's ratio may rise at most --max-ratio-increase (relative) over a
// baseline run's, and a ratio may not exceed a fixed bound (--max-ratio step.ratio=N).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { HistoryLine } from './bench-result.ts';

// What compare reads of a bench.json or a history line (bench-result.ts writes both): the
// files are the user's to give, so each is checked here and a bad one named with its field.
const ratios = z.record(z.string(), z.number().nullable());
const benchJson = z.object({
  kind: z.literal('imstorm-bench'),
  at: z.string(),
  commit: z.string().nullable(),
  testBugs: z.string().nullable().optional(),
  config: z.string().optional(),
  ratios,
});
const historyLine = z.object({
  at: z.string(),
  config: z.string(),
  commit: z.string().nullable(),
  quick: z.boolean(),
  testBugs: z.string().nullable(),
  loadavg1: z.number(),
  out: z.string(),
  ratios,
}) satisfies z.ZodType<HistoryLine>;

const firstIssue = (err: z.ZodError) => {
  const i = err.issues[0];
  return i ? `${i.path.length ? `field \`${i.path.join('.')}\`: ` : ''}${i.message}` : 'invalid';
};

export interface RatioRun {
  label: string;
  config: string;
  ratios: Record<string, number | null>;
}

/**
 * The ratios --max-ratio-increase gates by default: CPU, memory, time per connect and
 * delivered/s. Latency ratios (p99) are printed but not gated unless --ratios names them:
 * a baseline p99 of a few ms moves several-fold between runs on a shared machine.
 */
export const isDefaultGated = (key: string): boolean => !/\.p\d+$/.test(key);

export interface GateRow {
  key: string;
  a: number | null;
  b: number | null;
  limit: string;
  pass: boolean;
  message: string;
}

/**
 * Fixed bounds for the CI gate (`imstorm bench --quick`), generous: at --quick sizes on
 * the shared 2-core machine (load average 3–36) imstorm's CPU ratios read 2.5–3.5 (storm),
 * 1.7–2.5 (fanout), 2.2–3.6 (dm); with TEST_BUGS=slow_delivery (500 µs of CPU per frame
 * written, busy-waiting: /proc counts it whatever the load) 7–9 (storm), 9–12 (fanout at
 * 1,000/s), 7.5 (dm at 200–400 msg/s). CPU only: latency ratios on small baselines (a few ms) and memory ratios at
 * 1,000 connections (V8's young generation) move too much for a fixed bound.
 */
export const CI_RATIO_BOUNDS: Record<string, number> = {
  'storm.cpuPerConnect': 5,
  'fanout.cpuPerDelivery': 4,
  'dm.cpuPerDelivery': 5,
};

/** A bench.json, a directory holding one, or a history line (`<file.ndjson>:<line>`, 1-based, or `:-1` for the last). */
export function loadRatioRun(spec: string): RatioRun {
  const m = /^(.*\.ndjson):(-?\d+)$/.exec(spec);
  if (m) {
    const lines = readHistory(m[1]!);
    const n = Number(m[2]);
    const line = n < 0 ? lines[lines.length + n] : lines[n - 1];
    if (!line) throw new Error(`${m[1]} has ${lines.length} line(s); there is no line ${n}`);
    return historyRun(line, `${m[1]}:${n}`);
  }
  const file = existsSync(spec) && statSync(spec).isDirectory() ? path.join(spec, 'bench.json') : spec;
  if (!existsSync(file)) throw new Error(`${file}: no such bench result (give a bench.json, its directory, or <history.ndjson>:<line>)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new Error(`${file}: not JSON (give the bench.json an imstorm bench run wrote)`);
  }
  const parsed = benchJson.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: not an imstorm bench result (${firstIssue(parsed.error)})`);
  const r = parsed.data;
  return { label: `${file} (${r.at}${r.commit ? `, ${r.commit}` : ''}${r.testBugs ? `, TEST_BUGS=${r.testBugs}` : ''})`, config: r.config ?? '', ratios: r.ratios };
}

export function readHistory(file: string): HistoryLine[] {
  if (!existsSync(file)) throw new Error(`${file}: no bench history yet (run imstorm bench first)`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      let raw: unknown;
      try {
        raw = JSON.parse(l);
      } catch {
        throw new Error(`${file}:${i + 1}: not a JSON line`);
      }
      const parsed = historyLine.safeParse(raw);
      if (!parsed.success) throw new Error(`${file}:${i + 1}: not a bench history line (${firstIssue(parsed.error)})`);
      return parsed.data;
    });
}

const historyRun = (l: HistoryLine, where: string): RatioRun => ({ label: `${where} (${l.at}${l.commit ? `, ${l.commit}` : ''}${l.testBugs ? `, TEST_BUGS=${l.testBugs}` : ''}; ${l.config})`, config: l.config ?? '', ratios: l.ratios });

/** The last run of the history, and the one before it with the same steps and sizes (neither with TEST_BUGS). */
export function lastTwo(file: string): [RatioRun, RatioRun] {
  const lines = readHistory(file);
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`${file}: empty`);
  if (last.testBugs) throw new Error(`${file}: its last run had TEST_BUGS=${last.testBugs}; compare two results by name instead`);
  const same = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.config === last.config && !l.testBugs);
  if (same.length < 2) throw new Error(`${file}: no earlier run with the same steps and sizes as the last (${last.config}) to compare with`);
  const [a, b] = same.slice(-2) as [{ l: HistoryLine; i: number }, { l: HistoryLine; i: number }];
  return [historyRun(a.l, `${file}:${a.i + 1}`), historyRun(b.l, `${file}:${b.i + 1}`)];
}

/** Parses "step.ratio=N" (a fixed bound). */
export function parseBound(spec: string): [string, number] {
  const m = /^([a-z]+\.[A-Za-z]+)=(\d+(?:\.\d+)?)$/.exec(spec);
  if (!m) throw new Error(`--max-ratio "${spec}": expected <step>.<ratio>=<bound>, e.g. fanout.cpuPerDelivery=3`);
  return [m[1]!, Number(m[2])];
}

/**
 * Rows for every ratio a limit applies to. `a` may be null (fixed bounds only).
 * A ratio missing from b is a failure when it has a fixed bound (the step did not run or
 * its baseline measured 0), and skipped for the relative check.
 */
export function gate(a: RatioRun | null, b: RatioRun, opts: { maxIncrease?: number; bounds?: Record<string, number>; keys?: (key: string) => boolean }): GateRow[] {
  const rows: GateRow[] = [];
  if (a && opts.maxIncrease !== undefined) {
    const gated = opts.keys ?? isDefaultGated;
    for (const key of Object.keys(b.ratios).sort()) {
      const va = a.ratios[key] ?? null;
      const vb = b.ratios[key] ?? null;
      if (va === null || vb === null) continue;
      const limit = +(va * (1 + opts.maxIncrease)).toFixed(2);
      if (!gated(key)) {
        const [step, ratio] = key.split('.');
        rows.push({ key, a: va, b: vb, limit: 'not gated', pass: true, message: `info step ${step}: ${ratio} ratio to raw-ws ×${va} → ×${vb} (not gated; --ratios ${key} to gate it)` });
        continue;
      }
      const pass = vb <= limit;
      const rise = va > 0 ? ((vb - va) / va) * 100 : 0;
      const [step, ratio] = key.split('.');
      rows.push({ key, a: va, b: vb, limit: `≤ ×${limit} (+${Math.round(opts.maxIncrease * 100)}%)`, pass, message: `${pass ? 'ok' : 'FAIL'} step ${step}: ${ratio} ratio to raw-ws ×${va} → ×${vb} (${rise >= 0 ? '+' : ''}${rise.toFixed(0)}%, limit +${Math.round(opts.maxIncrease * 100)}%)` });
    }
  }
  for (const [key, bound] of Object.entries(opts.bounds ?? {})) {
    const vb = b.ratios[key] ?? null;
    const [step, ratio] = key.split('.');
    const pass = vb !== null && vb <= bound;
    rows.push({ key, a: null, b: vb, limit: `≤ ×${bound}`, pass, message: vb === null ? `FAIL step ${step}: no ${ratio} ratio in this result (did the step run?)` : `${pass ? 'ok' : 'FAIL'} step ${step}: ${ratio} ratio to raw-ws ×${vb} (bound ×${bound})` });
  }
  return rows;
}
