// The live /metrics view (harness/live): a real `imstorm run` of a tiny scenario (real
// processes, Redis and sockets) scraped while it runs; the flag's errors; the Grafana
// dashboard's expressions against the names a real scrape exports.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, type PromSample } from '../../harness/measure/prometheus.ts';
import { FleetLiveMetrics } from '../../harness/live/fleet-metrics.ts';
import { LiveMetricsError, LiveMetricsServer, liveMetricsOptions } from '../../harness/live/metrics-server.ts';
import type { Report } from '../../harness/report/schema.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/imstorm.js');
const out = mkdtempSync(path.join(os.tmpdir(), 'imstorm-live-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Scrape {
  /** the request went out / the answer came back (ms since the epoch) */
  t0: number;
  t1: number;
  text: string;
  samples: PromSample[];
}

const value = (s: Scrape, name: string, labels: Record<string, string> = {}): number | undefined =>
  s.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;

/** The metric families a scrape declares (# TYPE lines): a histogram's also as _bucket/_sum/_count. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(m[1]! + suffix);
  }
  return names;
}

/** every scrape of the run below */
let scraped: Scrape[] = [];

describe('imstorm run --metrics-port', () => {
  it('serves /metrics while a run goes on: connections, sends matching the report, the fault gauge over its window; closed after the report', async () => {
    const child = spawn(process.execPath, [BIN, 'run', './test/live/tiny-scenario.ts', '--env', 'local', '--seed', '11', '--out', out, '--metrics-port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let code: number | null | undefined;
    void exited.then((c) => (code = c));

    // the URL is printed at the start, before anything is started
    const urlDeadline = Date.now() + 30_000;
    let url: string | undefined;
    while (!url && code === undefined && Date.now() < urlDeadline) {
      url = /^live metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics) /m.exec(stdout)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 100));
    }
    expect(url, stdout + stderr).toBeDefined();

    // every 250 ms until the run ends (at most 3 minutes); the last good scrape is after the report
    const scrapes: Scrape[] = [];
    for (let i = 0; i < 720 && code === undefined; i++) {
      const t0 = Date.now();
      try {
        const res = await fetch(url!, { signal: AbortSignal.timeout(2000) });
        const text = await res.text();
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        const parsed = parsePrometheusText(text);
        expect(parsed.malformed).toBe(0);
        scrapes.push({ t0, t1: Date.now(), text, samples: parsed.samples });
      } catch (err) {
        // a connection refused or reset: the run closed the endpoint (it must then exit 0, below);
        // anything else (an assertion) is the test failing
        const e = err as { name?: string; code?: string; cause?: { code?: string } };
        if (/^(ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|UND_ERR_CLOSED)$/.test(e.code ?? e.cause?.code ?? '')) break;
        // a scrape slower than 2 s on a busy machine is skipped, not a failure
        if (e.name !== 'TimeoutError') throw err;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await exited, stdout + stderr).toBe(0);
    // closed once the report was written
    await expect(fetch(url!, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();

    const dir = path.join(ROOT, /^report: (.*)\/report\.html/m.exec(stdout)![1]!);
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report;
    expect(scrapes.length).toBeGreaterThan(20);
    const last = scrapes[scrapes.length - 1]!;
    scraped = scrapes;
    const S = { scenario: 'live-tiny' };

    // info and phase
    expect(value(last, 'imstorm_run_info', { ...S, seed: '11', env: 'local', devices: '20', nodes: '2' })).toBe(1);
    const during = scrapes.filter((s) => value(s, 'imstorm_phase', { ...S, phase: 'load' }) === 1);
    expect(during.length).toBeGreaterThan(10);
    // the phases as scraped, in order (each scrape lists those seen so far; 1 marks the current)
    const current = scrapes.map((s) => s.samples.find((x) => x.name === 'imstorm_phase' && x.value === 1)?.labels.phase);
    const order = current.filter((p, i) => p !== undefined && p !== current[i - 1]);
    // the phases a run goes through, in order; short ones (connecting 20 devices, a final sync
    // with presence unchecked) can fall between two scrapes, so only the load is required, and
    // what was seen must come in this order
    const RUN_ORDER = ['starting', 'topology', 'groups', 'leak baseline', 'connecting', 'load', 'draining', 'final sync', 'finishing', 'http', 'leak samples', 'checks', 'report', 'done'];
    expect(order).toContain('load');
    for (const p of order) expect(RUN_ORDER, `phase ${p}`).toContain(p);
    expect(order.map((p) => RUN_ORDER.indexOf(p!))).toEqual(order.map((p) => RUN_ORDER.indexOf(p!)).sort((x, y) => x - y));
    // the last scrape came after the fleet finished (the report's phases are short)
    expect(['finishing', 'checks', 'report', 'done']).toContain(order[order.length - 1]);
    expect(value(last, 'imstorm_phase', { ...S, phase: 'load' })).toBe(0);

    // connections during load; none left at the end
    expect(Math.max(...during.map((s) => value(s, 'imstorm_connections', { ...S, state: 'open' }) ?? 0))).toBe(20);
    expect(value(last, 'imstorm_connections', { ...S, state: 'open' }) ?? 0).toBe(0);

    // counters only go up while scraped, and end at the report's totals
    const sentOf = (s: Scrape) => (value(s, 'imstorm_sends_total', { ...S, outcome: 'sent' }) ?? 0) + (value(s, 'imstorm_sends_total', { ...S, outcome: 'dup' }) ?? 0);
    const series = scrapes.map(sentOf);
    for (let i = 1; i < series.length; i++) expect(series[i]!).toBeGreaterThanOrEqual(series[i - 1]!);
    expect(Math.max(...during.map(sentOf))).toBeGreaterThan(0);
    const reportSent = report.series.counters.sent!.reduce((a, b) => a + b, 0);
    expect(reportSent).toBeGreaterThan(100);
    expect(sentOf(last)).toBe(reportSent);
    const reportDeliveries = report.series.counters.deliveries!.reduce((a, b) => a + b, 0);
    const deliveries = ['live', 'backlog', 'history'].reduce((a, via) => a + (value(last, 'imstorm_deliveries_total', { ...S, via }) ?? 0), 0);
    expect(deliveries).toBe(reportDeliveries);
    // every answered send was timed, and the histogram's buckets add up
    expect(value(last, 'imstorm_send_sent_seconds_count', S)).toBe(reportSent);
    expect(value(last, 'imstorm_send_sent_seconds_bucket', { ...S, le: '+Inf' })).toBe(reportSent);
    expect(value(last, 'imstorm_send_delivered_seconds_count', S)).toBeGreaterThan(0);
    expect(value(last, 'imstorm_connect_seconds_count', S)).toBeGreaterThanOrEqual(40);
    // churn 1/s drops devices: they reconnect, and each reconnect is timed to its synced
    expect(value(last, 'imstorm_reconnects_total', S)).toBeGreaterThan(0);
    expect(value(last, 'imstorm_reconnect_synced_seconds_count', S)).toBeGreaterThan(0);

    // the toxic step's gauge: 1 inside the window the timeline recorded, 0 outside
    const toxic = report.faults.find((f) => f.kind === 'toxic:latency' && f.target === 'client-link:node-1')!;
    expect(toxic.end).toBeDefined();
    const gauge = (s: Scrape) => value(s, 'imstorm_fault_active', { ...S, step: '1', kind: 'toxic', link: 'client-link:node-1', toxic: 'latency', at_ms: '2000' });
    const inside = scrapes.filter((s) => s.t0 > toxic.start + 20 && s.t1 < toxic.end! - 20);
    const before = scrapes.filter((s) => s.t1 < toxic.start - 20);
    const after = scrapes.filter((s) => s.t0 > toxic.end! + 20);
    expect(inside.length).toBeGreaterThanOrEqual(2);
    expect(before.length).toBeGreaterThan(5);
    expect(after.length).toBeGreaterThan(5);
    expect(inside.map(gauge)).toEqual(inside.map(() => 1));
    expect(before.map(gauge)).toEqual(before.map(() => 0));
    expect(after.map(gauge)).toEqual(after.map(() => 0));
  }, 240_000);

  it('the Grafana dashboard parses, has a Prometheus datasource variable, and every expression names metrics a real scrape exports (and uses them all)', () => {
    expect(scraped.length, 'the run above must have scraped').toBeGreaterThan(0);
    const exported = new Set(scraped.flatMap((s) => [...exportedNames(s.text)]));
    const dash = JSON.parse(readFileSync(path.join(ROOT, 'docker/grafana/imstorm-dashboard.json'), 'utf8')) as {
      templating: { list: { name: string; type: string; query: unknown }[] };
      panels: { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[]; panels?: unknown[] }[];
    };
    expect(dash.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    const used = new Set<string>();
    const panels = dash.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(8);
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) {
        const names = t.expr.match(/\bimstorm_[a-z_]+/g) ?? [];
        expect(names.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const n of names) {
          expect(exported.has(n), `${p.title}: ${n} is not exported (exported: ${[...exported].join(', ')})`).toBe(true);
          used.add(n.replace(/_(bucket|sum|count)$/, ''));
        }
      }
    }
    const families = new Set(scraped.flatMap((s) => [...s.text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!)));
    expect([...families].filter((f) => !used.has(f))).toEqual([]);
  });
});

describe('--metrics-port errors', () => {
  function imstorm(args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('a port in use: exit 2 saying so and how to pick another, nothing started', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const r = imstorm(['run', './test/live/tiny-scenario.ts', '--env', 'local', '--metrics-port', String(port)]);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain(`--metrics-port ${port}: 127.0.0.1:${port} is already in use`);
      expect(r.stderr).toMatch(/pick another port with --metrics-port N, or --metrics-port 0 to let the system choose a free one/);
      expect(r.stdout).not.toMatch(/connecting/);
      await expect(LiveMetricsServer.start({ port, host: '127.0.0.1' })).rejects.toThrow(LiveMetricsError);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it.each([
    [['--metrics-port', 'abc'], {}, /--metrics-port must be a whole number 0\.\.65535 \(0 lets the system pick a free port\), got "abc"/],
    [[], { IMSTORM_METRICS_PORT: '70000' }, /IMSTORM_METRICS_PORT must be a whole number 0\.\.65535 .*got "70000"/],
    [['--metrics-host', '127.0.0.1'], {}, /--metrics-host needs --metrics-port N \(or IMSTORM_METRICS_PORT\)/],
    [['--metrics-port', '0', '--metrics-host', 'not a host'], {}, /--metrics-host must be an IP address or a host name/],
  ])('%j %j: exit 2 naming the flag or variable', (flags, env, message) => {
    const r = imstorm(['run', './test/live/tiny-scenario.ts', '--env', 'local', ...flags], env);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/connecting/);
  });

  it('IMSTORM_METRICS_PORT turns the endpoint on; the flag wins over it', () => {
    expect(liveMetricsOptions({}, {})).toBeNull();
    expect(liveMetricsOptions({}, { IMSTORM_METRICS_PORT: '9464' })).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(liveMetricsOptions({ port: '0', host: '0.0.0.0' }, { IMSTORM_METRICS_PORT: '9464' })).toEqual({ port: 0, host: '0.0.0.0' });
  });
});

describe('a suite on one endpoint', () => {
  it('keeps each scenario apart by its label; a finished fleet keeps its counts and drops its gauges; storms add up', async () => {
    const server = await LiveMetricsServer.start({ port: 0, host: '127.0.0.1' });
    try {
      const fleetOf = async (sends: number, devices: { state: string; isSynced: boolean }[]) => {
        const m = new FleetLiveMetrics();
        for (let i = 0; i < sends; i++) m.fact({ k: 'send', client: 'u/d', conn: 'c', conv: 'dm:a', cmid: `x${i}`, intendedAt: 0, sentAt: 0, attempts: 1, outcome: 'sent' });
        m.latency('sent', 12);
        const snap = await m.snapshot(devices);
        return { metricSnapshots: () => [snap] };
      };
      const scrape = async () => parsePrometheusText(await (await fetch(server.url)).text()).samples;
      const get = (samples: PromSample[], name: string, labels: Record<string, string>) => samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
      const base = { seed: 1, env: 'local', devices: 2, nodes: 1, faults: [], timeline: () => [], loadStartAt: () => 0 };
      server.beginScenario({ ...base, scenario: 'a', phase: () => 'load' });
      const a1 = await fleetOf(3, [{ state: 'open', isSynced: true }, { state: 'open', isSynced: true }]);
      server.attachFleet(a1);
      expect(get(await scrape(), 'imstorm_connections', { scenario: 'a', state: 'open' })).toBe(2);
      server.detachFleet(a1);
      // storm 2 of the same scenario: counts add to storm 1's
      const a2 = await fleetOf(4, [{ state: 'connecting', isSynced: false }]);
      server.attachFleet(a2);
      let s = await scrape();
      expect(get(s, 'imstorm_sends_total', { scenario: 'a', outcome: 'sent' })).toBe(7);
      expect(get(s, 'imstorm_send_sent_seconds_count', { scenario: 'a' })).toBe(2);
      expect(get(s, 'imstorm_connections', { scenario: 'a', state: 'open' })).toBe(0);
      expect(get(s, 'imstorm_connections', { scenario: 'a', state: 'connecting' })).toBe(1);
      server.endScenario();
      server.beginScenario({ ...base, scenario: 'b', phase: () => 'connecting' });
      server.attachFleet(await fleetOf(5, [{ state: 'open', isSynced: true }]));
      s = await scrape();
      expect(get(s, 'imstorm_sends_total', { scenario: 'a', outcome: 'sent' })).toBe(7);
      expect(get(s, 'imstorm_sends_total', { scenario: 'b', outcome: 'sent' })).toBe(5);
      expect(get(s, 'imstorm_connections', { scenario: 'a', state: 'connecting' })).toBeUndefined();
      expect(get(s, 'imstorm_connections', { scenario: 'b', state: 'open' })).toBe(1);
      expect(get(s, 'imstorm_phase', { scenario: 'a', phase: 'done' })).toBe(1);
      expect(get(s, 'imstorm_phase', { scenario: 'a', phase: 'load' })).toBe(0);
      expect(get(s, 'imstorm_phase', { scenario: 'b', phase: 'connecting' })).toBe(1);
      expect(get(s, 'imstorm_run_info', { scenario: 'b', seed: '1' })).toBe(1);
    } finally {
      await server.close();
    }
  });
});
