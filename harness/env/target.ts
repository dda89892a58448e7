// External targets: servers the harness did not start (`imstorm run … --target`). This
// module only reads and checks the flags; target-topology.ts reaches the servers and
// target-tokens.ts makes their tokens. Every error names the flag and the fix.

/** One server of the deployment, as the run names it (node-1, … in --target order). */
export interface TargetNode {
  readonly id: string;
  /** where devices connect: ws:// or wss://, the path the server's WebSocket is on */
  readonly wsUrl: string;
  /** HTTP base URL (REST, /readyz, /metrics, debug routes), no trailing slash */
  readonly httpUrl: string;
}

export type TargetAuth =
  /** HS256 tokens minted here with the deployment's JWT_SECRET (as the harness does for its own nodes) */
  | { readonly kind: 'jwt'; readonly secret: string }
  /** a command run once per (user, device) that prints the token on stdout */
  | { readonly kind: 'cmd'; readonly command: string; readonly timeoutMs: number };

export interface TargetSpec {
  readonly nodes: readonly TargetNode[];
  /** whether the HTTP URLs were derived from the ws URLs (no --http given) */
  readonly httpDerived: boolean;
  readonly auth: TargetAuth;
  /** a Toxiproxy API whose proxies can reach the targets: client-link faults go through proxies made there */
  readonly toxiproxyUrl: string | undefined;
  /** Bearer token for /metrics (the deployment's METRICS_TOKEN), if it wants one */
  readonly metricsToken: string | undefined;
  /** run without the fault steps the target cannot take (listed in the report) instead of refusing the scenario */
  readonly skipUnsupportedFaults: boolean;
}

/** A bad --target family flag: the message names the flag and the fix (exit 2). */
export class TargetFlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetFlagError';
  }
}

/** What `imstorm run` hands over from its command line and environment. */
export interface TargetFlags {
  target?: string;
  http?: string;
  jwtSecret?: string;
  tokenCmd?: string;
  /** seconds */
  tokenCmdTimeout?: string;
  toxiproxyUrl?: string;
  metricsToken?: string;
  skipUnsupportedFaults?: boolean;
  /** JWT_SECRET from the environment (used when neither --jwt-secret nor --token-cmd is given) */
  envJwtSecret?: string;
  /** flags given that make no sense with --target (e.g. --nodes): refused by name */
  conflicting?: string[];
}

/** The same floor the server keeps (server/config MIN_SECRET_BYTES): a shorter secret cannot be the deployment's. */
export const MIN_TARGET_SECRET_BYTES = 32;
const DEFAULT_TOKEN_CMD_TIMEOUT_S = 10;

function list(value: string): string[] {
  return value.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
}

function parseUrl(value: string, flag: string, protocols: readonly string[], example: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new TargetFlagError(`${flag}: "${value}" is not a URL; give e.g. ${example}`);
  }
  if (!protocols.includes(u.protocol)) throw new TargetFlagError(`${flag}: "${value}" must start with ${protocols.map((p) => `${p}//`).join(' or ')}; give e.g. ${example}`);
  if (u.search || u.hash) throw new TargetFlagError(`${flag}: "${value}" has a query or fragment; give the plain URL, e.g. ${example} (tokens never go in a URL)`);
  if (u.username || u.password) throw new TargetFlagError(`${flag}: "${value}" carries credentials; drop them (tokens come from --jwt-secret or --token-cmd)`);
  return u;
}

/**
 * The HTTP base of a ws URL: same host and port, ws→http and wss→https, the path without its
 * final `/ws` (where the server's WebSocket is). A ws URL on another path has no base we can
 * guess: --http must say it.
 */
export function httpBaseOf(ws: URL, flag = '--target'): string {
  const path = ws.pathname.replace(/\/+$/, '');
  if (!path.endsWith('/ws')) throw new TargetFlagError(`${flag}: cannot derive the HTTP base URL of ${ws.href} (its path does not end in /ws); give --http with one base URL per target, e.g. --http http://${ws.host}`);
  return `${ws.protocol === 'wss:' ? 'https:' : 'http:'}//${ws.host}${path.slice(0, -3)}`;
}

