// In-flight windows: just before each fault step acts, every device connected to the node it
// hits records what it has at risk (sends written and unanswered, pushes held but not acked:
// harness/model/facts.ts `window`), so the report can say what each fault put at risk and
// the `inflight` checker can show it was all recovered.
import type { WindowMeta } from '../checks/inflight.ts';
import type { Fleet } from '../fleet/orchestrator.ts';
import type { FaultStep } from './define.ts';

/** How long a window waits for the fleet's counts before the fault goes ahead without them. */
const WINDOW_TIMEOUT_MS = 3000;

/** The node a step hits; undefined for Redis itself (every node's sends are at risk). */
export function windowNode(step: FaultStep): string | undefined {
  if ('link' in step) return step.link.slice(step.link.indexOf(':') + 1);
  if (step.kind === 'fleet-pause') return step.node;
  return step.target === 'redis' ? undefined : step.target;
}

/**
 * Opens window `w<n>` for `step` and waits (bounded) until every fleet process recorded its
 * devices' share; the fault acts only afterwards, so nothing it breaks is missed. Returns
 * the window, which the run keeps for the checker and the report.
 */
export async function openWindow(fleet: Fleet | null, windows: WindowMeta[], step: FaultStep, fault: string): Promise<WindowMeta> {
  const node = windowNode(step);
  const w: WindowMeta = { id: `w${windows.length + 1}`, fault, at: Date.now(), ...(node !== undefined ? { node } : {}), connected: 0, complete: false };
  windows.push(w);
  if (!fleet) return w;
  let timer: NodeJS.Timeout | undefined;
  const counts = await Promise.race([
    fleet.window({ id: w.id, fault, ...(node !== undefined ? { node } : {}) }).catch(() => null),
    new Promise<null>((r) => (timer = setTimeout(() => r(null), WINDOW_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (counts) {
    w.connected = counts.connected;
    w.complete = true;
  }
  return w;
}
