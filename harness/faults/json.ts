// JSON the way Toxiproxy's Go server reads and writes it, so responses
// compare byte for byte and lenient inputs are accepted alike.

/** Shortest decimal that reads back as the same float32 (toxicity is a Go float32). */
export function float32(value: number): number {
  const target = Math.fround(value);
  if (!Number.isFinite(target)) return value;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(target.toPrecision(digits));
    if (Math.fround(candidate) === target) return candidate;
  }
  return target;
}

/** encoding/json output: like JSON.stringify, but HTML-safe as Go escapes <, > and &. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export type DecodeResult = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Parses the first JSON value of a body, ignoring whatever follows it, as
 * Go's json.Decoder.Decode does; an empty body is "EOF".
 */
export function decodeFirstJsonValue(text: string): DecodeResult {
  const start = text.search(/\S/);
  if (start < 0) return { ok: false, message: 'EOF' };
  const end = endOfValue(text, start);
  if (end === undefined) return { ok: false, message: 'unexpected EOF' };
  try {
    return { ok: true, value: JSON.parse(text.slice(start, end)) };
  } catch (error) {
    return { ok: false, message: `invalid JSON: ${(error as Error).message}` };
  }
}

/** Index just past the JSON value starting at `start`; undefined if the text ends inside it. */
function endOfValue(text: string, start: number): number | undefined {
  const first = text[start];
  if (first !== '{' && first !== '[' && first !== '"') {
    const match = /[\s,\]}:]/.exec(text.slice(start));
    return match ? start + match.index : text.length;
  }
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        if (depth === 0) return i + 1;
      }
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth <= 0) return i + 1;
    }
  }
  return undefined;
}

/** Go's name for a JSON value's kind in "cannot unmarshal X into ..." errors. */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'object';
  }
}
