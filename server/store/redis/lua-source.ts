import { readFileSync } from 'node:fs';

/** A line `--!include <file>` is replaced by that file (the shared clock and presence snippets). */
const LUA_DIR = new URL('./lua/', import.meta.url);

export function loadLua(name: string, seen: readonly string[] = []): string {
  if (seen.includes(name)) throw new Error(`lua include cycle: ${[...seen, name].join(' → ')}`);
  const text = readFileSync(new URL(name, LUA_DIR), 'utf8');
  return text.replace(/^--!include (\S+)$/gm, (_, file: string) => loadLua(file, [...seen, name]).trimEnd());
}
