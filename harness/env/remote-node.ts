// A server node the harness did not start (imstorm run --target): the same handle shape
// as a node it runs, so the topology, sampler and checkers take it as they are, but with
// no process behind it. Process controls (kill, restart, pause) refuse with
// UnsupportedControlError; the scenario pre-flight (harness/scenario/target-plan.ts)
// keeps steps that need them from ever getting here. stop() only lets go of the node.
import type { ChildProcess } from 'node:child_process';
import { httpCall } from '../util/http-call.ts';
import { UnsupportedControlError } from './environment.ts';
import type { LogLine, ServerNodeHandle } from './server-node.ts';
import type { TargetNode } from './target.ts';

/** The node could not be reached or is not ready: names the URL and what to check. */
export class TargetUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetUnreachableError';
  }
}

/** Waits (up to `timeoutMs`) for GET <http>/readyz to answer 200, then gives the handle. */
export async function connectRemoteNode(t: TargetNode, o: { metricsToken?: string; timeoutMs?: number } = {}): Promise<ServerNodeHandle> {
  const timeoutMs = o.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const res = await httpCall(`${t.httpUrl}/readyz`, { timeoutMs: Math.max(500, Math.min(3000, deadline - Date.now())) });
      if (res.status === 200) break;
      last = `GET /readyz answered ${res.status} ${res.text.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= deadline) throw new TargetUnreachableError(`--target ${t.id} (${t.wsUrl}): not ready within ${timeoutMs / 1000} s at ${t.httpUrl}/readyz (${last}); check the server is up and that --http (or the base derived from --target) is where its HTTP API answers`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const ws = new URL(t.wsUrl);
  const refuse = (what: string) => () => Promise.reject(new UnsupportedControlError(`cannot ${what} ${t.id} (${t.wsUrl}): the harness did not start it`));
  const handle: ServerNodeHandle = {
    nodeId: t.id,
    host: ws.hostname.replace(/^\[|\]$/g, ''),
    port: Number(ws.port || (ws.protocol === 'wss:' ? 443 : 80)),
    url: t.httpUrl,
    wsUrl: t.wsUrl,
    adminUrl: t.httpUrl,
    metricsToken: o.metricsToken,
    logs: [] as LogLine[],
    // nobody watches its process: the `nodes` check is not run on targets (the report says so)
    exits: [],
    get process(): ChildProcess {
      throw new UnsupportedControlError(`${t.id} (${t.wsUrl}) has no process here: the harness did not start it`);
    },
    running: true,
    paused: false,
    kill: refuse('kill'),
    // letting go of a node we did not start is all a teardown does
    stop: () => Promise.resolve(null),
    restart: refuse('restart'),
    start: refuse('start'),
    pause() {
      throw new UnsupportedControlError(`cannot pause ${t.id} (${t.wsUrl}): the harness did not start it`);
    },
    resume() {},
    waitForLog: () => Promise.reject(new UnsupportedControlError(`${t.id} (${t.wsUrl}): its logs are not here`)),
    tail: () => '',
  };
  return handle;
}
