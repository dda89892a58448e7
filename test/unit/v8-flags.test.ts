// server/v8-flags.ts sets V8 flags that only hold for code loaded after them: each server
// entry must import it before anything else (ES modules run their imports in order, depth
// first), or the node runs with V8's defaults and nothing says so.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keepsHeapGrowing, keepsPretenuring } from '../../server/v8-flags.ts';

const entries = ['server/main.ts', 'server/test-main.ts'];

/** the module specifiers of a file's import statements, in order */
function imports(file: string): string[] {
  const src = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
  return [...src.matchAll(/^import\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

describe('the server entries load their V8 flags first', () => {
  for (const entry of entries) {
    it(`${entry} imports ./v8-flags.ts before any other module`, () => {
      const list = imports(entry);
      expect(list.length).toBeGreaterThan(1);
      expect(list[0]).toBe('./v8-flags.ts');
    });
  }

  it('the flags module imports nothing of the server', () => {
    expect(imports('server/v8-flags.ts').filter((s) => !s.startsWith('node:'))).toEqual([]);
  });

  it("an operator's --allocation-site-pretenuring, in either spelling, keeps V8's default", () => {
    expect(keepsPretenuring(['--allocation-site-pretenuring'])).toBe(true);
    expect(keepsPretenuring(['--max-old-space-size=4096', '--allocation_site_pretenuring'])).toBe(true);
    expect(keepsPretenuring([])).toBe(false);
    expect(keepsPretenuring(['--no-allocation-site-pretenuring'])).toBe(false);
    expect(keepsPretenuring(['--allocation-site-pretenuring-x'])).toBe(false);
  });

  it("an operator's --heap-growing-percent=N, in either spelling, keeps theirs", () => {
    expect(keepsHeapGrowing(['--heap-growing-percent=30'])).toBe(true);
    expect(keepsHeapGrowing(['--max-old-space-size=4096', '--heap_growing_percent=0'])).toBe(true);
    expect(keepsHeapGrowing([])).toBe(false);
    expect(keepsHeapGrowing(['--heap-growing-percentage=30'])).toBe(false);
  });
});
