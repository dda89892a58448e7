/**
 * Whether JSON text nests objects and arrays deeper than `max` (brackets inside strings do
 * not count). JSON.parse has no depth limit, and a valid 64 KiB frame nested 32k deep costs
 * milliseconds to parse; this check runs before it. Strings — most of a real frame, its
 * body — are skipped with indexOf, so a flat frame costs about what JSON.parse does
 * (test/unit/json-depth.test.ts; figures in the commit that added it). Hand-written: no
 * JSON library offers the check alone.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // jump to the closing quote: the next one not escaped by an odd run of backslashes
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j < 0) return false; // unterminated: JSON.parse refuses it anyway
        let backslashes = 0;
        while (text.charCodeAt(j - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
