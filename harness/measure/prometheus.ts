// A parser for the Prometheus text exposition format (version 0.0.4), enough for what
// prom-client writes: HELP/TYPE comments, labels with escapes, +Inf/-Inf/NaN, optional
// timestamps. Malformed lines are skipped and counted, never thrown.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromText {
  samples: PromSample[];
  /** metric family name → type from `# TYPE` */
  types: Record<string, string>;
  /** lines that could not be parsed */
  malformed: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (s === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value ${s}`);
  return Number(s);
}

function parseLine(line: string): PromSample {
  const m = NAME.exec(line);
  if (!m) throw new Error('no metric name');
  const name = m[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const lm = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!lm) throw new Error('bad label name');
      const key = lm[0];
      i += key.length;
      while (line[i] === ' ') i++;
      if (line[i] !== '=') throw new Error('expected =');
      i++;
      while (line[i] === ' ') i++;
      if (line[i] !== '"') throw new Error('expected "');
      i++;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error('unterminated label value');
        if (c === '\\') {
          const n = line[i + 1];
          value += n === 'n' ? '\n' : (n ?? '');
          i += 2;
          continue;
        }
        if (c === '"') {
          i++;
          break;
        }
        value += c;
        i++;
      }
      labels[key] = value;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new Error('expected value [timestamp]');
  return { name, labels, value: parseValue(rest[0]!) };
}

export function parsePrometheusText(text: string): PromText {
  const out: PromText = { samples: [], types: {}, malformed: 0 };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const tm = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (tm) out.types[tm[1]!] = tm[2]!;
      continue;
    }
    try {
      out.samples.push(parseLine(line));
    } catch {
      out.malformed++;
    }
  }
  return out;
}

/** Lookups over parsed samples. */
export class PromSnapshot {
  readonly parsed: PromText;
  private readonly byName = new Map<string, PromSample[]>();

  constructor(text: string) {
    this.parsed = parsePrometheusText(text);
    for (const s of this.parsed.samples) {
      let list = this.byName.get(s.name);
      if (!list) {
        list = [];
        this.byName.set(s.name, list);
      }
      list.push(s);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Samples of `name` whose labels include all of `labels`. */
  select(name: string, labels: Record<string, string> = {}): PromSample[] {
    return (this.byName.get(name) ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The value of the first matching sample, or undefined. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    return this.select(name, labels)[0]?.value;
  }

  /** Sum over all matching samples (e.g. a counter across its labels), or undefined when none. */
  sum(name: string, labels: Record<string, string> = {}): number | undefined {
    const list = this.select(name, labels);
    if (list.length === 0) return undefined;
    return list.reduce((acc, s) => acc + s.value, 0);
  }

  /** label value → sample value for one label of `name` (e.g. active handles by type). */
  byLabel(name: string, label: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.select(name)) {
      const key = s.labels[label];
      if (key !== undefined) out[key] = (out[key] ?? 0) + s.value;
    }
    return out;
  }
}
