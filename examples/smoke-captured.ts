// The smoke scenario with every node capturing (README "Replaying an incident", fidelity):
// the capture goes to reports/captures/smoke/, for `imstorm replay` to set beside this run.
//   npx imstorm run ./examples/smoke-captured.ts
import path from 'node:path';
import { defineScenario } from 'imstorm';
import smoke from '../scenarios/smoke.ts';

export const CAPTURE_DIR = path.join(import.meta.dirname, '..', 'reports', 'captures', 'smoke');

export default defineScenario({
  ...smoke,
  name: 'smoke-captured',
  description: `${smoke.description} Captured.`,
  topology: { ...smoke.topology, serverEnv: { ...smoke.topology.serverEnv, CAPTURE_DIR, CAPTURE_SAMPLE: 1 } },
});
