// A child process the harness manages (redis-server, a server node): spawned and tracked
// by the registry in procs.ts, its output kept as lines (across restarts, the last
// `maxLines`), waits with a deadline that fail with the output's tail, exit tracking,
// and the signals the fault timeline uses (kill, stop, pause, resume). Each start() is
// a new incarnation of the same managed process.
import { spawn, type ChildProcess } from 'node:child_process';
import { exited, sleep, track } from './procs.ts';

export interface OutputLine {
  text: string;
  stream: 'stdout' | 'stderr';
  at: number;
}

export interface ManagedProcessOptions<L extends OutputLine> {
  /** How messages name it, e.g. `server node-1` or `redis-server on port 6380`. */
  name: string;
  /** Most output lines kept; past it the oldest quarter is dropped. */
  maxLines: number;
  /** What each non-blank output line is kept as (a server node adds its parsed JSON). */
  toLine: (line: OutputLine) => L;
}

/** What a wait for readiness says when it fails: "<name> exited (…) before <before>" / "<name> <timeout> within N ms". */
export interface ReadyWait {
  before: string;
  timeout: string;
  /** Absolute deadline (Date.now() based) and the budget it came from, for the message. */
  deadline: number;
  timeoutMs: number;
  intervalMs: number;
}

/** One incarnation's end: `expected` when kill() or stop() asked for it, else it exited by itself. */
export interface ProcessExit {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
  /** the last output lines before the exit */
  lastLines: OutputLine[];
}

/** The process could not be spawned at all (e.g. the binary is missing). */
export class SpawnError extends Error {}

export class ManagedProcess<L extends OutputLine = OutputLine> {
  readonly logs: L[] = [];
  /** every incarnation's exit, in order */
  readonly exits: ProcessExit[] = [];
  readonly #o: ManagedProcessOptions<L>;
  #child: ChildProcess | undefined;
  #paused = false;
  #spawnError: Error | undefined;
  /** the incarnation kill() or stop() was asked to end */
  #ending: ChildProcess | undefined;
  /** resolves once the current incarnation's exit is recorded (its 'close': output read to the end) */
  #recorded: Promise<void> = Promise.resolve();
  readonly #lineWaiters = new Set<{ pred: (l: L) => boolean; resolve: (l: L) => void }>();

  constructor(options: ManagedProcessOptions<L>) {
    this.#o = options;
  }

  get name(): string {
    return this.#o.name;
  }
  /** The current incarnation (undefined before the first start). */
  get child(): ChildProcess | undefined {
    return this.#child;
  }
  get running(): boolean {
    const c = this.#child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }
  get paused(): boolean {
    return this.#paused && this.running;
  }

  /** Spawns a new incarnation and captures its output; wait for readiness with waitReady(). */
  start(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const c = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    track(c);
    this.#child = c;
    this.#paused = false;
    this.#spawnError = undefined;
    c.once('error', (err) => (this.#spawnError = err));
    c.stdout?.on('data', this.#reader('stdout'));
    c.stderr?.on('data', this.#reader('stderr'));
    // 'close', not 'exit': it comes once stdout and stderr are read to the end, so the
    // last lines (a fatal error's stack) are in the record
    this.#recorded = new Promise((recorded) =>
      c.once('close', (code, signal) => {
        const at = Date.now();
        const lastLines = this.logs.slice(-20).map(({ text, stream, at: t }) => ({ text, stream, at: t }));
        this.exits.push({ at, code, signal, expected: this.#ending === c, lastLines });
        this.#push({ text: `[process exited: code ${code} signal ${signal}]`, stream: 'stderr', at });
        recorded();
      }),
    );
    return c;
  }

  /**
   * Polls `check` until it gives a value (not undefined), the process exits, or the
   * deadline passes (the process is then SIGKILLed). Failures carry the output's tail.
   */
  async waitReady<T>(check: () => T | undefined | Promise<T | undefined>, w: ReadyWait): Promise<T> {
    const c = this.#child;
    if (!c) throw new Error(`${this.name} was never started`);
    for (;;) {
      const v = await check();
      if (v !== undefined) return v;
      if (this.#spawnError) throw new SpawnError(`cannot start ${this.name}: ${this.#spawnError.message}`);
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`${this.name} exited (${c.exitCode ?? c.signalCode}) before ${w.before}:\n${this.tail()}`);
      if (Date.now() > w.deadline) {
        this.#ending = c;
        c.kill('SIGKILL');
        throw new Error(`${this.name} ${w.timeout} within ${w.timeoutMs} ms:\n${this.tail()}`);
      }
      await sleep(w.intervalMs);
    }
  }

  /** Resolves with the first output line (past or future) matching `pred`. */
  waitForLine(pred: (line: L) => boolean, timeoutMs = 10_000): Promise<L> {
    const found = this.logs.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (l: L) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        this.#lineWaiters.delete(w);
        reject(new Error(`${this.name}: no matching log line within ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      this.#lineWaiters.add(w);
    });
  }

  /** The last lines of output, for error messages. */
  tail(n = 30): string {
    return this.logs.slice(-n).map((l) => `[${l.stream}] ${l.text}`).join('\n');
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    const c = this.#child;
    if (!c || !this.running) return;
    const done = exited(c);
    this.#ending = c;
    c.kill('SIGKILL');
    await done;
    // 'exit' can come before 'close': resolve once the exit and its last lines are recorded
    await this.#recorded;
  }

  /** SIGTERM (SIGKILL after `graceMs`); resolves with the exit code (null if it died by a signal). */
  async stop(graceMs: number): Promise<number | null> {
    const c = this.#child;
    if (!c) return null;
    if (!this.running) return c.exitCode;
    const done = exited(c);
    this.#ending = c;
    c.kill('SIGTERM');
    if (this.#paused) c.kill('SIGCONT'); // a stopped process acts on SIGTERM only once continued
    const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
    const code = await done;
    clearTimeout(timer);
    await this.#recorded;
    return code;
  }

  /** SIGSTOP: the process keeps its sockets and answers nothing. */
  pause(): void {
    if (!this.running) return;
    this.#child!.kill('SIGSTOP');
    this.#paused = true;
  }

  /** SIGCONT. */
  resume(): void {
    if (this.running) this.#child!.kill('SIGCONT');
    this.#paused = false;
  }

  #reader(stream: 'stdout' | 'stderr'): (buf: Buffer) => void {
    let rest = '';
    return (buf) => {
      rest += buf.toString('utf8');
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const text = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        if (text.trim()) this.#push({ text, stream, at: Date.now() });
      }
    };
  }

  #push(raw: OutputLine): void {
    const line = this.#o.toLine(raw);
    const logs = this.logs;
    logs.push(line);
    if (logs.length > this.#o.maxLines) logs.splice(0, Math.ceil(this.#o.maxLines / 4));
    for (const w of this.#lineWaiters) {
      if (w.pred(line)) {
        this.#lineWaiters.delete(w);
        w.resolve(line);
      }
    }
  }
}
