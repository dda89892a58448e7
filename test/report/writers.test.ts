import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../harness/report/build.ts';
import { compareCommand, reportCommand } from '../../harness/report/cli.ts';
import { renderJunit } from '../../harness/report/junit.ts';
import { renderSummary } from '../../harness/report/markdown.ts';
import { REPORT_VERSION, parseReport, reportJsonSchema, reportSchema } from '../../harness/report/schema.ts';
import { loadReport, rerenderReport, writeReport } from '../../harness/report/write.ts';
import { syntheticReport, T0 } from './synthetic.ts';
import { parseXml, type XmlElement } from './xml.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'imstorm-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

const all = (el: XmlElement, name: string): XmlElement[] => [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];

describe('writeReport', () => {
  it('writes the four files under <root>/<time>-<scenario>/ and a valid report.json', async () => {
    const root = path.join(tmp, 'basic');
    const report = syntheticReport({ failLost: true });
    const w = await writeReport(report, { root });
    expect(path.basename(w.dir)).toBe('2026-11-27T15-20-00Z-smoke');
    for (const f of Object.values(w.files)) expect(existsSync(f)).toBe(true);
    const loaded = await loadReport(w.dir);
    expect(loaded).toEqual(report);
    expect(JSON.parse(readFileSync(w.files.json, 'utf8'))).toMatchObject({ kind: 'imstorm.report', version: REPORT_VERSION });
    // a second run in the same second gets its own directory
    const again = await writeReport(report, { root });
    expect(path.basename(again.dir)).toBe('2026-11-27T15-20-00Z-smoke-2');
  });

  it('refuses reports that do not match the schema, naming the field', async () => {
    const report = syntheticReport();
    const broken = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    delete (broken['verdict'] as Record<string, unknown>)['pass'];
    expect(() => parseReport(broken)).toThrow(/verdict\.pass/);
    expect(() => parseReport({ ...report, version: 2 })).toThrow(/schema version 2; this imstorm reads version 1/);
    const dir = path.join(tmp, 'broken');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'report.json'), '{"kind":"imstorm.report"');
    await expect(loadReport(dir)).rejects.toThrow(/cannot read .*report\.json/);
    await expect(loadReport(path.join(tmp, 'nowhere'))).rejects.toThrow(/no report at/);
  });

  it('exports a JSON Schema of report.json', () => {
    const schema = reportJsonSchema() as { type: string; properties: Record<string, unknown>; required: string[] };
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['verdict', 'thresholds', 'checks', 'latency', 'series', 'faults', 'http']));
  });

  it('builds a valid report from nothing but the run facts (no data sections)', () => {
    const r = buildReport({ scenario: 'empty', seed: 1, startedAt: T0, endedAt: T0 + 1000 });
    expect(r.verdict).toMatchObject({ pass: true, thresholds: { total: 0 }, guarantees: { total: 0 } });
    expect(r.latency.metrics).toEqual([]);
    expect(r.environment.node).toBe(process.version);
    expect(reportSchema.safeParse(r).success).toBe(true);
  });
});

