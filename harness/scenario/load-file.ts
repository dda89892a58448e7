import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineScenario, type Scenario } from './define.ts';

/** A run target that names a file rather than a registered scenario or suite. */
export function looksLikeScenarioFile(target: string): boolean {
  return target.includes('/') || target.includes(path.sep) || /\.(ts|mts|js|mjs)$/.test(target);
}

export class ScenarioFileError extends Error {}

/**
 * Imports a scenario file (TypeScript runs as is on Node 22) and returns its default export
 * checked as a scenario: `export default defineScenario({ … })`, or the plain object.
 */
export async function loadScenarioFile(target: string, cwd = process.cwd()): Promise<Scenario> {
  const file = path.resolve(cwd, target);
  if (!existsSync(file) || !statSync(file).isFile()) throw new ScenarioFileError(`no scenario file at ${file}`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new ScenarioFileError(`cannot load ${target}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof mod.default !== 'object' || mod.default === null) {
    throw new ScenarioFileError(`${target} has no default export; write \`export default defineScenario({ … })\` (import { defineScenario } from 'imstorm')`);
  }
  try {
    return defineScenario(mod.default as Parameters<typeof defineScenario>[0]);
  } catch (err) {
    throw new ScenarioFileError(`${target}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
