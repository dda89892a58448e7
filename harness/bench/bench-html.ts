// bench.html of `imstorm bench`: one self-contained page (uPlot inlined, no network). Per
// step a table of imstorm beside the raw-ws baseline and their ratios; for the sweeps
// (fanout, dm) the curves over the offered rate: p99, CPU µs per delivery, event-loop lag,
// the server's wait for a core; and each rate's latency by 5 s of send time.
import { escapeHtml as h } from '../report/format.ts';
import { uplotSources } from '../report/html.ts';
import { windowPairs } from './bench-kit.ts';
import type { BenchResult, Figures, StepResult } from './bench-result.ts';
import { LATENCY_WINDOW_MS } from './fanout-plan.ts';

const TITLES: Record<StepResult['step'], string> = {
  idle: 'Idle connections (5 conversations each)',
  storm: 'Connect storm (hello → synced)',
  fanout: 'Group fan-out with acks, open-loop sweep',
  dm: '1:1 messages (send, store, push, ack), open-loop sweep',
};

const cell = (x: number | null | undefined, unit = '') => (x === null || x === undefined ? '—' : `${x}${unit}`);

/** the server's wait for a core (its Redis's beside it) and the machine's CPU pressure, sweeps only */
function waitCell(f: Figures): string {
  if (f.waitedForCorePct == null) return '—';
  return `${f.waitedForCorePct} %${f.redisWaitedForCorePct != null ? ` (Redis ${f.redisWaitedForCorePct} %)` : ''}${f.cpuPressurePct != null ? `<br><span class="muted">pressure ${f.cpuPressurePct} %</span>` : ''}`;
}

function figuresRow(who: string, f: Figures): string {
  return `<td>${h(who)}</td><td>${cell(f.p50Ms, ' ms')}</td><td>${cell(f.p99Ms, ' ms')}</td><td>${cell(f.perSec, '/s')}</td><td>${cell(f.cpuMicros, ' µs')}${f.cpuMicrosWithRedis != null ? ` (${f.cpuMicrosWithRedis} with Redis)` : ''}</td><td>${cell(f.eventLoopLagP99Ms, ' ms')}</td><td>${waitCell(f)}</td><td>${cell(f.heapKiBPerConnection, ' KiB')}</td><td>${cell(f.rssKiBPerConnection, ' KiB')}</td><td>${f.pass === undefined ? '' : f.pass ? 'PASS' : '<b class="fail">FAIL</b>'}</td>`;
}

/** each run's p50/p99 by window of send time, as the step lines print them; '' when no run has windows */
function windowsText(who: string, f: Figures): string {
  const runs = (f.latencyByWindow ?? []).filter((ws) => ws.length);
  return runs.length ? `${who}: ${runs.map(windowPairs).join(' · ')} ms` : '';
}

const WINDOW_S = LATENCY_WINDOW_MS / 1000;

