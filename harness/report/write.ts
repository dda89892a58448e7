// Writes a run's report files under reports/<time>-<scenario>/ and regenerates
// reports/index.html. Every file is written to a temporary name and renamed, so a reader
// (the index, a browser, CI) never sees half a file.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderHtml } from './html.ts';
import { listRuns, renderIndex } from './index-page.ts';
import { renderJunit } from './junit.ts';
import { renderSummary } from './markdown.ts';
import { parseReport, type Report } from './schema.ts';

/** The repository's reports/ directory (the default root). */
export const DEFAULT_REPORTS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'reports');

export const REPORT_FILES = { json: 'report.json', html: 'report.html', summary: 'summary.md', junit: 'junit.xml' } as const;

export interface WrittenReport {
  dir: string;
  files: { json: string; html: string; summary: string; junit: string };
  /** the regenerated reports/index.html (undefined when index: false) */
  index: string | undefined;
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** A directory for a new run under root: <id>, or <id>-2, -3, … when taken. */
function freshDir(root: string, id: string): string {
  let dir = path.join(root, id);
  for (let n = 2; existsSync(dir); n++) dir = path.join(root, `${id}-${n}`);
  return dir;
}

async function renderInto(report: Report, dir: string, withJson: boolean): Promise<WrittenReport['files']> {
  const files = {
    json: path.join(dir, REPORT_FILES.json),
    html: path.join(dir, REPORT_FILES.html),
    summary: path.join(dir, REPORT_FILES.summary),
    junit: path.join(dir, REPORT_FILES.junit),
  };
  if (withJson) await writeAtomic(files.json, `${JSON.stringify(report, null, 1)}\n`);
  await writeAtomic(files.html, renderHtml(report));
  await writeAtomic(files.summary, renderSummary(report));
  await writeAtomic(files.junit, renderJunit(report));
  return files;
}

/** Rewrites <root>/index.html from the runs found there. */
export async function writeIndex(root: string = DEFAULT_REPORTS_ROOT): Promise<string> {
  await mkdir(root, { recursive: true });
  const file = path.join(root, 'index.html');
  await writeAtomic(file, renderIndex(await listRuns(root)));
  return file;
}

/**
 * Writes report.json, report.html, summary.md and junit.xml into `dir`, or into a new
 * <root>/<report.id> directory, then regenerates <root>/index.html.
 */
export async function writeReport(report: Report, opts: { root?: string; dir?: string; index?: boolean } = {}): Promise<WrittenReport> {
  const root = opts.root ?? (opts.dir ? path.dirname(opts.dir) : DEFAULT_REPORTS_ROOT);
  const dir = opts.dir ?? freshDir(root, report.id);
  await mkdir(dir, { recursive: true });
  const files = await renderInto(parseReport(report), dir, true);
  const index = opts.index === false ? undefined : await writeIndex(root);
  return { dir, files, index };
}

/** Reads and validates a report: a report.json path or its directory. */
export async function loadReport(fileOrDir: string): Promise<Report> {
  let file = fileOrDir;
  try {
    if ((await stat(fileOrDir)).isDirectory()) file = path.join(fileOrDir, REPORT_FILES.json);
  } catch {
    throw new Error(`no report at ${fileOrDir}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseReport(json);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/**
 * `imstorm report <dir>` (or a report.json path): re-renders report.html, summary.md and junit.xml from the
 * directory's report.json (which is left as it is) and regenerates the parent's index.
 */
export async function rerenderReport(dir: string, opts: { index?: boolean } = {}): Promise<WrittenReport & { report: Report }> {
  const report = await loadReport(dir);
  const runDir = (await stat(dir)).isDirectory() ? dir : path.dirname(dir);
  const files = await renderInto(report, runDir, false);
  const index = opts.index === false ? undefined : await writeIndex(path.dirname(path.resolve(runDir)));
  return { dir: runDir, files, index, report };
}