export function parseTargetFlags(f: TargetFlags): TargetSpec {
  if (f.target === undefined) {
    const stray = (
      [
        [f.http, '--http'],
        [f.tokenCmd, '--token-cmd'],
        [f.tokenCmdTimeout, '--token-cmd-timeout'],
        [f.metricsToken, '--metrics-token'],
        [f.skipUnsupportedFaults || undefined, '--skip-unsupported-faults'],
      ] as const
    ).filter(([v]) => v !== undefined);
    if (stray.length) throw new TargetFlagError(`${stray.map(([, n]) => n).join(', ')} only apply with --target ws://HOST:PORT/ws,…: add --target, or drop ${stray.length > 1 ? 'them' : 'it'}`);
    throw new TargetFlagError('parseTargetFlags needs --target');
  }
  if (f.conflicting?.length) throw new TargetFlagError(`${f.conflicting.join(', ')} cannot be used with --target: the harness starts no Redis and no nodes there (the node count is the number of --target URLs); drop ${f.conflicting.length > 1 ? 'them' : 'it'}`);
  const wsList = list(f.target);
  if (!wsList.length) throw new TargetFlagError('--target: give one or more WebSocket URLs separated by commas, e.g. --target ws://10.0.0.5:8080/ws,ws://10.0.0.6:8080/ws');
  if (wsList.length > 64) throw new TargetFlagError(`--target: ${wsList.length} URLs; at most 64 servers`);
  const ws = wsList.map((v) => parseUrl(v, '--target', ['ws:', 'wss:'], 'ws://10.0.0.5:8080/ws'));
  const seen = new Set<string>();
  for (const u of ws) {
    if (seen.has(u.href)) throw new TargetFlagError(`--target: ${u.href} is given twice; name each server once (the run spreads devices over them)`);
    seen.add(u.href);
  }
  let http: string[];
  const httpDerived = f.http === undefined;
  if (f.http !== undefined) {
    const hl = list(f.http);
    if (hl.length !== ws.length) throw new TargetFlagError(`--http: ${hl.length} URL(s) for ${ws.length} --target URL(s); give one HTTP base URL per target, in the same order (or drop --http to derive each from its ws URL)`);
    http = hl.map((v) => parseUrl(v, '--http', ['http:', 'https:'], 'http://10.0.0.5:8080').href.replace(/\/+$/, ''));
  } else http = ws.map((u) => httpBaseOf(u));

  if (f.jwtSecret !== undefined && f.tokenCmd !== undefined) throw new TargetFlagError('--jwt-secret and --token-cmd both given: tokens come from one of them; drop one');
  let auth: TargetAuth;
  if (f.tokenCmd !== undefined) {
    if (!f.tokenCmd.trim()) throw new TargetFlagError('--token-cmd is empty; give a command that prints one token, e.g. --token-cmd \'./mint-token "$IMSTORM_USER" "$IMSTORM_DEVICE"\'');
    let timeoutS = DEFAULT_TOKEN_CMD_TIMEOUT_S;
    if (f.tokenCmdTimeout !== undefined) {
      timeoutS = Number(f.tokenCmdTimeout);
      if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 300) throw new TargetFlagError(`--token-cmd-timeout: "${f.tokenCmdTimeout}" must be a number of seconds, more than 0 and at most 300 (default ${DEFAULT_TOKEN_CMD_TIMEOUT_S})`);
    }
    auth = { kind: 'cmd', command: f.tokenCmd, timeoutMs: Math.round(timeoutS * 1000) };
  } else {
    if (f.tokenCmdTimeout !== undefined) throw new TargetFlagError('--token-cmd-timeout only applies with --token-cmd: add --token-cmd, or drop it');
    const secret = f.jwtSecret ?? f.envJwtSecret;
    if (secret === undefined || secret === '') throw new TargetFlagError('--target needs the users\' tokens: set JWT_SECRET (the deployment\'s HS256 secret; or --jwt-secret, visible to every user of this machine), or give --token-cmd CMD that prints one token per user and device');
    if (Buffer.byteLength(secret) < MIN_TARGET_SECRET_BYTES) throw new TargetFlagError(`${f.jwtSecret !== undefined ? '--jwt-secret' : 'JWT_SECRET'} has ${Buffer.byteLength(secret)} bytes; the server accepts no secret under ${MIN_TARGET_SECRET_BYTES}: give the deployment's JWT_SECRET`);
    auth = { kind: 'jwt', secret };
  }
  let toxiproxyUrl: string | undefined;
  if (f.toxiproxyUrl !== undefined) {
    toxiproxyUrl = parseUrl(f.toxiproxyUrl, '--toxiproxy-url', ['http:', 'https:'], 'http://10.0.0.9:8474').href.replace(/\/+$/, '');
    // a TCP proxy in front of TLS: the device would dial the proxy's host, and the certificate names the target's
    const tls = ws.filter((u) => u.protocol === 'wss:');
    if (tls.length) throw new TargetFlagError(`--toxiproxy-url with wss:// targets (${tls.map((u) => u.href).join(', ')}): client-link proxies carry plain ws:// only (a certificate names the target, not the proxy); aim --target at ws:// listeners for fault runs, or drop --toxiproxy-url`);
  }
  if (f.metricsToken !== undefined && !f.metricsToken) throw new TargetFlagError('--metrics-token is empty; give the deployment\'s METRICS_TOKEN, or drop the flag');
  return {
    nodes: ws.map((u, i) => ({ id: `node-${i + 1}`, wsUrl: u.href, httpUrl: http[i]! })),
    httpDerived,
    auth,
    toxiproxyUrl,
    metricsToken: f.metricsToken,
    skipUnsupportedFaults: f.skipUnsupportedFaults === true,
  };
}
