// The orchestrator's control endpoint: a WebSocket server that fleet agents connect to
// (local `--processes` children and `imstorm agent` on other machines alike), authenticated
// by a bearer token. Each agent says hello (name, capacity, protocol version), its clock is
// probed (clock.ts), and it becomes an AgentLink the fleet drives. A link that closes, sends
// a bad frame or goes silent is dead: whoever drives it is told once, never left waiting.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Fact } from '../model/facts.ts';
import { estimateClock, shiftFact, type ClockEstimate, type ClockSample } from './clock.ts';
import { decodeFactBatch } from './fact-stream.ts';
import { agentHello, agentMessage, CONTROL_PROTOCOL_VERSION, describeIssues, MAX_CONTROL_FRAME_BYTES, type AgentHello, type AgentMessage, type ControlFrame } from './protocol.ts';

/** An agent that says nothing (no frame, no pong) for this long is dead. */
export const AGENT_SILENCE_MS = 20_000;
const HELLO_WITHIN_MS = 10_000;
const CLOCK_PROBES = 8;

export class ControlError extends Error {}

/** What the fleet driving a link hears from it. */
export interface LinkHandler {
  message(m: Exclude<AgentMessage, { type: 'hello' | 'pong' }>): void;
  /** facts, already on the orchestrator's clock */
  facts(facts: Fact[]): void;
  dead(reason: string): void;
}

/** One connected agent, as the orchestrator sees it. */
export class AgentLink {
  readonly name: string;
  readonly host: string | undefined;
  readonly capacity: number;
  clock: ClockEstimate = { offsetMs: 0, errorMs: 0, rttMs: 0, correctionMs: 0, samples: 0 };
  /** set once the link is dead: why, and when */
  death: { at: number; reason: string } | null = null;
  handler: LinkHandler | null = null;
  private readonly pongs = new Map<number, (s: ClockSample) => void>();
  private pingId = 0;
  private nextBatch = 0;
  /** fact batches are decoded one after the other, in order */
  private chain: Promise<void> = Promise.resolve();

  private readonly ws: WebSocket;

  constructor(ws: WebSocket, hello: AgentHello) {
    this.ws = ws;
    this.name = hello.agent;
    this.host = hello.host;
    this.capacity = hello.capacity;
  }

  get alive(): boolean {
    return this.death === null;
  }

  send(f: ControlFrame): void {
    if (this.alive && this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(f));
  }

  /** Ping exchanges (one at a time), then the estimate from the shortest round trip. */
  async probeClock(n = CLOCK_PROBES): Promise<ClockEstimate> {
    const samples: ClockSample[] = [];
    for (let i = 0; i < n && this.alive; i++) {
      const id = ++this.pingId;
      const got = new Promise<ClockSample | null>((resolve) => {
        const timer = setTimeout(() => {
          this.pongs.delete(id);
          resolve(null);
        }, 5000);
        this.pongs.set(id, (s) => {
          clearTimeout(timer);
          resolve(s);
        });
      });
      const t0 = Date.now();
      this.send({ type: 'ping', id });
      const s = await got;
      if (s) samples.push({ ...s, t0 });
    }
    if (!samples.length) throw new ControlError(`agent ${this.name} answered none of ${n} clock probes within 5 s each`);
    this.clock = estimateClock(samples);
    return this.clock;
  }

  /** A new plan (`init`) follows: its fact batches are numbered from 0 again. */
  beginPlan(): void {
    this.chain = this.chain.then(() => {
      this.nextBatch = 0;
    });
  }

