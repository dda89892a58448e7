// Registry of every child process the harness starts (redis-server, server nodes), so
// none outlives the process that started it: owners stop their own, and whatever is
// left is SIGKILLed when this process exits (normally, or on SIGINT/SIGTERM/SIGHUP,
// after which the signal is re-raised so its default action still happens unless
// someone else listens for it). Synchronous exit tasks (remove a temp dir, remove
// containers by label) run at the same moment.
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

const live = new Set<ChildProcess>();
const exitTasks = new Set<() => void>();
let hooked = false;
let signalsToCaller = false;

/**
 * For a program that handles SIGINT/SIGTERM itself (e.g. `imstorm env up`, which tears
 * down gracefully): the registry then only cleans up on 'exit', which such a program
 * reaches by process.exit() after its own teardown (or on a second signal).
 */
export function leaveSignalsToCaller(): void {
  signalsToCaller = true; // takes effect if called before the first track()/onExit()
}

/** Run `fn` synchronously when the worker exits (e.g. remove a temp dir); returns an unregister function. */
export function onExit(fn: () => void): () => void {
  hook();
  exitTasks.add(fn);
  return () => exitTasks.delete(fn);
}

function killAllSync(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const fn of exitTasks) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  exitTasks.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllSync);
  if (signalsToCaller) return;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllSync();
      process.kill(process.pid, sig);
    });
  }
}

/** Track a child until it exits. */
export function track(child: ChildProcess): void {
  hook();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** How many tracked children are still running (tests assert 0 after cleanup). */
export function liveChildren(): number {
  let n = 0;
  for (const c of live) if (c.exitCode === null && c.signalCode === null) n++;
  return n;
}

/** SIGKILL every tracked child that is still running and wait for them to exit. */
export async function killAll(): Promise<void> {
  const waits = [...live].map((c) => {
    const done = exited(c);
    c.kill('SIGKILL');
    return done;
  });
  await Promise.all(waits);
}

/** Resolves with the exit code (null when killed by a signal) once the child has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `fn` until it returns a truthy value (which is returned) or `timeoutMs` passes. */
export async function waitUntil<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const extra = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${extra}`);
    }
    await sleep(intervalMs);
  }
}