describe('junit.xml', () => {
  it('is well-formed, with one testcase per guarantee and per threshold and witnesses in failures', () => {
    const report = syntheticReport({ failLost: true, thresholds: ['latency.sendToSent.p99 < 1', 'faults.count == 3'] });
    const root = parseXml(renderJunit(report));
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '8', failures: '2' });
    const suites = all(root, 'testsuite');
    expect(suites.map((s) => s.attrs['name'])).toEqual(['imstorm.smoke.guarantees', 'imstorm.smoke.thresholds']);
    const cases = all(root, 'testcase');
    expect(cases).toHaveLength(8);
    expect(cases.map((c) => c.attrs['name']!.split(':')[0])).toEqual(expect.arrayContaining(['lost', 'unseen', 'duplicate', 'order', 'presence', 'leaks']));
    const lost = cases.find((c) => c.attrs['name']!.startsWith('lost'))!;
    const failure = lost.children.find((c) => c.name === 'failure')!;
    expect(failure.attrs['message']).toMatch(/^2 violation\(s\); first: dm:u017:u042 seq 318/);
    expect(failure.text).toContain('1. dm:u017:u042 seq 318');
    expect(failure.text).toContain('2. g:team3 seq 77');
    expect(failure.text).toContain('during: node:restart on node-2');
    const slow = cases.find((c) => c.attrs['name'] === 'latency.sendToSent.p99 < 1 ms')!;
    expect(slow.children[0]!.attrs['message']).toMatch(/^latency\.sendToSent\.p99 = [\d,.]+ ms, limit < 1 ms$/);
    expect(cases.find((c) => c.attrs['name'] === 'faults.count == 3')!.children.some((c) => c.name === 'failure')).toBe(false);
  });

  it('lists what the run could not check as skipped testcases (a run against a target)', () => {
    const report = { ...syntheticReport({}), notChecked: ['nodes: the target\'s processes are not watched from here', 'fault step not run: restart node-3 at 20000 ms (there is no node-3)'] };
    const root = parseXml(renderJunit(report));
    expect(root.attrs).toMatchObject({ skipped: '2' });
    const suite = all(root, 'testsuite').find((s) => s.attrs['name'] === 'imstorm.smoke.not-checked')!;
    expect(suite.attrs).toMatchObject({ tests: '2', skipped: '2', failures: '0' });
    expect(all(suite, 'testcase').map((c) => [c.attrs['name'], c.children[0]!.name, c.children[0]!.attrs['message']])).toEqual([
      ['nodes', 'skipped', "the target's processes are not watched from here"],
      ['fault step not run', 'skipped', 'restart node-3 at 20000 ms (there is no node-3)'],
    ]);
    // a run that checked everything has no such suite
    expect(all(parseXml(renderJunit(syntheticReport({}))), 'testsuite')).toHaveLength(2);
  });

  it('escapes markup, quotes and characters XML cannot hold', () => {
    const report = syntheticReport({ failLost: true });
    const v = report.checks[0]!;
    v.summary = 'a <b> & "c" \'d\' \u0007 bell';
    v.violations[0]!.message = '</failure><x a="1"> & \u0000';
    const root = parseXml(renderJunit(report));
    const lost = all(root, 'testcase').find((c) => c.attrs['name']!.startsWith('lost'))!;
    expect(lost.children[0]!.attrs['message']).toContain('</failure><x a="1"> & \uFFFD');
    expect(lost.children[0]!.text).toContain('a <b> & "c" \'d\' \uFFFD bell');
  });
});

describe('summary.md', () => {
  it('opens with the verdict table, then the key figures', () => {
    const md = renderSummary(syntheticReport({ failLost: true }));
    const lines = md.split('\n');
    expect(lines[0]).toBe('## imstorm `smoke`: ❌ FAIL');
    const table = lines.findIndex((l) => l === '| result | check | observed | limit |');
    const figures = lines.indexOf('### Key figures');
    expect(table).toBeGreaterThan(0);
    expect(table).toBeLessThan(figures);
    expect(md).toMatch(/\| ❌ \*\*FAIL\*\* \| guarantee \*\*lost\*\*: .* \| 2 violation\(s\) of 10,842 checked \| 0 \|/);
    expect(md).toMatch(/\| ✅ pass \| p99 send→delivered < 2\.5 s \| [\d,.]+ ms \| < 2,500 ms \|/);
    expect(md).toContain('- dm:u017:u042 seq 318');
    expect(md).toMatch(/\| send → delivered \(per recipient\) \| [\d,]+ \|/);
    expect(md).toContain('| node-2 |');
    expect(md).toContain('`POST /v1/messages`');
    expect(md).toContain('F2 `node:restart` on node-2 at +40 s');
  });
});