  /** Kills the link (the agent is told with close code 1008 and the reason). */
  drop(reason: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1008, reason.slice(0, 120));
    this.ws.terminate();
    this.died(reason);
  }

  /** @internal the server's dispatch */
  onText(m: AgentMessage): void {
    if (m.type === 'hello') return this.drop('hello twice');
    if (m.type === 'pong') {
      const t1 = Date.now();
      const r = this.pongs.get(m.id);
      this.pongs.delete(m.id);
      r?.({ t0: 0, agentNow: m.now, t1 });
      return;
    }
    // after the facts shipped before it: `done` counts them
    this.chain = this.chain.then(() => {
      if (!this.alive) return;
      if (m.type === 'fatal') return this.drop(`the agent failed: ${m.message.split('\n')[0]}`);
      this.handler?.message(m);
    });
  }

  /** @internal */
  onBinary(frame: Buffer): void {
    this.chain = this.chain.then(async () => {
      if (!this.alive) return;
      try {
        const { seq, facts } = await decodeFactBatch(frame);
        if (seq !== this.nextBatch) throw new ControlError(`facts batch ${seq} arrived where ${this.nextBatch} was due`);
        this.nextBatch++;
        const c = this.clock.correctionMs;
        this.handler?.facts(c ? facts.map((f) => shiftFact(f, c)) : facts);
        this.send({ type: 'factsAck', seq });
      } catch (err) {
        this.drop(`bad facts batch: ${(err as Error).message}`);
      }
    });
  }

  /** @internal the socket closed: facts already received are handed over first */
  onClose(reason: string): void {
    this.chain = this.chain.then(() => this.died(reason));
  }

  private died(reason: string): void {
    if (this.death) return;
    this.death = { at: Date.now(), reason };
    this.handler?.dead(reason);
  }
}

export interface ControlServerOptions {
  host: string;
  port: number;
  token: string;
  log?: (line: string) => void;
  /** an agent silent this long is dead (default AGENT_SILENCE_MS; tests shorten it) */
  silenceMs?: number;
}

export class ControlServer {
  private readonly ready: AgentLink[] = [];
  private readonly waiting = new Set<() => void>();
  private closed = false;

  private readonly http: Server;
  private readonly wss: WebSocketServer;
  readonly url: string;
  private readonly log: (line: string) => void;
  private readonly silenceMs: number;

  private constructor(http: Server, wss: WebSocketServer, url: string, log: (line: string) => void, silenceMs: number) {
    this.http = http;
    this.wss = wss;
    this.url = url;
    this.log = log;
    this.silenceMs = silenceMs;
  }

