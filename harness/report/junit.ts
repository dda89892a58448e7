// junit.xml: one testcase per guarantee and per threshold, so CI systems show each
// as a test; failures carry the witness messages. What the run could not check (a run
// against a target) is a third suite of skipped testcases, so CI shows it beside the rest.
import { escapeXml as x, fmtOp, fmtUnit } from './format.ts';
import type { Report } from './schema.ts';

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${x(String(v))}"`)
    .join('');
}

export function renderJunit(r: Report): string {
  const suiteBase = `imstorm.${r.scenario.name}`;
  const seconds = (r.durationMs / 1000).toFixed(3);
  const timestamp = new Date(r.startedAt).toISOString().replace(/\.\d+Z$/, '');
  const props = [
    ['run', r.id],
    ['seed', String(r.seed)],
    ['commit', r.environment.commit ?? ''],
    ['report', 'report.html'],
  ]
    .map(([k, v]) => `      <property${attrs({ name: k!, value: v! })}/>`)
    .join('\n');

  const guaranteeCases = r.checks.map((c) => {
    const cls = `${suiteBase}.guarantees`;
    const name = `${c.guarantee}: ${c.title}`;
    if (c.ok) return `    <testcase${attrs({ classname: cls, name, time: '0' })}>\n      <system-out>${x(c.summary)}</system-out>\n    </testcase>`;
    const first = c.violations[0]?.message ?? c.summary;
    const body = [
      c.summary,
      `${c.violationsTotal} violation(s) in ${c.checked} checked. Witnesses:`,
      ...c.violations.map((v, i) => {
        const faults = v.faultWindow.map((f) => `${f.kind} on ${f.target} from ${new Date(f.start).toISOString()}${f.end !== undefined ? ` to ${new Date(f.end).toISOString()}` : ''}`);
        return `${i + 1}. ${v.message}${faults.length ? `\n   during: ${faults.join('; ')}` : ''}`;
      }),
      ...(c.violationsTotal > c.violations.length ? [`… ${c.violationsTotal - c.violations.length} more (not kept)`] : []),
    ].join('\n');
    return `    <testcase${attrs({ classname: cls, name, time: '0' })}>\n      <failure${attrs({ type: 'guarantee', message: `${c.violationsTotal} violation(s); first: ${first}` })}>${x(body)}</failure>\n    </testcase>`;
  });

  const thresholdCases = r.thresholds.map((t) => {
    const cls = `${suiteBase}.thresholds`;
    const observed = t.observed === null ? 'no data' : fmtUnit(t.observed, t.unit);
    const limit = `${fmtOp(t.op)} ${fmtUnit(t.limit, t.unit)}`;
    if (t.pass) return `    <testcase${attrs({ classname: cls, name: t.name, time: '0' })}>\n      <system-out>${x(`${t.metric} = ${observed} (limit ${limit})`)}</system-out>\n    </testcase>`;
    const message = `${t.metric} = ${observed}, limit ${limit}${t.note ? ` (${t.note})` : ''}`;
    return `    <testcase${attrs({ classname: cls, name: t.name, time: '0' })}>\n      <failure${attrs({ type: 'threshold', message })}>${x(message)}</failure>\n    </testcase>`;
  });

  const notChecked = (r.notChecked ?? []).map((line) => {
    const [name, ...why] = line.split(': ');
    return `    <testcase${attrs({ classname: `${suiteBase}.not-checked`, name: name!, time: '0' })}>\n      <skipped${attrs({ message: why.length ? why.join(': ') : line })}/>\n    </testcase>`;
  });

  const suite = (name: string, cases: string[], failures: number, skipped = 0): string =>
    `  <testsuite${attrs({ name, tests: cases.length, failures, errors: 0, skipped, time: seconds, timestamp, hostname: r.environment.hostname })}>\n    <properties>\n${props}\n    </properties>\n${cases.join('\n')}${cases.length ? '\n' : ''}  </testsuite>`;

  const gFail = r.checks.filter((c) => !c.ok).length;
  const tFail = r.thresholds.filter((t) => !t.pass).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: suiteBase, tests: guaranteeCases.length + thresholdCases.length + notChecked.length, failures: gFail + tFail, errors: 0, ...(notChecked.length ? { skipped: notChecked.length } : {}), time: seconds })}>`,
    suite(`${suiteBase}.guarantees`, guaranteeCases, gFail),
    suite(`${suiteBase}.thresholds`, thresholdCases, tFail),
    ...(notChecked.length ? [suite(`${suiteBase}.not-checked`, notChecked, 0, notChecked.length)] : []),
    '</testsuites>',
    '',
  ].join('\n');
}
