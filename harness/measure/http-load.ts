// autocannon runs against the server's HTTP routes, one route at a time, each bounded by
// a duration or a request count and by a hard wall-clock cap. Results land in the report.
import autocannon from 'autocannon';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRoute {
  /** stable name for reports and thresholds, e.g. `postMessage` (`http.postMessage.p99`) */
  name: string;
  method: HttpMethod;
  /** path and query, e.g. /v1/conversations/dm%3Aa%3Ab/messages?limit=50 (the first request's, when `pathFor` is set) */
  path: string;
  /** the n-th request's path, when it depends on whose token it carries */
  pathFor?: (i: number) => string;
  /** JSON body; a function is called for every request (e.g. a fresh cmid each time) */
  body?: unknown | ((i: number) => unknown);
  /** send the bearer token (default true) */
  auth?: boolean;
}

export interface HttpLoadOptions {
  /** http://host:port of one node */
  baseUrl: string;
  /** bearer token(s); several are used in turn (spreads the per-user send bucket) */
  token?: string | readonly string[];
  routes: readonly HttpRoute[];
  /** concurrent connections per route (default 10) */
  connections?: number;
  /** seconds per route (default 5); ignored when `amount` is set */
  durationSec?: number;
  /** requests per route instead of a duration */
  amount?: number;
  /** per-request timeout in seconds (default 5) */
  timeoutSec?: number;
  /** hard cap per route in seconds, however the run is configured (default duration + timeout + 5, or 60 with amount) */
  maxSec?: number;
  /** overall request rate per route (req/s), open-loop; unlimited when absent */
  rate?: number;
}

export interface HttpResult {
  name: string;
  method: HttpMethod;
  path: string;
  url: string;
  connections: number;
  /** seconds the route was driven */
  durationSec: number;
  startedAt: number;
  /** responses received */
  total: number;
  /** requests sent */
  sent: number;
  /** responses per second: mean, min, max over the run's seconds */
  rps: { mean: number; min: number; max: number };
  /** response latency in ms */
  latency: { mean: number; min: number; p50: number; p90: number; p99: number; 'p99.9': number; max: number };
  /** responses by status code */
  statusCodes: Record<string, number>;
  non2xx: number;
  /** connection errors, timeouts included */
  errors: number;
  timeouts: number;
  /** stopped by the hard cap before finishing */
  capped: boolean;
}

/** the routes imRoutes() drives, by name (`http.<name>.<stat>` in thresholds) */
export const HTTP_ROUTE_NAMES = ['postMessage', 'history', 'healthz'] as const;

/**
 * The three routes ISSUE 4 names: POST /v1/messages, history, /healthz. `convs[i]` is a
 * conversation of the user whose token is the i-th of HttpLoadOptions.token: request n
 * carries token n mod k and uses that user's conversation, so many users share the load
 * and the per-user send bucket does not decide the figures.
 */
export function imRoutes(opts: { convs: readonly string[]; cmidPrefix?: string; body?: string; historyLimit?: number }): HttpRoute[] {
  if (opts.convs.length === 0) throw new Error('imRoutes: convs must name at least one conversation');
  const prefix = opts.cmidPrefix ?? `ac-${Date.now().toString(36)}`;
  const convOf = (i: number) => opts.convs[i % opts.convs.length]!;
  const historyPath = (i: number) => `/v1/conversations/${encodeURIComponent(convOf(i))}/messages?limit=${opts.historyLimit ?? 50}`;
  return [
    {
      name: 'postMessage',
      method: 'POST',
      path: '/v1/messages',
      body: (i: number) => ({ conv: convOf(i), cmid: `${prefix}-${i}`, body: opts.body ?? 'autocannon' }),
    },
    { name: 'history', method: 'GET', path: historyPath(0), pathFor: historyPath },
    { name: 'healthz', method: 'GET', path: '/healthz', auth: false },
  ];
}

function headersFor(route: HttpRoute, token: string | undefined, hasBody: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  if (route.auth !== false && token !== undefined) h['authorization'] = `Bearer ${token}`;
  if (hasBody) h['content-type'] = 'application/json';
  return h;
}

/** Drives one route; never runs longer than its cap. */
export function runRoute(opts: HttpLoadOptions, route: HttpRoute): Promise<HttpResult> {
  const tokens = opts.token === undefined ? [] : typeof opts.token === 'string' ? [opts.token] : [...opts.token];
  const connections = opts.connections ?? 10;
  const timeoutSec = opts.timeoutSec ?? 5;
  const durationSec = opts.durationSec ?? 5;
  const maxSec = opts.maxSec ?? (opts.amount !== undefined ? 60 : durationSec + timeoutSec + 5);
  const url = opts.baseUrl.replace(/\/$/, '') + route.path;
  let i = 0;
  const bodyOf = (n: number): string | undefined => {
    if (route.body === undefined) return undefined;
    const b = typeof route.body === 'function' ? (route.body as (i: number) => unknown)(n) : route.body;
    return typeof b === 'string' ? b : JSON.stringify(b);
  };
  const dynamic = typeof route.body === 'function' || tokens.length > 1 || route.pathFor !== undefined;
  const staticBody = dynamic ? undefined : bodyOf(0);
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    let capped = false;
    const acOpts: autocannon.Options = {
      url,
      method: route.method,
      connections,
      timeout: timeoutSec,
      headers: headersFor(route, tokens[0], route.body !== undefined),
      ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: durationSec }),
      ...(opts.rate !== undefined ? { overallRate: opts.rate } : {}),
      ...(staticBody !== undefined ? { body: staticBody } : {}),
      ...(dynamic
        ? {
            requests: [
              {
                method: route.method,
                path: route.path,
                setupRequest: (req: autocannon.Request) => {
                  const n = i++;
                  const body = bodyOf(n);
                  return {
                    ...req,
                    ...(route.pathFor ? { path: route.pathFor(n) } : {}),
                    headers: headersFor(route, tokens[n % Math.max(1, tokens.length)], body !== undefined),
                    ...(body !== undefined ? { body } : {}),
                  };
                },
              },
            ],
          }
        : {}),
    };
    const instance = autocannon(acOpts, (err: unknown, r: autocannon.Result) => {
      clearTimeout(cap);
      if (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const statusCodes: Record<string, number> = {};
      for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = s.count ?? 0;
      const lat = r.latency as autocannon.Histogram & { p99_9?: number };
      resolve({
        name: route.name,
        method: route.method,
        path: route.path,
        url,
        connections,
        durationSec: r.duration,
        startedAt,
        total: r.requests.total,
        sent: r.requests.sent,
        rps: { mean: r.requests.average, min: r.requests.min, max: r.requests.max },
        latency: { mean: lat.average, min: lat.min, p50: lat.p50, p90: lat.p90, p99: lat.p99, 'p99.9': lat.p99_9 ?? lat.max, max: lat.max },
        statusCodes,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        capped,
      });
    });
    const cap = setTimeout(() => {
      capped = true;
      instance.stop();
    }, maxSec * 1000);
    cap.unref();
  });
}

/** Drives each route in turn (so they do not skew each other) and returns one result per route. */
export async function runHttpLoad(opts: HttpLoadOptions): Promise<HttpResult[]> {
  const out: HttpResult[] = [];
  for (const route of opts.routes) out.push(await runRoute(opts, route));
  return out;
}
