// reports/index.html: every run under a reports directory, newest first, with its
// verdict and links. Regenerated whenever a report is written.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { escapeHtml as h, fmtDuration, fmtTime } from './format.ts';

export interface RunEntry {
  /** directory name under the reports root */
  dir: string;
  scenario?: string;
  startedAt?: number;
  durationMs?: number;
  pass?: boolean;
  thresholds?: { total: number; failed: number };
  guarantees?: { total: number; failed: number };
  firstFailure?: string;
  seed?: string;
  /** why report.json could not be read */
  problem?: string;
}

/** report.json as read for the index: any field may be missing or of another type. */
interface LooseReport {
  scenario?: { name?: unknown };
  startedAt?: unknown;
  durationMs?: unknown;
  seed?: unknown;
  verdict?: { pass?: unknown; thresholds?: unknown; guarantees?: unknown; failures?: unknown[] };
}

/** Reads the summary fields of every <root>/<dir>/report.json (leniently: a broken one is listed with its problem). */
export async function listRuns(root: string): Promise<RunEntry[]> {
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  const runs: RunEntry[] = [];
  for (const dir of names) {
    let text: string;
    try {
      text = await readFile(path.join(root, dir, 'report.json'), 'utf8');
    } catch {
      continue; // not a run directory
    }
    try {
      const j = JSON.parse(text) as LooseReport;
      const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
      const counts = (v: unknown): { total: number; failed: number } | undefined => {
        const o = v as { total?: unknown; failed?: unknown } | undefined;
        return o && typeof o.total === 'number' && typeof o.failed === 'number' ? { total: o.total, failed: o.failed } : undefined;
      };
      runs.push({
        dir,
        scenario: str(j.scenario?.name),
        startedAt: typeof j.startedAt === 'number' ? j.startedAt : undefined,
        durationMs: typeof j.durationMs === 'number' ? j.durationMs : undefined,
        pass: typeof j.verdict?.pass === 'boolean' ? j.verdict.pass : undefined,
        thresholds: counts(j.verdict?.thresholds),
        guarantees: counts(j.verdict?.guarantees),
        firstFailure: Array.isArray(j.verdict?.failures) ? str(j.verdict.failures[0]) : undefined,
        seed: str(j.seed),
      });
    } catch (err) {
      runs.push({ dir, problem: `report.json unreadable: ${(err as Error).message}` });
    }
  }
  return runs.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0) || b.dir.localeCompare(a.dir));
}

export function renderIndex(runs: readonly RunEntry[]): string {
  const enc = (dir: string, file: string): string => `./${encodeURIComponent(dir)}/${file}`;
  const rows = runs.map((r) => {
    if (r.problem) return `<tr><td colspan="6" class="mono">${h(r.dir)}</td><td class="bad">${h(r.problem)}</td></tr>`;
    const verdict = r.pass === undefined ? '<span class="muted">?</span>' : r.pass ? '<span class="badge pass">✔ PASS</span>' : '<span class="badge fail">✘ FAIL</span>';
    const counts = `${r.thresholds ? `${r.thresholds.total - r.thresholds.failed}/${r.thresholds.total} thresholds` : ''}${r.guarantees ? ` · ${r.guarantees.total - r.guarantees.failed}/${r.guarantees.total} guarantees` : ''}`;
    return (
      `<tr><td>${verdict}</td><td><a href="${enc(r.dir, 'report.html')}">${h(r.scenario ?? r.dir)}</a><div class="muted mono">${h(r.dir)}</div></td>` +
      `<td>${r.startedAt ? fmtTime(r.startedAt) : '—'}</td><td class="num">${r.durationMs !== undefined ? fmtDuration(r.durationMs) : '—'}</td>` +
      `<td class="mono">${h(r.seed ?? '')}</td><td>${counts}${r.firstFailure ? `<div class="bad">${h(r.firstFailure)}</div>` : ''}</td>` +
      `<td class="links"><a href="${enc(r.dir, 'report.html')}">html</a> <a href="${enc(r.dir, 'summary.md')}">summary.md</a> <a href="${enc(r.dir, 'junit.xml')}">junit.xml</a> <a href="${enc(r.dir, 'report.json')}">json</a></td></tr>`
    );
  });
  const passed = runs.filter((r) => r.pass === true).length;
  const broken = runs.filter((r) => r.problem).length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imstorm runs</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
h1 { font-size: 22px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #d0d7de; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-size: 13px; }
td.num { text-align: right; white-space: nowrap; }
.badge { display: inline-block; border-radius: 4px; padding: 1px 8px; font-weight: 700; font-size: 12px; color: #fff; white-space: nowrap; }
.pass { background: #1a7f37; } .fail { background: #cf222e; }
.bad { color: #cf222e; font-size: 12px; } .muted { color: #57606a; font-size: 12px; } .mono { font-family: ui-monospace, Menlo, monospace; font-size: 12px; }
.links a { margin-right: 8px; white-space: nowrap; } a { color: #0969da; }
</style>
</head>
<body>
<main>
<h1>imstorm runs</h1>
<p class="muted">${runs.length - broken} run(s), ${passed} passing${broken ? `, ${broken} unreadable` : ''}, newest first. Regenerated each time a report is written.</p>
${runs.length ? `<table><thead><tr><th>verdict</th><th>scenario</th><th>started (UTC)</th><th>duration</th><th>seed</th><th>checks</th><th>files</th></tr></thead><tbody>${rows.join('')}</tbody></table>` : '<p>No runs yet: <code>imstorm run smoke</code> writes one.</p>'}
</main>
</body>
</html>
`;
}
