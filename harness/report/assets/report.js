// The browser side of report.html (inlined into the page by harness/report/html.ts when
// the report is written): draws every chart embedded in #imstorm-data with uPlot, with
// the fault windows shaded on the time charts. Plain ES5 in an IIFE, no modules: the
// page is one self-contained file that opens from disk.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('imstorm-data').textContent);
  var faults = data.faults;
  var dpr = window.devicePixelRatio || 1;
  function trim(s) { return s.indexOf('.') < 0 ? s : s.replace(/\.?0+$/, ''); }
  function num(v) {
    if (v == null || isNaN(v)) return '';
    var a = Math.abs(v);
    if (a >= 1e6) return trim((v / 1e6).toFixed(a >= 1e7 ? 0 : 1)) + 'M';
    if (a >= 1e4) return trim((v / 1e3).toFixed(a >= 1e5 ? 0 : 1)) + 'k';
    if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
    if (a >= 1) return trim(v.toFixed(2));
    return String(Number(v.toPrecision(2)));
  }
  function pctLabel(x) {
    if (x == null || !(x >= 1)) return '';
    var p = (1 - 1 / x) * 100;
    return String(Math.round(p * 1000) / 1000) + '%';
  }
  function clock(ts) { return new Date(ts * 1000).toISOString().slice(11, 19); }
  /** 1, 2, 5 × 10^k inside [min, max]; only powers of ten when that is too many. */
  function logSplits(u, axisIdx, min, max) {
    var out = [], lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
    var steps = hi - lo > 2 ? [1] : [1, 2, 5];
    for (var e = lo; e <= hi; e++) steps.forEach(function (m) { var v = m * Math.pow(10, e); if (v >= min * 0.999 && v <= max * 1.001) out.push(Number(v.toPrecision(6))); });
    return out;
  }
  function keepAll(u, splits) { return splits; }
  function faultPlugin() {
    return {
      hooks: {
        drawClear: [function (u) {
          if (!faults.length) return;
          var ctx = u.ctx, b = u.bbox;
          ctx.save();
          ctx.beginPath(); ctx.rect(b.left, b.top, b.width, b.height); ctx.clip();
          ctx.font = (11 * dpr) + 'px system-ui, sans-serif';
          faults.forEach(function (f) {
            var x0 = u.valToPos(f.start, 'x', true), x1 = u.valToPos(f.end, 'x', true);
            if (f.instant) { ctx.fillStyle = 'rgba(200,30,30,0.6)'; ctx.fillRect(x0 - dpr, b.top, 2 * dpr, b.height); }
            else { ctx.fillStyle = 'rgba(220,50,47,0.13)'; ctx.fillRect(x0, b.top, Math.max(x1 - x0, 2 * dpr), b.height); }
            ctx.fillStyle = 'rgba(139,26,26,0.95)';
            ctx.fillText('F' + f.n, x0 + 3 * dpr, b.top + 12 * dpr);
          });
          ctx.restore();
        }]
      }
    };
  }
  var PCT_TICKS = [1, 2, 10, 100, 1000, 10000, 100000, 1000000];
  function build(spec, el) {
    var logY = spec.logY && spec.series.some(function (s) { return s.values.some(function (v) { return v != null && v > 0; }); });
    var cols = spec.series.map(function (s) {
      return logY ? s.values.map(function (v) { return v != null && v > 0 ? v : null; }) : s.values;
    });
    var isTime = spec.kind === 'time';
    // leak samples: x is the sample's place in the run (0 = baseline, then each storm), named by xLabels
    var isStep = spec.kind === 'step';
    var stepName = function (v) { return v == null || !spec.xLabels ? '' : (spec.xLabels[Math.round(v)] || ''); };
    var hasRight = spec.series.some(function (s) { return s.right; });
    var linear = function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.08 : 1]; };
    var fitted = function (u, min, max) { var pad = Math.max((max - min) * 0.15, Math.abs(max) * 0.02, 0.5); return [Math.max(0, min - pad), max + pad]; };
    var scales = {
      x: isTime ? { time: true, range: function () { return data.timeRange; } } : isStep ? { time: false, range: function (u, min, max) { return [-0.25, Math.max(max, 1) + 0.25]; } } : { time: false, distr: 3, log: 10, range: function (u, min, max) { return [1, Math.max(max, 10)]; } },
      // per-storm samples: fitted to the data, so a climb of a few hundred KiB on 20 MiB shows
      y: logY ? { distr: 3, log: 10 } : { range: isStep ? fitted : linear }
    };
    if (hasRight) scales.y2 = { range: linear };
    var yAxis = { label: spec.yLabel, size: 64, values: function (u, splits) { return splits.map(num); } };
    if (logY) { yAxis.splits = logSplits; yAxis.filter = keepAll; }
    var axes = [
      isTime ? { label: 'time (UTC)', space: 70, values: function (u, splits) { return splits.map(clock); } } : isStep ? {
        label: 'sample (after GC, every client gone)', splits: function () { return spec.x; }, filter: keepAll, values: function (u, splits) { return splits.map(stepName); }
      } : {
        label: 'percentile', splits: function (u, i, min, max) { return PCT_TICKS.filter(function (t) { return t >= min && t <= max * 1.0001; }); },
        filter: keepAll, values: function (u, splits) { return splits.map(pctLabel); }
      },
      yAxis
    ];
    if (hasRight) axes.push({ scale: 'y2', side: 1, label: spec.y2Label, size: 64, grid: { show: false }, values: function (u, splits) { return splits.map(num); } });
    // an empty right-hand gutter on the others, so every time chart's plot spans the same pixels
    else if (isTime) axes.push({ scale: 'y', side: 1, size: 64, label: '', stroke: 'transparent', grid: { show: false }, ticks: { show: false }, values: function (u, splits) { return splits.map(function () { return ''; }); } });
    var series = [isTime ? { label: 'time (UTC)', value: function (u, v) { return v == null ? '—' : clock(v); } } : isStep ? { label: 'sample', value: function (u, v) { return v == null ? '—' : stepName(v); } } : { label: 'percentile', value: function (u, v) { return v == null ? '—' : pctLabel(v); } }];
    spec.series.forEach(function (s) {
      var unit = s.right ? (spec.unit2 ? ' ' + spec.unit2 : '') : (spec.unit ? ' ' + spec.unit : '');
      series.push({ label: s.label, scale: s.right ? 'y2' : 'y', stroke: s.color, width: s.width || 1.5, dash: s.dash, spanGaps: false, points: { show: isStep },
        value: function (u, v) { return v == null ? '—' : num(v) + unit; } });
    });
    var opts = {
      width: Math.max(320, el.clientWidth),
      height: 260,
      cursor: isTime ? { sync: { key: 'imstorm-time' } } : {},
      scales: scales,
      axes: axes,
      series: series,
      plugins: isTime ? [faultPlugin()] : []
    };
    return new uPlot(opts, [spec.x].concat(cols), el);
  }
  var plots = [];
  data.charts.forEach(function (spec) {
    var el = document.querySelector('[data-chart="' + spec.id + '"]');
    if (!el) { console.error('imstorm report: no element for chart ' + spec.id); return; }
    try {
      plots.push({ el: el, plot: build(spec, el) });
      el.setAttribute('data-rendered', '1');
    } catch (e) {
      el.textContent = 'Chart failed to render: ' + e;
      console.error('imstorm report: chart ' + spec.id + ' failed: ' + (e && e.stack || e));
    }
  });
  document.body.setAttribute('data-charts-rendered', String(plots.length));
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      plots.forEach(function (p) { p.plot.setSize({ width: Math.max(320, p.el.clientWidth), height: 260 }); });
    });
  });
})();
