// The embedded Toxiproxy-compatible proxy as a process of its own (toxiproxy-main.ts), as
// real Toxiproxy is. In the harness's own process every proxied Redis round trip waited
// behind the run's bookkeeping (fleet facts, metrics, the fault timeline): on a quiet
// machine smoke's server send→sent read p50 1.57 / p90 14.4 ms through it against 1.05 /
// 2.9 ms with Redis unproxied, and that shoulder moved from run to run.
import path from 'node:path';
import { REPO_ROOT } from './paths.ts';
import { ManagedProcess } from './child-process.ts';
import { freePort } from './procs.ts';

const ENTRY = path.join(REPO_ROOT, 'harness', 'faults', 'toxiproxy-main.ts');

export interface ProxyProcessHandle {
  /** the Toxiproxy API, e.g. http://127.0.0.1:38661 */
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** SIGTERM (SIGKILL after 5 s); resolves once it is gone */
  close(): Promise<void>;
}

export async function startProxyProcess(opts: { host?: string; port?: number; startTimeoutMs?: number } = {}): Promise<ProxyProcessHandle> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port || (await freePort());
  const timeoutMs = opts.startTimeoutMs ?? 20_000;
  const url = `http://${host}:${port}`;
  const proc = new ManagedProcess({ name: `the embedded Toxiproxy (${ENTRY}) on port ${port}`, maxLines: 200, toLine: (l) => l });
  // the Node that runs the harness (22, the project's), which runs .ts as the fleet's processes do
  proc.start(process.execPath, [ENTRY, `-host=${host}`, `-port=${port}`], { cwd: REPO_ROOT });
  await proc.waitReady(
    async () => {
      try {
        const res = await fetch(`${url}/version`, { signal: AbortSignal.timeout(1000) });
        await res.text();
        return res.ok ? true : undefined;
      } catch {
        return undefined;
      }
    },
    { before: 'its API answered', timeout: `did not answer GET ${url}/version`, deadline: Date.now() + timeoutMs, timeoutMs, intervalMs: 50 },
  );
  return {
    url,
    port,
    pid: proc.child?.pid,
    async close() {
      await proc.stop(5000);
    },
  };
}
