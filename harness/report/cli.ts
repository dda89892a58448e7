// `imstorm report <dir>` and `imstorm compare <a> <b>` (entries of harness/cli.ts's
// SUBCOMMANDS).
import { parseArgs } from 'node:util';
import { EXIT_USAGE, type CliIo, type Subcommand } from '../subcommand.ts';
import { CI_RATIO_BOUNDS, gate, lastTwo, loadRatioRun, parseBound, type RatioRun } from '../bench/bench-gate.ts';
import { compare, formatComparisonMarkdown, formatComparisonText } from './compare.ts';
import { loadReport, rerenderReport } from './write.ts';

function parse(args: readonly string[], options: NonNullable<Parameters<typeof parseArgs>[0]>['options']): { values: Record<string, unknown>; positionals: string[] } | Error {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
    return { values, positionals };
  } catch (err) {
    return err as Error;
  }
}

function usageError(io: CliIo, name: string, message: string, usage: string): number {
  io.err(`imstorm ${name}: ${message}\n\n${usage}`);
  return EXIT_USAGE;
}

export const reportCommand: Subcommand = {
  name: 'report',
  summary: 'Re-render report.html, summary.md and junit.xml from a run directory',
  usage: [
    'Usage: imstorm report <dir>',
    '',
    "Reads <dir>/report.json, validates it against the report schema, rewrites the run's",
    'report.html, summary.md and junit.xml, and regenerates the index.html beside it.',
    'Exit code: 0 when the run passed, 1 when it failed, 2 for a bad or missing report.',
    '',
    'Options:',
    '  -h, --help    show this help',
  ].join('\n'),
  async run(args, io) {
    const p = parse(args, {});
    if (p instanceof Error) return usageError(io, this.name, p.message, this.usage);
    if (p.values['help']) {
      io.out(this.usage);
      return 0;
    }
    if (p.positionals.length !== 1) return usageError(io, this.name, 'expected exactly one run directory', this.usage);
    let written;
    try {
      written = await rerenderReport(p.positionals[0]!);
    } catch (err) {
      io.err(`imstorm report: ${(err as Error).message}`);
      return EXIT_USAGE;
    }
    const v = written.report.verdict;
    io.out(`${written.report.scenario.name}: ${v.pass ? 'PASS' : 'FAIL'} (${v.thresholds.total - v.thresholds.failed}/${v.thresholds.total} thresholds, ${v.guarantees.total - v.guarantees.failed}/${v.guarantees.total} guarantees)`);
    for (const f of v.failures) io.out(`  ${f}`);
    io.out(`wrote ${written.files.html}`);
    io.out(`wrote ${written.files.summary}`);
    io.out(`wrote ${written.files.junit}`);
    if (written.index) io.out(`wrote ${written.index}`);
    return v.pass ? 0 : 1;
  },
};

