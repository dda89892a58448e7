import { existsSync, statSync } from 'node:fs';
import { registerHooks } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defineScenario, type Scenario } from './define.ts';

/** A run target that names a file rather than a registered scenario or suite. */
export function looksLikeScenarioFile(target: string): boolean {
  return target.includes('/') || target.includes(path.sep) || /\.(ts|mts|js|mjs)$/.test(target);
}

export class ScenarioFileError extends Error {}

const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));
let resolvesAnywhere = false;

/**
 * A scenario file outside this package (`imstorm explore --out /tmp/found.ts`, a file an
 * engineer keeps elsewhere) imports 'imstorm' too, which Node resolves only from inside the
 * package: that import is resolved to this package's entry (one resolve hook, set the first
 * time such a file is loaded).
 */
function resolveImstormFromAnywhere(): void {
  if (resolvesAnywhere) return;
  resolvesAnywhere = true;
  const entry = pathToFileURL(path.join(PACKAGE_ROOT, 'harness/index.ts')).href;
  registerHooks({ resolve: (specifier, context, next) => (specifier === 'imstorm' ? { url: entry, format: 'module', shortCircuit: true } : next(specifier, context)) });
}

/**
 * Imports a scenario file (TypeScript runs as is on Node 22) and returns its default export
 * checked as a scenario: `export default defineScenario({ … })`, or the plain object.
 */
export async function loadScenarioFile(target: string, cwd = process.cwd()): Promise<Scenario> {
  const file = path.resolve(cwd, target);
  if (!existsSync(file) || !statSync(file).isFile()) throw new ScenarioFileError(`no scenario file at ${file}`);
  if (path.relative(PACKAGE_ROOT, file).startsWith('..')) resolveImstormFromAnywhere();
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
