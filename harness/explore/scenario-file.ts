// A counterexample as a scenario file: `imstorm run ./scenarios/found/<name>.ts` replays it
// (with the case's own seed, the same plan), and the header says where it came from, how
// often it reproduced, and how to replay it through fast-check.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ScenarioInput } from '../scenario/define.ts';

export interface ScenarioFileInput {
  scenario: ScenarioInput;
  /** what failed, one line each (the witnesses' messages) */
  violated: string[];
  /** fast-check's replay of the case */
  seed: number;
  path: string;
  /** how often the case failed when re-run */
  reproduced: { fails: number; runs: number };
  /** the command that found it, for the header */
  command: string;
}

/** A name for the file and the scenario: found-<guarantee>-<yyyymmdd-hhmmss>. */
export function foundName(guarantee: string, at: Date = new Date()): string {
  const d = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `found-${guarantee}-${d}`.toLowerCase();
}

/** The file's text (TypeScript importing only the public entry, 'imstorm'). */
export function scenarioFileText(i: ScenarioFileInput): string {
  const comment = (text: string) => text.replace(/\*\//g, '*\\/');
  const lines = [
    '// Found by imstorm explore; replay it with',
    `//   npx imstorm run ${'<this file>'}`,
    '// (the scenario carries its own seed, so the run draws the same plan; faults are timed',
    '// from the load\'s start, so a replay is close to, not identical with, the run that failed).',
    `// Found with: ${comment(i.command)}`,
    `// fast-check replay of this case: imstorm explore --seed ${i.seed} --path ${i.path} (same --server-env, --guarantees, --faults)`,
    `// Reproduced in ${i.reproduced.fails} of ${i.reproduced.runs} re-runs on the server it was found on.`,
    '// What was violated:',
    ...i.violated.map((v) => `//   - ${comment(v).replace(/\n/g, ' ')}`),
    "import { defineScenario } from 'imstorm';",
    '',
    `export default defineScenario(${JSON.stringify(i.scenario, null, 2)});`,
    '',
  ];
  return lines.join('\n');
}

/** How `imstorm run` is told of a file: `./relative` below the current directory, else its absolute path. */
export function runnablePath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel.startsWith('..') || path.isAbsolute(rel) ? abs : `./${rel.split(path.sep).join('/')}`;
}

/** Writes the file (making its directory); returns its absolute path. */
export function writeScenarioFile(file: string, i: ScenarioFileInput): string {
  const abs = path.resolve(file);
  mkdirSync(path.dirname(abs), { recursive: true });
  writeFileSync(abs, scenarioFileText(i).replace('<this file>', runnablePath(abs)));
  return abs;
}
