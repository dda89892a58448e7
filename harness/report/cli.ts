// `imstorm report <dir>` and `imstorm compare <a> <b>` (entries of harness/cli.ts's
// SUBCOMMANDS).
import { parseArgs } from 'node:util';
import { EXIT_USAGE, type CliIo, type Subcommand } from '../subcommand.ts';
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
  ].join('\n'),
  async run(args, io) {
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
