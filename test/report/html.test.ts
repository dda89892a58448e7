// report.html in headless Chromium: every chart rendered, no console error, no network.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../harness/report/build.ts';
import { chartSpecs } from '../../harness/report/charts.ts';
import { renderHtml } from '../../harness/report/html.ts';
import { writeReport } from '../../harness/report/write.ts';
import { launchChromium } from './chromium.ts';
import { syntheticReport, T0 } from './synthetic.ts';

const EXPECTED_CHARTS = [
  'latency-over-time-connect',
  'latency-over-time-helloToWelcome',
  'latency-over-time-reconnectToSynced',
  'latency-over-time-sendToSent',
  'latency-over-time-sendToDelivered',
  'latency-distribution',
  'connections',
  'message-rates',
  'herd',
  'server-rss',
  'server-heap',
  'server-fds',
  'server-lag',
  'redis',
  'leaks-heap',
  'leaks-fds',
  'leaks-handles',
  'leaks-rss',
];

// The project compiles without the DOM lib: the few browser types these callbacks use.
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
interface XmlDocLike {
  querySelector(sel: string): { textContent: string | null } | null;
  documentElement: { nodeName: string };
}
type DomParserCtor = new () => { parseFromString(text: string, type: string): XmlDocLike };

const tmp = mkdtempSync(path.join(os.tmpdir(), 'imstorm-html-'));
let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launchChromium();
  context = browser.context;
});
afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  problems: string[];
  requests: string[];
}

async function open(file: string): Promise<Opened> {
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!/^(file|data|about|blob):/.test(r.url())) requests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForSelector('body[data-charts-rendered]', { timeout: 10_000 });
  return { page, problems, requests };
}

describe('report.html in headless Chromium', () => {
  it('renders every chart, with the verdict first, no console errors and no network', async () => {
    const report = syntheticReport({ failLost: true });
    expect(chartSpecs(report).map((c) => c.id)).toEqual(EXPECTED_CHARTS);
    const w = await writeReport(report, { root: tmp });
    const { page, problems, requests } = await open(w.files.html);

    expect(await page.getAttribute('body', 'data-charts-rendered')).toBe(String(EXPECTED_CHARTS.length));
    expect(await page.locator('[data-chart]').count()).toBe(EXPECTED_CHARTS.length);
    for (const id of EXPECTED_CHARTS) {
      const el = page.locator(`[data-chart="${id}"]`);
      expect(await el.getAttribute('data-rendered'), `chart ${id} rendered`).toBe('1');
      const canvas = el.locator('canvas');
      expect(await canvas.count(), `chart ${id} has one canvas`).toBe(1);
      const box = await canvas.boundingBox();
      expect(box?.width, `chart ${id} canvas width`).toBeGreaterThan(300);
      expect(box?.height, `chart ${id} canvas height`).toBeGreaterThan(100);
      // something was drawn: axes, grid and lines leave many non-transparent pixels
      const inked = await canvas.evaluate((node) => {
        const c = node as unknown as CanvasLike;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
        return n;
      });
      expect(inked, `chart ${id} has ink`).toBeGreaterThan(2000);
      // a legend with one entry per series (plus x)
      const spec = chartSpecs(report).find((c) => c.id === id)!;
      expect(await el.locator('.u-legend .u-series').count()).toBe(spec.series.length + 1);
    }

    // the verdict table comes first, failures expandable
    expect(await page.locator('h2').first().textContent()).toBe('Verdict');
    expect(await page.locator('header .badge').textContent()).toContain('FAIL');
    const witnesses = page.locator('#verdict details.witness');
    expect(await witnesses.count()).toBe(2);
    expect(await witnesses.nth(0).getAttribute('open')).not.toBeNull();
    expect(await witnesses.nth(1).getAttribute('open')).toBeNull();
    await witnesses.nth(1).locator('summary').click();
    expect(await witnesses.nth(1).getAttribute('open')).not.toBeNull();
    expect(await witnesses.nth(1).locator('pre.trail').textContent()).toContain('cmid=u003-d1-901');
    // fault timeline rows F1..F3
    expect(await page.locator('#faults tbody tr').count()).toBe(3);

    // JUnit parses as XML in a real parser too
    const junit = readFileSync(w.files.junit, 'utf8');
    const parseError = await page.evaluate((xml) => {
      const Parser = (globalThis as unknown as { DOMParser: DomParserCtor }).DOMParser;
      const doc = new Parser().parseFromString(xml, 'application/xml');
      return doc.querySelector('parsererror')?.textContent ?? (doc.documentElement.nodeName === 'testsuites' ? null : 'wrong root');
    }, junit);
    expect(parseError).toBeNull();

    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    await page.screenshot({ path: path.join(w.dir, 'screenshot.png'), fullPage: true });
    await page.close();
  });

  it('renders a report without any data: no charts, no errors, "nothing recorded" notes', async () => {
    const report = buildReport({ scenario: 'empty', seed: 'abc', startedAt: T0, endedAt: T0 + 5000 });
    expect(chartSpecs(report)).toEqual([]);
    const file = path.join(tmp, 'empty.html');
    writeFileSync(file, renderHtml(report));
    const { page, problems, requests } = await open(file);
    expect(await page.getAttribute('body', 'data-charts-rendered')).toBe('0');
    const text = await page.locator('main').textContent();
    expect(text).toContain('No latencies were recorded in this run.');
    expect(text).toContain('No faults were injected in this run.');
    expect(text).toContain('The server was not sampled in this run.');
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('keeps working charts when one series is all gaps, and resizes with the window', async () => {
    const report = syntheticReport();
    for (const t of report.server!.targets) if (t.target === 'node-3') for (const k of Object.keys(t.values)) t.values[k] = t.values[k]!.map(() => null);
    const file = path.join(tmp, 'gaps.html');
    writeFileSync(file, renderHtml(report));
    const { page, problems } = await open(file);
    expect(Number(await page.getAttribute('body', 'data-charts-rendered'))).toBe(chartSpecs(report).length);
    await page.setViewportSize({ width: 800, height: 900 });
    await page.waitForTimeout(200);
    const box = await page.locator('[data-chart="server-rss"] canvas').boundingBox();
    expect(box!.width).toBeLessThan(800);
    expect(problems).toEqual([]);
    await page.close();
  });
});