describe('reports/index.html', () => {
  it('lists runs newest first with verdict and links, and survives a broken run', async () => {
    const root = path.join(tmp, 'index');
    await writeReport(syntheticReport({ startedAt: T0, scenario: 'smoke' }), { root });
    await writeReport(syntheticReport({ startedAt: T0 + 3_600_000, scenario: 'storm', failLost: true }), { root });
    mkdirSync(path.join(root, 'junk-run'));
    writeFileSync(path.join(root, 'junk-run', 'report.json'), 'not json');
    mkdirSync(path.join(root, 'not-a-run'));
    const w = await writeReport(syntheticReport({ startedAt: T0 + 1_800_000, scenario: 'soak' }), { root });
    const html = readFileSync(w.index!, 'utf8');
    const order = ['2026-11-27T16-20-00Z-storm', '2026-11-27T15-50-00Z-soak', '2026-11-27T15-20-00Z-smoke'].map((d) => html.indexOf(`./${d}/report.html`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html).toContain('./2026-11-27T16-20-00Z-storm/junit.xml');
    expect(html).toMatch(/✘ FAIL<\/span><\/td><td><a href="\.\/2026-11-27T16-20-00Z-storm\/report\.html">storm/);
    expect(html).toContain('junk-run');
    expect(html).toContain('report.json unreadable');
    expect(html).not.toContain('not-a-run');
    expect(html).toContain('3 run(s), 2 passing, 1 unreadable');
  });
});

describe('imstorm report / compare commands', () => {
  it('report <dir> re-renders html, md and junit from report.json', async () => {
    const root = path.join(tmp, 'rerender');
    const w = await writeReport(syntheticReport({ failLost: true }), { root });
    for (const f of [w.files.html, w.files.summary, w.files.junit, w.index!]) rmSync(f);
    const { out, io: cio } = io();
    const code = await reportCommand.run([w.dir], cio);
    expect(code).toBe(1); // the run failed
    expect(out[0]).toMatch(/^smoke: FAIL \(6\/6 thresholds, 5\/6 guarantees\)$/);
    for (const f of [w.files.html, w.files.summary, w.files.junit, w.index!]) expect(existsSync(f)).toBe(true);
    const again = await rerenderReport(w.files.json);
    expect(again.dir).toBe(w.dir);
  });

  it('report: exit 0 for a passing run, 2 with a message for a missing or bad one', async () => {
    const w = await writeReport(syntheticReport(), { root: path.join(tmp, 'cli-ok') });
    expect(await reportCommand.run([w.dir], io().io)).toBe(0);
    const bad = io();
    expect(await reportCommand.run([path.join(tmp, 'missing')], bad.io)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/no report at/);
    const usage = io();
    expect(await reportCommand.run([], usage.io)).toBe(2);
    expect(usage.err.join('\n')).toMatch(/Usage: imstorm report <dir>/);
  });

  it('compare <a> <b>: 0 without regression, 1 with one, 2 for usage; text or markdown', async () => {
    const root = path.join(tmp, 'cli-compare');
    const a = await writeReport(syntheticReport({ seed: 3 }), { root, index: false });
    const b = await writeReport(syntheticReport({ seed: 3, latencyFactor: 1.4 }), { root, index: false });
    const same = io();
    expect(await compareCommand.run([a.dir, a.dir], same.io)).toBe(0);
    expect(same.out.join('\n')).toMatch(/PASS: no regression/);
    const worse = io();
    expect(await compareCommand.run([a.dir, b.files.json, '--format', 'markdown'], worse.io)).toBe(1);
    expect(worse.out.join('\n')).toMatch(/## imstorm compare: ❌/);
    const ruled = io();
    expect(await compareCommand.run([a.dir, b.dir, '--rule', 'http.healthz.rps -10%'], ruled.io)).toBe(0);
    expect(ruled.out.join('\n')).toContain('http.healthz.rps');
    expect(await compareCommand.run([a.dir], io().io)).toBe(2);
    expect(await compareCommand.run([a.dir, b.dir, '--format', 'xml'], io().io)).toBe(2);
    const badRule = io();
    expect(await compareCommand.run([a.dir, b.dir, '--rule', 'nonsense'], badRule.io)).toBe(2);
    expect(badRule.err.join('\n')).toMatch(/regression rule "nonsense"/);
  });
});

describe('SCHEMA.md', () => {
  /** Every field name in the zod schema, nested ones included. */
  function fieldNames(schema: unknown, out = new Set<string>()): Set<string> {
    const def = (schema as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
    switch (def.type) {
      case 'object':
        for (const [k, v] of Object.entries(def['shape'] as Record<string, unknown>)) {
          out.add(k);
          fieldNames(v, out);
        }
        break;
      case 'optional':
      case 'nullable':
        fieldNames(def['innerType'], out);
        break;
      case 'array':
        fieldNames(def['element'], out);
        break;
      case 'record':
        fieldNames(def['valueType'], out);
        break;
      case 'union':
        for (const o of def['options'] as unknown[]) fieldNames(o, out);
        break;
    }
    return out;
  }

  it('documents every field of the schema', () => {
    const doc = readFileSync(new URL('../../harness/report/SCHEMA.md', import.meta.url), 'utf8');
    const missing = [...fieldNames(reportSchema)].filter((k) => !doc.includes(`\`${k}\``) && !new RegExp(`[\\s(,]${k.replace('.', '\\.')}[\\s),]`).test(doc));
    expect(missing).toEqual([]);
  });
});