  static async start(o: ControlServerOptions): Promise<ControlServer> {
    if (Buffer.byteLength(o.token) < 16) throw new ControlError('the control token must be at least 16 bytes (e.g. `openssl rand -hex 16`)');
    const expected = Buffer.from(`Bearer ${o.token}`);
    const http = createServer((_, res) => res.writeHead(426).end('imstorm control endpoint: WebSocket only\n'));
    const wss = new WebSocketServer({
      server: http,
      path: '/control',
      maxPayload: MAX_CONTROL_FRAME_BYTES,
      perMessageDeflate: false,
      verifyClient: (info: { req: IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void) => {
        const got = Buffer.from(info.req.headers.authorization ?? '');
        if (got.length === expected.length && timingSafeEqual(got, expected)) cb(true);
        else cb(false, 401, 'a valid Authorization: Bearer <control token> is required');
      },
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', (err: NodeJS.ErrnoException) => reject(new ControlError(`control endpoint: cannot listen on ${o.host}:${o.port}: ${err.code ?? err.message}`)));
      http.listen(o.port, o.host, resolve);
    });
    const addr = http.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const server = new ControlServer(http, wss, `ws://${host}:${addr.port}/control`, o.log ?? (() => {}), o.silenceMs ?? AGENT_SILENCE_MS);
    wss.on('connection', (ws, req) => server.accept(ws, req));
    return server;
  }

  /** Agents said hello and were probed, not yet taken. */
  get readyCount(): number {
    return this.ready.filter((l) => l.alive).length;
  }

  /**
   * The first `n` agents to say hello. Fails past `deadlineMs`, naming how many came;
   * `onProgress` hears each arrival.
   */
  async waitForAgents(n: number, o: { deadlineMs: number; onProgress?: (got: number, link: AgentLink) => void; abort?: Promise<never> }): Promise<AgentLink[]> {
    const deadline = Date.now() + o.deadlineMs;
    let seen = 0;
    for (;;) {
      const alive = this.ready.filter((l) => l.alive);
      for (const l of alive.slice(seen)) o.onProgress?.(Math.min(++seen, n), l);
      seen = Math.min(seen, alive.length);
      if (alive.length >= n) return alive.slice(0, n);
      const left = deadline - Date.now();
      if (left <= 0) {
        const names = alive.map((l) => l.name).join(', ');
        throw new ControlError(`${alive.length} of ${n} agents connected to ${this.url} within ${Math.round(o.deadlineMs / 1000)} s${names ? ` (${names})` : ''}: start the missing ones (imstorm agent --control ${this.url}), check the token and that the address is reachable from them, or ask for fewer (--agents ${Math.max(1, alive.length)})`);
      }
      await Promise.race([
        new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 1000));
          const wake = () => {
            clearTimeout(t);
            this.waiting.delete(wake);
            resolve();
          };
          this.waiting.add(wake);
        }),
        ...(o.abort ? [o.abort] : []),
      ]);
    }
  }

  /** Tells every agent to exit, then closes the endpoint. */
  async close(reason = 'the run is over'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.ready) l.send({ type: 'bye', reason });
    // let the byes leave before the sockets close
    await new Promise((r) => setTimeout(r, 100));
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const from = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    let link: AgentLink | null = null;
    let heardAt = Date.now();
    const helloTimer = setTimeout(() => ws.close(1008, `no hello within ${HELLO_WITHIN_MS / 1000} s`), HELLO_WITHIN_MS);
    // silence (a frozen or unreachable agent) ends the link: ws pings are answered by the agent's event loop
    const silence = this.silenceMs;
    const beat = setInterval(() => {
      if (Date.now() - heardAt > silence) {
        // the reason first: the close that follows must not name another
        link?.onClose(`silent for ${silence / 1000} s (no frame, no pong): frozen, overloaded or unreachable`);
        ws.terminate();
        return;
      }
      ws.ping();
    }, Math.min(2000, silence / 4));
    ws.on('pong', () => (heardAt = Date.now()));
    ws.on('close', (code, reason) => {
      clearTimeout(helloTimer);
      clearInterval(beat);
      link?.onClose(`its control connection closed (code ${code}${reason.length ? `: ${reason.toString()}` : ''})`);
    });
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      heardAt = Date.now();
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) {
        if (link) link.onBinary(buf);
        else ws.close(1008, 'facts before hello');
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(buf.toString('utf8'));
      } catch {
        return link ? link.drop('a text frame that is not JSON') : ws.close(1008, 'a text frame that is not JSON');
      }
      if (!link) {
        clearTimeout(helloTimer);
        const h = agentHello.safeParse(json);
        if (!h.success) return void ws.close(1008, `bad hello: ${describeIssues(h.error)}`.slice(0, 120));
        if (h.data.version !== CONTROL_PROTOCOL_VERSION) return void ws.close(1008, `protocol version ${h.data.version}; this orchestrator speaks ${CONTROL_PROTOCOL_VERSION}: run the same imstorm version`);
        if (this.ready.some((l) => l.alive && l.name === h.data.agent)) return void ws.close(1008, `an agent named ${h.data.agent} is already connected: give each its own --name`);
        const l = new AgentLink(ws, h.data);
        link = l;
        void l.probeClock().then(
          (c) => {
            l.send({ type: 'welcome', agent: l.name });
            this.log(`agent ${l.name} (${h.data.host ?? from}, capacity ${l.capacity}) connected; clock offset ${c.offsetMs} ms ± ${c.errorMs} ms`);
            this.ready.push(l);
            for (const w of [...this.waiting]) w();
          },
          (err: Error) => l.drop(err.message),
        );
        return;
      }
      const m = agentMessage.safeParse(json);
      if (!m.success) return link.drop(`a bad frame: ${describeIssues(m.error)}`);
      link.onText(m.data);
    });
  }
}
