import type { ServerSample } from '../checks/samples.ts';
import { httpCall } from '../util/http-call.ts';

/**
 * One leak sample of a node: two full GCs (POST /debug/gc, so the node must run with
 * DEBUG_ROUTES=1), then its gauges from /metrics.
 */
export async function leakSample(node: { id: string; url: string }): Promise<ServerSample> {
  const gc = await httpCall(`${node.url}/debug/gc`, { method: 'POST' });
  if (gc.status !== 200) throw new Error(`${node.id}: POST /debug/gc answered ${gc.status}; leak checks need DEBUG_ROUTES=1 on the server`);
  const g = JSON.parse(gc.text) as { heapUsed: number; openFds: number; httpSockets: number; connections: number; activeResources: string[] };
  const handles: Record<string, number> = {};
  for (const type of g.activeResources) handles[type] = (handles[type] ?? 0) + 1;
  // HTTP sockets of whoever is asking (this request, a sampler's keep-alive) are not the server's leak
  const sockets = g.httpSockets;
  handles.TCPSocketWrap = Math.max(0, (handles.TCPSocketWrap ?? 0) - sockets);
  return { at: Date.now(), node: node.id, connections: g.connections, openFds: g.openFds - sockets, heapUsedAfterGc: g.heapUsed, activeHandles: handles };
}

/**
 * Samples until three in a row agree on connections and fds and no client is connected
 * (closing sockets take a moment), bounded; the last sample is returned either way.
 */
export async function settledLeakSample(node: { id: string; url: string }, timeoutMs = 10_000): Promise<ServerSample> {
  const until = Date.now() + timeoutMs;
  const seen: ServerSample[] = [await leakSample(node)];
  for (;;) {
    await new Promise((r) => setTimeout(r, 400));
    seen.push(await leakSample(node));
    const last = seen.slice(-3);
    const steady = last.length === 3 && last.every((x) => x.connections === 0 && x.openFds === last[0]!.openFds);
    if (steady || Date.now() > until) return seen.at(-1)!;
  }
}
