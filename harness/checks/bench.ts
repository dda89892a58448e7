/**
 * Times the checkers over a large synthetic run (default 1,000,000 facts):
 *   npx node [--expose-gc] harness/checks/bench.ts [--facts N] [--break N] [--seed N]
 * Prints the time to index the facts and to run each checker over the shared index, then
 * a full runAllCheckers on a fresh input (indexing included), and the heap it held.
 * `--break N` drops N live receipts so witnesses are built as well.
 */
import { parseArgs } from 'node:util';
import { indexFacts } from './fact-index.ts';
import { check as duplicate } from './duplicate.ts';
import { runAllCheckers } from './index.ts';
import { check as lost } from './lost.ts';
import { check as order } from './order.ts';
import { check as presence } from './presence.ts';
import { syntheticRun } from './synthetic.ts';
import { check as unseen } from './unseen.ts';
import type { CheckInput, Verdict } from './verdict.ts';

const { values } = parseArgs({
  options: { facts: { type: 'string', default: '1000000' }, break: { type: 'string', default: '0' }, seed: { type: 'string', default: '1' } },
});
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
// with --expose-gc, collect between steps so each is timed without the previous one's garbage
const gc = (globalThis as { gc?: () => void }).gc;
const time = <T>(f: () => T): [T, number] => {
  gc?.();
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
};

const [run, genMs] = time(() => syntheticRun({ facts: Number(values.facts), breakReceipts: Number(values.break), seed: Number(values.seed) }));
const counts: Record<string, number> = {};
for (const f of run.facts) counts[f.k] = (counts[f.k] ?? 0) + 1;
console.log(`synthetic run: ${run.facts.length.toLocaleString('en')} facts (${Object.entries(counts).map(([k, n]) => `${k} ${n.toLocaleString('en')}`).join(', ')}), ${run.sends.toLocaleString('en')} sends, generated in ${genMs.toFixed(0)} ms`);

const mkInput = (): CheckInput => ({ facts: run.facts, population: run.population, options: { runEnd: run.end, presence: { at: run.end - 1 } } });
const heap0 = process.memoryUsage().heapUsed;
const input = mkInput();
const rows: [string, number, Verdict | undefined][] = [];
const [, ixMs] = time(() => indexFacts(input));
rows.push(['index', ixMs, undefined]);
const heapIx = process.memoryUsage().heapUsed;
for (const [name, fn] of [['lost', lost], ['unseen', unseen], ['duplicate', duplicate], ['order', order], ['presence', presence]] as const) {
  const [v, ms] = time(() => fn(input));
  rows.push([name, ms, v]);
}
for (const [name, ms, v] of rows) {
  console.log(`${name.padEnd(10)} ${ms.toFixed(0).padStart(6)} ms${v ? `  checked ${v.checked.toLocaleString('en').padStart(11)}  ${v.ok ? 'ok' : `${v.violationCount} violations`}` : ''}`);
}
const [, allMs] = time(() => runAllCheckers(mkInput()));
console.log(`runAllCheckers on a fresh input (indexing included): ${allMs.toFixed(0)} ms`);
console.log(`heap held by the index: ~${mb(heapIx - heap0)} (facts themselves excluded); process RSS ${mb(process.memoryUsage().rss)}`);
