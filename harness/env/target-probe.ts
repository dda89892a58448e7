// What a target lets the harness see, asked once before the run: GET /metrics (with the
// deployment's METRICS_TOKEN when given) for server figures and the open-connection gauge,
// and GET /debug/state for the debug routes (DEBUG_ROUTES=1) that full leak samples
// (POST /debug/gc) and reclaim bounds need. Production deployments usually serve neither
// debug route, and may keep /metrics on an admin port out of reach: the report says so.
import { httpCall } from '../util/http-call.ts';
import type { TargetReach } from '../scenario/target-plan.ts';

export async function probeTargets(nodes: ReadonlyArray<{ id: string; adminUrl: string }>, metricsToken: string | undefined): Promise<TargetReach> {
  const problems: string[] = [];
  let metrics = true;
  let debugRoutes = true;
  await Promise.all(
    nodes.map(async (n) => {
      const m = await httpCall(`${n.adminUrl}/metrics`, { timeoutMs: 3000, ...(metricsToken ? { headers: { authorization: `Bearer ${metricsToken}` } } : {}) }).catch((err: Error) => err);
      if (m instanceof Error || m.status !== 200) {
        metrics = false;
        problems.push(`${n.id} GET /metrics: ${m instanceof Error ? m.message : `${m.status}${m.status === 401 ? ' (give --metrics-token)' : ''}`}`);
      }
      const d = await httpCall(`${n.adminUrl}/debug/state`, { timeoutMs: 3000 }).catch((err: Error) => err);
      if (d instanceof Error || d.status !== 200) {
        debugRoutes = false;
        problems.push(`${n.id} GET /debug/state: ${d instanceof Error ? d.message : d.status}`);
      }
    }),
  );
  return { metrics, debugRoutes, problems };
}
