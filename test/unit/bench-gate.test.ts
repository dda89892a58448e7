import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gate, lastTwo, loadRatioRun, parseBound } from '../../harness/bench/bench-gate.ts';
import { main } from '../../harness/cli.ts';

const run = (ratios: Record<string, number | null>, config = 'storm:1000') => ({ label: 'x', config, ratios });
const dir = mkdtempSync(path.join(os.tmpdir(), 'imstorm-bench-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench ratio gate', () => {
  it('fails a ratio that rose more than the allowed increase, naming the step and ratio', () => {
    const rows = gate(run({ 'fanout.cpuPerDelivery': 1.5, 'dm.cpuPerDelivery': 2 }), run({ 'fanout.cpuPerDelivery': 1.85, 'dm.cpuPerDelivery': 2.3 }), { maxIncrease: 0.2 });
    const fan = rows.find((r) => r.key === 'fanout.cpuPerDelivery')!;
    expect(fan.pass).toBe(false);
    expect(fan.message).toBe('FAIL step fanout: cpuPerDelivery ratio to raw-ws ×1.5 → ×1.85 (+23%, limit +20%)');
    expect(rows.find((r) => r.key === 'dm.cpuPerDelivery')!.pass).toBe(true);
  });

  it('prints p99 ratios without gating them unless asked', () => {
    const [row] = gate(run({ 'dm.p99': 1 }), run({ 'dm.p99': 5 }), { maxIncrease: 0.2 });
    expect(row!.pass).toBe(true);
    expect(row!.message).toMatch(/^info step dm: p99/);
    const [asked] = gate(run({ 'dm.p99': 1 }), run({ 'dm.p99': 5 }), { maxIncrease: 0.2, keys: (k) => k === 'dm.p99' });
    expect(asked!.pass).toBe(false);
  });

  it('fixed bounds: over the bound fails, a missing ratio fails', () => {
    const rows = gate(null, run({ 'storm.cpuPerConnect': 5.2 }), { bounds: { 'storm.cpuPerConnect': 5, 'dm.cpuPerDelivery': 5 } });
    expect(rows.map((r) => r.message)).toEqual(['FAIL step storm: cpuPerConnect ratio to raw-ws ×5.2 (bound ×5)', 'FAIL step dm: no cpuPerDelivery ratio in this result (did the step run?)']);
    expect(gate(null, run({ 'storm.cpuPerConnect': 4.9 }), { bounds: { 'storm.cpuPerConnect': 5 } })[0]!.pass).toBe(true);
  });

  it('bound syntax errors name the expected form', () => {
    expect(() => parseBound('fanout=3')).toThrow('expected <step>.<ratio>=<bound>');
    expect(parseBound('fanout.cpuPerDelivery=3.5')).toEqual(['fanout.cpuPerDelivery', 3.5]);
  });

  it('history: the last run and the previous one of the same steps and sizes, never one with TEST_BUGS', () => {
    const file = path.join(dir, 'h.ndjson');
    const line = (config: string, v: number, testBugs: string | null = null) => JSON.stringify({ at: 't', config, commit: null, quick: true, testBugs, loadavg1: 1, out: 'o', ratios: { 'storm.cpuPerConnect': v } });
    writeFileSync(file, [line('a', 1), line('b', 2), line('a', 3, 'slow_delivery'), line('a', 4)].join('\n') + '\n');
    const [a, b] = lastTwo(file);
    expect(a.ratios['storm.cpuPerConnect']).toBe(1);
    expect(b.ratios['storm.cpuPerConnect']).toBe(4);
    expect(loadRatioRun(`${file}:2`).ratios['storm.cpuPerConnect']).toBe(2);
    expect(() => loadRatioRun(`${file}:9`)).toThrow('there is no line 9');
  });

  it('a history line or bench.json that is not one: an error naming the file, the line and the field', () => {
    const file = path.join(dir, 'bad.ndjson');
    const good = { at: 't', config: 'a', commit: null, quick: true, testBugs: null, loadavg1: 1, out: 'o', ratios: { 'storm.cpuPerConnect': 1 } };
    writeFileSync(file, `${JSON.stringify(good)}\n${JSON.stringify({ ...good, ratios: { 'storm.cpuPerConnect': '1.5' } })}\n`);
    expect(() => lastTwo(file)).toThrow(/bad\.ndjson:2: not a bench history line \(field `ratios\.storm\.cpuPerConnect`: .*number/);
    const { config: _, ...noConfig } = good;
    writeFileSync(file, `${JSON.stringify(noConfig)}\n`);
    expect(() => loadRatioRun(`${file}:1`)).toThrow(/bad\.ndjson:1: not a bench history line \(field `config`/);
    const bench = path.join(dir, 'bench.json');
    writeFileSync(bench, JSON.stringify({ kind: 'imstorm-bench', at: 't', commit: null, testBugs: null, config: 'a' }));
    expect(() => loadRatioRun(bench)).toThrow(/bench\.json: not an imstorm bench result \(field `ratios`/);
    writeFileSync(bench, JSON.stringify({ kind: 'something-else', at: 't', commit: null, ratios: {} }));
    expect(() => loadRatioRun(bench)).toThrow(/not an imstorm bench result \(field `kind`/);
    writeFileSync(bench, '{"kind": ');
    expect(() => loadRatioRun(bench)).toThrow(/bench\.json: not JSON/);
  });

  it('compare --bench: exit 1 with the step and ratio on stderr; 2 without a limit', async () => {
    const file = path.join(dir, 'h2.ndjson');
    const line = (v: number) => JSON.stringify({ at: 't', config: 'fanout:1000', commit: null, quick: true, testBugs: null, loadavg1: 1, out: 'o', ratios: { 'fanout.cpuPerDelivery': v } });
    writeFileSync(file, `${line(1.5)}\n${line(2)}\n`);
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => err.push(l) };
    expect(await main(['compare', '--bench', '--max-ratio-increase', '0.2', '--history', file], io)).toBe(1);
    expect(err.join('\n')).toContain('FAIL: step fanout: cpuPerDelivery ratio to raw-ws ×1.5 → ×2 (+33%, limit +20%)');
    expect(await main(['compare', '--bench', '--max-ratio-increase', '0.5', '--history', file], io)).toBe(0);
    expect(await main(['compare', '--bench', '--history', file], io)).toBe(2);
    expect(await main(['compare', '--bench', '--max-ratio-increase', 'lots', '--history', file], io)).toBe(2);
  });
});
