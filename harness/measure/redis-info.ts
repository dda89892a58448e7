// Redis INFO text → key/value map (`# Section` headers dropped, `key:value` lines kept).

export function parseRedisInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    if (raw === '' || raw.startsWith('#')) continue;
    const i = raw.indexOf(':');
    if (i <= 0) continue;
    out[raw.slice(0, i)] = raw.slice(i + 1);
  }
  return out;
}

/** A numeric INFO field, or undefined when absent or not a number. */
export function infoNumber(info: Record<string, string>, key: string): number | undefined {
  const v = info[key];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