export const compareCommand: Subcommand = {
  name: 'compare',
  summary: 'Regression table between two runs; fails beyond the limits',
  usage: [
    'Usage: imstorm compare <a> <b> [--rule "<metric> +N%"]... [--format text|markdown]',
    '',
    'Compares run b (candidate) against run a (baseline); each is a run directory or a',
    'report.json. Without --rule: p50/p99 of every latency +10%, HTTP p99 +10% and',
    'req/s -10%, deliveries/s -10%, peak RSS +10%, peak event-loop lag +25%, no new',
    'guarantee violations.',
    '',
    'Options:',
    '  --rule R         "<metric path> +N%" fails when it rises more than N%;',
    '                   "<metric path> -N%" fails when it falls more than N%;',
    '                   append "(±X)" to ignore changes smaller than X; repeatable',
    '  --format F       text (default) or markdown',
    '  -h, --help       show this help',
    '',
    'Exit code: 0 no regression, 1 a regression, 2 usage or unreadable reports.',
    '',
    'Usage: imstorm compare --bench [<a> [<b>]] [--max-ratio-increase F] [--max-ratio STEP.RATIO=N]... [--ci-bounds] [--history FILE]',
    '',
    "Gates `imstorm bench` results on their ratios to the raw-ws baseline (imstorm ÷ raw-ws,",
    'higher is worse; never absolute times). <a>, <b>: a bench.json, its directory, or',
    '<history.ndjson>:<line> (1-based; -1 the last). With two: b against a. With one: that',
    'result against the fixed bounds. With none: the last two runs of the same size in the',
    'history (both --quick or neither, without TEST_BUGS), or the last run for fixed bounds only.',
    '',
    'Options (--bench):',
    '  --max-ratio-increase F   fail when a ratio of b rises more than F (0.2 = 20%) over a\'s',
    '  --max-ratio K=N          fail when ratio K (e.g. fanout.cpuPerDelivery) of b exceeds N; repeatable',
    `  --ci-bounds              the CI gate's fixed bounds, for the steps the result ran: ${Object.entries(CI_RATIO_BOUNDS).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    '  --ratios LIST            which ratios --max-ratio-increase gates (default: all but the p99 ratios,',
    '                           which are printed: a baseline p99 of a few ms moves several-fold between runs)',
    '  --history FILE           default reports/bench-history.ndjson',
  ].join('\n'),
  async run(args, io) {
    if (args.includes('--bench')) return compareBench(args.filter((a) => a !== '--bench'), io, this.usage);
    const p = parse(args, { rule: { type: 'string', multiple: true }, format: { type: 'string', default: 'text' } });
    if (p instanceof Error) return usageError(io, this.name, p.message, this.usage);
    if (p.values['help']) {
      io.out(this.usage);
      return 0;
    }
    if (p.positionals.length !== 2) return usageError(io, this.name, 'expected two runs: <a> <b>', this.usage);
    const format = p.values['format'];
    if (format !== 'text' && format !== 'markdown') return usageError(io, this.name, '--format must be text or markdown', this.usage);
    let result;
    try {
      const [a, b] = await Promise.all(p.positionals.map((x) => loadReport(x)));
      result = compare(a!, b!, (p.values['rule'] as string[] | undefined) ?? []);
    } catch (err) {
      io.err(`imstorm compare: ${(err as Error).message}`);
      return EXIT_USAGE;
    }
    io.out(format === 'markdown' ? formatComparisonMarkdown(result) : formatComparisonText(result));
    return result.pass ? 0 : 1;
  },
};

function compareBench(args: readonly string[], io: CliIo, usage: string): number {
  const p = parse(args, { 'max-ratio-increase': { type: 'string' }, 'max-ratio': { type: 'string', multiple: true }, 'ci-bounds': { type: 'boolean' }, ratios: { type: 'string' }, history: { type: 'string', default: 'reports/bench-history.ndjson' } });
  if (p instanceof Error) return usageError(io, 'compare', p.message, usage);
  if (p.values['help']) {
    io.out(usage);
    return 0;
  }
  const inc = p.values['max-ratio-increase'] as string | undefined;
  if (inc !== undefined && !/^\d+(\.\d+)?$/.test(inc)) return usageError(io, 'compare', `--max-ratio-increase must be a fraction ≥ 0, e.g. 0.2 for 20%, not "${inc}"`, usage);
  let bounds: Record<string, number> = p.values['ci-bounds'] ? { ...CI_RATIO_BOUNDS } : {};
  try {
    for (const spec of (p.values['max-ratio'] as string[] | undefined) ?? []) {
      const [k, v] = parseBound(spec);
      bounds = { ...bounds, [k]: v };
    }
  } catch (err) {
    return usageError(io, 'compare', (err as Error).message, usage);
  }
  const ciBounds = p.values['ci-bounds'] === true;
  if (inc === undefined && !Object.keys(bounds).length) return usageError(io, 'compare', '--bench needs --max-ratio-increase F, --max-ratio K=N or --ci-bounds', usage);
  if (p.positionals.length > 2) return usageError(io, 'compare', '--bench takes at most two results: <a> <b>', usage);
  if (inc !== undefined && p.positionals.length === 1) return usageError(io, 'compare', '--max-ratio-increase needs two results (<a> <b>), or none to take the last two of the history', usage);
  let a: RatioRun | null = null;
  let b: RatioRun;
  try {
    const history = p.values['history'] as string;
    if (p.positionals.length === 2) [a, b] = [loadRatioRun(p.positionals[0]!), loadRatioRun(p.positionals[1]!)];
    else if (p.positionals.length === 1) b = loadRatioRun(p.positionals[0]!);
    else if (inc !== undefined) [a, b] = lastTwo(history);
    else b = loadRatioRun(`${history}:-1`);
  } catch (err) {
    io.err(`imstorm compare --bench: ${(err as Error).message}`);
    return EXIT_USAGE;
  }
  // --ci-bounds: the bounds of the steps this result ran (explicit --max-ratio keys must all be there)
  const ran = new Set(Object.keys(b.ratios).map((k) => k.split('.')[0]));
  const explicit = new Set(((p.values['max-ratio'] as string[] | undefined) ?? []).map((x) => x.split('=')[0]));
  if (ciBounds) for (const k of Object.keys(bounds)) if (!explicit.has(k) && !ran.has(k.split('.')[0])) delete bounds[k];
  if (a && a.config !== b.config) io.out(`note: the two runs differ in steps or sizes (${a.config || '?'} vs ${b.config || '?'}); their ratios may differ for that alone`);
  const only = p.values['ratios'] as string | undefined;
  const rows = gate(a, b, { ...(inc !== undefined ? { maxIncrease: Number(inc) } : {}), bounds, ...(only ? { keys: (k: string) => only.split(',').includes(k) } : {}) });
  if (a) io.out(`a (baseline):  ${a.label}`);
  io.out(`b (candidate): ${b.label}`);
  for (const r of rows) io.out(`  ${r.message}`);
  const failed = rows.filter((r) => !r.pass);
  if (!rows.length) {
    io.err('imstorm compare --bench: no ratio in common to gate');
    return EXIT_USAGE;
  }
  if (failed.length) {
    io.err(`imstorm compare --bench: FAIL: ${failed.map((r) => r.message.replace(/^FAIL /, '')).join('; ')}`);
    return 1;
  }
  io.out(`PASS: ${rows.length} ratio limit(s) held`);
  return 0;
}
