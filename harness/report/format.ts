// Number, time and text formatting shared by the HTML, Markdown and JUnit writers.

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** XML 1.0 text: escaped, with characters XML cannot hold replaced by U+FFFD. */
export function escapeXml(s: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeHtml(s.replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD'));
}

/** Markdown table cell: pipes escaped, newlines flattened. */
export function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function fmtNumber(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '-∞';
  const abs = Math.abs(n);
  if (Number.isInteger(n) && abs < 1e15) return n.toLocaleString('en-US');
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(1);
  return n.toFixed(digits).replace(/\.?0+$/, '') || '0';
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms >= 10_000) return `${fmtNumber(ms / 1000, 1)} s`;
  if (ms < 1 && ms > 0) return `${fmtNumber(ms, 3)} ms`;
  return `${fmtNumber(ms)} ms`;
}

export function fmtBytes(b: number | null | undefined): string {
  if (b === null || b === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${fmtNumber(v, i === 0 ? 0 : 1)} ${units[i]}`;
}

/** A value in its unit (ms, bytes, per_s, count, ratio, s). */
export function fmtUnit(v: number | null | undefined, unit: string | undefined): string {
  if (v === null || v === undefined) return '—';
  switch (unit) {
    case 'ms':
      return fmtMs(v);
    case 'bytes':
      return fmtBytes(v);
    case 'per_s':
      return `${fmtNumber(v)}/s`;
    case 'ratio':
      return `${fmtNumber(v * 100, 3)} %`;
    case 's':
      return `${fmtNumber(v)} s`;
    default:
      return fmtNumber(v);
  }
}

/** 2026-11-27 15:20:56 UTC */
export function fmtTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** Time of day with ms, for timelines: 15:20:56.830 */
export function fmtClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

export function fmtDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${fmtNumber(s, 1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** A threshold's operator as people write it. */
export function fmtOp(op: string): string {
  return op === '<=' ? '≤' : op === '>=' ? '≥' : op === '!=' ? '≠' : op;
}

/** "unavailable 12, rate_limited 3": the error answers by code, most frequent first ("" when none). */
export function errorCodes(r: { errorsByCode?: Readonly<Record<string, number>> }): string {
  return byCode(r.errorsByCode);
}

/** "1000 240, 4408 3": the devices' connection closes by code, most frequent first ("" when none). */
export function closeCodes(r: { closesByCode?: Readonly<Record<string, number>> }): string {
  return byCode(r.closesByCode);
}

function byCode(counts: Readonly<Record<string, number>> | undefined): string {
  const e = Object.entries(counts ?? {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  return e.map(([code, n]) => `${code} ${fmtNumber(n)}`).join(', ');
}