function stepHtml(s: StepResult, i: number): string {
  const perSec = s.step === 'storm' ? 'connects/s' : s.step === 'idle' ? 'connects/s' : 'delivered/s';
  const cpu = s.step === 'storm' ? 'CPU per connect' : 'CPU per delivery';
  const rows = s.points
    .map((p) => {
      const at = p.offeredPerSec ? `${p.offeredPerSec}/s` : '';
      const ratios = Object.entries(p.ratios)
        .map(([k, v]) => `${h(k)} ×${cell(v)}`)
        .join(', ');
      const windows = [windowsText('imstorm', p.imstorm), windowsText('raw-ws', p.rawWs)].filter(Boolean).join('; ');
      const windowsRow = windows ? `<tr><td>by ${WINDOW_S} s</td><td colspan="9" class="muted">p50/p99 by ${WINDOW_S} s of send time (a p50 that climbs: behind the rate; one p99 up: a stall) — ${h(windows)}</td></tr>` : '';
      return `<tr><td rowspan="${windows ? 4 : 3}">${h(at)}</td>${figuresRow('imstorm', p.imstorm)}</tr><tr>${figuresRow('raw-ws', p.rawWs)}</tr><tr><td>ratio</td><td colspan="9" class="muted">${ratios}</td></tr>${windowsRow}`;
    })
    .join('');
  const presence = s.presence
    ? `<p>With <b>${s.presence.subscriptions} presence subscriptions</b> per connection (${s.presence.connections} connections, from ${h(s.presence.source)}): heap <b>${s.presence.heapKiBPerConnection} KiB</b>, RSS <b>${s.presence.rssKiBPerConnection} KiB</b> per connection (×${cell(s.presence.heapRatioToIdle)} and ×${cell(s.presence.rssRatioToIdle)} the figures above; raw ws has no presence to compare with).</p>`
    : '';
  const load = s.load ? `<p>Load generator: the fleet adds <b>${s.load.fleetRssKiB} KiB</b> RSS per device (heap ${s.load.fleetHeapKiB} KiB), a raw ws client ${s.load.rawWsClientRssKiB} KiB (heap ${s.load.rawWsClientHeapKiB} KiB).</p>` : '';
  const charts = s.points.length > 1 ? `<div class="charts"><div id="c${i}-p99"></div><div id="c${i}-cpu"></div><div id="c${i}-lag"></div><div id="c${i}-wait"></div></div>` : '';
  return `<section><h2>${h(TITLES[s.step])}</h2>
<p class="muted">${h(Object.entries(s.config).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(',') : String(v)}`).join(' · '))} · load average ${h(s.loadavg1.join(', '))} · from ${h(s.source)}</p>
<p>Ratios (imstorm ÷ raw-ws, higher is worse${s.ratioRates ? `; CPU and p99: medians over ${h(s.ratioRates.join(', '))}/s, the rates both servers carried (≥ 95 % delivered), else the lowest` : ''}): ${Object.entries(s.ratios).map(([k, v]) => `<b>${h(k)}</b> ×${cell(v)}`).join(', ')}</p>
<table><thead><tr><th>offered</th><th>server</th><th>p50</th><th>p99</th><th>${perSec}</th><th>${cpu}</th><th>loop lag p99</th><th>waited for a core</th><th>heap/conn</th><th>RSS/conn</th><th>pass</th></tr></thead><tbody>${rows}</tbody></table>
${presence}${load}${charts}</section>`;
}

/** The sweep curves' data: per step index, x = offered rate, two series per chart. */
function chartData(r: BenchResult) {
  return r.steps
    .map((s, i) => ({ i, s }))
    .filter(({ s }) => s.points.length > 1)
    .map(({ i, s }) => ({
      i,
      x: s.points.map((p) => p.offeredPerSec),
      p99: [s.points.map((p) => p.imstorm.p99Ms), s.points.map((p) => p.rawWs.p99Ms)],
      cpu: [s.points.map((p) => p.imstorm.cpuMicros), s.points.map((p) => p.rawWs.cpuMicros), s.points.map((p) => p.imstorm.cpuMicrosWithRedis ?? null)],
      lag: [s.points.map((p) => p.imstorm.eventLoopLagP99Ms), s.points.map((p) => p.rawWs.eventLoopLagP99Ms)],
      wait: [s.points.map((p) => p.imstorm.waitedForCorePct ?? null), s.points.map((p) => p.rawWs.waitedForCorePct ?? null), s.points.map((p) => p.imstorm.redisWaitedForCorePct ?? null)],
    }));
}

const SCRIPT = `
const data = JSON.parse(document.getElementById('bench-data').textContent);
const W = Math.min(560, document.body.clientWidth - 40);
function chart(el, title, unit, x, ys, labels) {
  const colors = ['#d9480f', '#1c7ed6', '#f08c00'];
  new uPlot({ title, width: W, height: 240,
    scales: { x: { time: false } },
    axes: [{ label: 'offered per second' }, { label: unit }],
    series: [{ label: 'offered' }, ...ys.map((_, k) => ({ label: labels[k], stroke: colors[k], width: 2, points: { show: true } }))] },
    [x, ...ys], document.getElementById(el));
}
for (const d of data) {
  chart('c' + d.i + '-p99', 'p99 send → receive', 'ms', d.x, d.p99, ['imstorm', 'raw-ws']);
  chart('c' + d.i + '-cpu', 'server CPU per delivery', 'µs', d.x, d.cpu, ['imstorm', 'raw-ws', 'imstorm + Redis']);
  chart('c' + d.i + '-lag', 'event-loop lag p99', 'ms', d.x, d.lag, ['imstorm', 'raw-ws']);
  chart('c' + d.i + '-wait', 'server waited for a core', '% of the step', d.x, d.wait, ['imstorm', 'raw-ws', 'its Redis']);
}`;

export function benchHtml(r: BenchResult): string {
  const u = uplotSources();
  const json = JSON.stringify(chartData(r)).replace(/</g, '\\u003c');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>imstorm bench ${h(r.at)}</title>
<style>${u.css}
body{font:14px/1.45 system-ui,sans-serif;margin:20px;color:#222}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}td:first-child,th:first-child{text-align:left}.muted{color:#666}.fail{color:#c92a2a}.charts{display:flex;flex-wrap:wrap;gap:12px}section{margin-bottom:28px}</style>
</head><body>
<h1>imstorm bench</h1>
<p>${h(r.at)} · commit ${h(r.commit ?? 'unknown')} · Node ${h(r.node)} · ${r.machine.cpus} CPUs · load average ${h(r.machine.loadavgStart.join(' '))} → ${h(r.machine.loadavgEnd.join(' '))} · ${h(r.machine.pinning)} · ${r.seconds} s${r.quick ? ' · --quick' : ''}${r.testBugs ? ` · <b class="fail">imstorm with TEST_BUGS=${h(r.testBugs)}</b>` : ''}</p>
<p class="muted">Each figure beside the raw-ws baseline of the same run (the least a ws server can do on this runtime, driven by the same clients). Read the ratios: absolute figures move with the machine's load.</p>
${r.steps.map(stepHtml).join('\n')}
<script type="application/json" id="bench-data">${json}</script>
<script>${u.js.replace(/<\/(script)/gi, '<\\/$1')}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
