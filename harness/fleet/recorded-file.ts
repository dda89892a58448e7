// A recorded plan as a data file beside its scenario (`<name>.plan.json`): what
// `imstorm replay --save-as` writes, and what the saved scenario loads when it is imported.
// The steps are data, not code: a scenario file of thousands of inline steps was unreadable
// (and every step looked to a duplicate finder like every other). Plain JSON, one step a
// line, so a diff of a re-recorded incident reads step by step.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordedSchema, type Recorded } from './recorded.ts';

export class RecordedFileError extends Error {}

/** The plan file of a scenario file: `dir/name.ts` → `dir/name.plan.json`. */
export function recordedFileOf(scenarioFile: string): string {
  return scenarioFile.replace(/\.[cm]?[jt]s$/, '') + '.plan.json';
}

/**
 * Reads and checks a recorded plan file; a scenario file calls it with
 * `new URL('./<name>.plan.json', import.meta.url)`. An unreadable file, bad JSON, or a
 * field the plan schema refuses is a RecordedFileError naming the file and the field.
 */
export function loadRecorded(file: string | URL): Recorded {
  const abs = typeof file === 'string' ? path.resolve(file) : fileURLToPath(file);
  const rel = path.relative(process.cwd(), abs);
  const shown = rel && !rel.startsWith('..') ? rel : abs;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? `not JSON (${err.message})` : `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    throw new RecordedFileError(`recorded plan ${shown}: ${why}; it is written by \`imstorm replay … --save-as\` beside its scenario file`);
  }
  const r = recordedSchema.safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.slice(0, 3).map((i) => `${fieldName(i.path)}: ${i.message}`);
    const more = r.error.issues.length > 3 ? ` (and ${r.error.issues.length - 3} more)` : '';
    throw new RecordedFileError(`recorded plan ${shown}: ${problems.join('; ')}${more}; save the replay again with \`imstorm replay … --save-as\`, or fix the field (its shape: harness/fleet/recorded.ts)`);
  }
  return r.data;
}

/** `devices[3].steps[12].op`: where in the file a problem is. */
function fieldName(p: readonly PropertyKey[]): string {
  if (!p.length) return '(the whole file)';
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');
}

/** Writes a recorded plan file; returns its path. */
export function writeRecorded(file: string, r: Recorded): string {
  writeFileSync(file, recordedFileText(r));
  return file;
}

/**
 * The plan file's text: a group, a dm, a device's own fields and each of its steps on a line
 * of their own, so a diff of a re-recorded incident reads step by step.
 */
export function recordedFileText(r: Recorded): string {
  const list = (items: string[], indent: string) => (items.length ? `[\n${items.map((x) => indent + '  ' + x).join(',\n')}\n${indent}]` : '[]');
  const device = ({ steps, ...own }: Recorded['devices'][number]) => {
    const head = JSON.stringify(own).slice(0, -1);
    return `${head},"steps":${list(steps.map((st) => JSON.stringify(st)), '    ')}}`;
  };
  return [
    '{',
    `  "source": ${JSON.stringify(r.source)},`,
    `  "groups": ${list(r.groups.map((g) => JSON.stringify(g)), '  ')},`,
    `  "membership": ${list(r.membership.map((m) => JSON.stringify(m)), '  ')},`,
    `  "dms": ${list(r.dms.map((d) => JSON.stringify(d)), '  ')},`,
    `  "devices": ${list(r.devices.map(device), '  ')}`,
    '}',
    '',
  ].join('\n');
}

/** JSON with one line per short object or array (a fault step is one line), indented otherwise. */
export function compactJson(v: unknown, indent: string): string {
  const flat = JSON.stringify(v);
  if (flat === undefined) return 'undefined';
  if (flat.length <= 110 || v === null || typeof v !== 'object') return flat;
  const inner = indent + '  ';
  if (Array.isArray(v)) return `[\n${v.map((x) => inner + compactJson(x, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${compactJson(x, inner)}`).join(',\n')}\n${indent}}`;
}
