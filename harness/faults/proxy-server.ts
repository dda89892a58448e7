// Toxiproxy 2.x's HTTP API (api.go) on node:http, so any Toxiproxy client
// (toxiproxy-node-client, toxiproxy-cli, the Go and Ruby clients) drives the
// embedded proxies unchanged. Routes, status codes, bodies and headers follow
// the Go server, including its quirks (errors are text/plain JSON lines, a
// browser User-Agent gets 403, POST is accepted for updates).

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { joinHostPort } from './address.ts';
import { ApiError, ErrMissingField, ErrToxicNotFound, joinError, toApiError } from './api-error.ts';
import { goJson } from './json.ts';
import { Proxy, ProxyAlreadyStartedError } from './proxy.ts';
import { ProxyCollection } from './proxy-collection.ts';
import {
  decodeBody,
  parsePopulateBody,
  parseProxyBody,
  parseToxicCreateBody,
  parseToxicUpdateBody,
} from './schemas.ts';

/** The Toxiproxy release whose API this server reproduces; reported by GET /version. */
export const TOXIPROXY_VERSION = '2.12.0';

/** Bodies beyond this are refused rather than buffered. */
const MAX_BODY_BYTES = 1 << 20;

export interface ToxiproxyServerOptions {
  /** Interface for the HTTP API; default 127.0.0.1. */
  host?: string;
  /** Default 8474 (Toxiproxy's); 0 picks a free port. */
  port?: number;
  /** Reported by GET /version; default TOXIPROXY_VERSION. */
  version?: string;
}

export interface ToxiproxyServer {
  /** Base URL of the API, e.g. "http://127.0.0.1:8474"; hand it to `new Toxiproxy(url)`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The live proxies, for in-process inspection. */
  readonly proxies: ProxyCollection;
  /** Stops the API and every proxy, dropping their connections. */
  close(): Promise<void>;
}

interface Exchange {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly params: readonly string[];
  readonly body: string;
}

type Handler = (exchange: Exchange) => Promise<void>;

interface Route {
  readonly pattern: RegExp;
  readonly methods: Readonly<Partial<Record<string, Handler>>>;
}

export async function startToxiproxyServer(options: ToxiproxyServerOptions = {}): Promise<ToxiproxyServer> {
  const proxies = new ProxyCollection();
  const routes = buildRoutes(proxies, options.version ?? TOXIPROXY_VERSION);
  const server = http.createServer((req, res) => {
    void dispatch(routes, req, res);
  });
  // Go's API server keeps idle connections for 60 s.
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8474 }, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const reachable = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${joinHostPort(reachable, address.port)}`,
    host: address.address,
    port: address.port,
    proxies,
    close(): Promise<void> {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await proxies.clear();
        await closed;
      })();
      return closing;
    },
  };
}

function buildRoutes(proxies: ProxyCollection, version: string): readonly Route[] {
  const proxyIndex: Handler = async ({ res }) => {
    sendJson(res, 200, Object.fromEntries(proxies.list().map((proxy) => [proxy.name, proxy.toJSON()])));
  };

  const proxyShow: Handler = async ({ res, params }) => {
    sendJson(res, 200, proxies.get(params[0] ?? '').toJSON());
  };

  const proxyCreate: Handler = async ({ res, body }) => {
    const input = parseProxyBody(decodeBody(body));
    if (!input.name) throw joinError('name', ErrMissingField);
    if (!input.upstream) throw joinError('upstream', ErrMissingField);
    const proxy = new Proxy({ name: input.name, listen: input.listen ?? '', upstream: input.upstream });
    await proxies.add(proxy, input.enabled ?? true);
    sendJson(res, 201, proxy.toJSON());
  };

  const proxyUpdate: Handler = async ({ res, params, body }) => {
    const proxy = proxies.get(params[0] ?? '');
    const input = parseProxyBody(decodeBody(body));
    // Fields left out keep their current values; `name` cannot change.
    await proxy.update({
      listen: input.listen ?? proxy.listen,
      upstream: input.upstream ?? proxy.upstream,
      enabled: input.enabled ?? proxy.enabled,
    });
    sendJson(res, 200, proxy.toJSON());
  };

  const proxyDelete: Handler = async ({ res, params }) => {
    await proxies.remove(params[0] ?? '');
    sendNoContent(res);
  };

  const populate: Handler = async ({ res, body }) => {
    // Proxies created before a failure are still reported, next to the error.
    const applied: Proxy[] = [];
    let failure: ApiError | undefined;
    try {
      const inputs = parsePopulateBody(decodeBody(body));
      inputs.forEach((input, i) => {
        if (!input.name) throw joinError(`name at proxy ${i + 1}`, ErrMissingField);
        if (!input.upstream) throw joinError(`upstream at proxy ${i + 1}`, ErrMissingField);
      });
      for (const input of inputs) {
        const proxy = new Proxy({ name: input.name ?? '', listen: input.listen ?? '', upstream: input.upstream ?? '' });
        applied.push(await proxies.addOrReplace(proxy, input.enabled ?? true));
      }
    } catch (error) {
      failure = toApiError(error);
    }
    // Go marshals an empty result slice as null.
    const list = applied.length > 0 ? applied.map((proxy) => proxy.toJSON()) : null;
    sendJson(res, failure?.status ?? 201, failure ? { ...failure.toJSON(), proxies: list } : { proxies: list });
  };

  const toxicIndex: Handler = async ({ res, params }) => {
    const proxy = proxies.get(params[0] ?? '');
    sendJson(res, 200, proxy.toxics.list().map((toxic) => toxic.toJSON()));
  };

  const toxicCreate: Handler = async ({ res, params, body }) => {
    const proxy = proxies.get(params[0] ?? '');
    const toxic = await proxy.toxics.add(parseToxicCreateBody(decodeBody(body)));
    sendJson(res, 200, toxic.toJSON());
  };

  const toxicShow: Handler = async ({ res, params }) => {
    const proxy = proxies.get(params[0] ?? '');
    const toxic = proxy.toxics.get(params[1] ?? '');
    if (!toxic) throw ErrToxicNotFound;
    sendJson(res, 200, toxic.toJSON());
  };

  const toxicUpdate: Handler = async ({ res, params, body }) => {
    const proxy = proxies.get(params[0] ?? '');
    const name = params[1] ?? '';
    // A missing toxic is reported before a bad body, as in Toxiproxy.
    if (!proxy.toxics.get(name)) throw ErrToxicNotFound;
    const toxic = await proxy.toxics.update(name, parseToxicUpdateBody(decodeBody(body)));
    sendJson(res, 200, toxic.toJSON());
  };

  const toxicDelete: Handler = async ({ res, params }) => {
    const proxy = proxies.get(params[0] ?? '');
    await proxy.toxics.remove(params[1] ?? '');
    sendNoContent(res);
  };

  const resetState: Handler = async ({ res }) => {
    for (const proxy of proxies.list()) {
      try {
        await proxy.start();
      } catch (error) {
        if (!(error instanceof ProxyAlreadyStartedError)) throw error;
      }
      await proxy.toxics.reset();
    }
    sendNoContent(res);
  };

  const showVersion: Handler = async ({ res }) => {
    const text = `{"version": "${version}"}\n`;
    res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };

  return [
    { pattern: /^\/reset$/, methods: { POST: resetState } },
    { pattern: /^\/proxies$/, methods: { GET: proxyIndex, POST: proxyCreate } },
    { pattern: /^\/populate$/, methods: { POST: populate } },
    // POST on the update routes is Toxiproxy's deprecated spelling of PATCH.
    { pattern: /^\/proxies\/([^/]+)$/, methods: { GET: proxyShow, POST: proxyUpdate, PATCH: proxyUpdate, DELETE: proxyDelete } },
    { pattern: /^\/proxies\/([^/]+)\/toxics$/, methods: { GET: toxicIndex, POST: toxicCreate } },
    {
      pattern: /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
      methods: { GET: toxicShow, POST: toxicUpdate, PATCH: toxicUpdate, DELETE: toxicDelete },
    },
    { pattern: /^\/version$/, methods: { GET: showVersion } },
  ];
}

async function dispatch(routes: readonly Route[], req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      path = rawPath;
    }
    // gorilla/mux redirects unclean paths ("//proxies", "/a/../proxies").
    const clean = cleanPath(path);
    if (clean !== path) {
      res.writeHead(301, { Location: clean + (queryAt < 0 ? '' : target.slice(queryAt)) });
      res.end();
      return;
    }

    let pathMatched = false;
    for (const route of routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      pathMatched = true;
      const handler = route.methods[req.method ?? ''];
      if (!handler) continue;
      res.setHeader('X-Toxiproxy-Request-Id', randomBytes(10).toString('hex'));
      // Toxiproxy refuses browsers so that a web page cannot drive the API.
      if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
        sendText(res, 403, 'User agent not allowed\n');
        return;
      }
      const body = await readBody(req);
      await handler({ req, res, params: match.slice(1), body });
      return;
    }
    if (pathMatched) {
      res.writeHead(405);
      res.end();
    } else {
      sendText(res, 404, '404 page not found\n');
    }
  } catch (error) {
    if (res.headersSent) res.destroy();
    else sendError(res, toApiError(error));
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError('request body too large', 413));
        req.destroy();
        return;
      }
      parts.push(part);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** Go's path.Clean, keeping a trailing slash as gorilla/mux does. */
function cleanPath(path: string): string {
  if (path === '') return '/';
  const absolute = path.startsWith('/') ? path : `/${path}`;
  const parts: string[] = [];
  for (const part of absolute.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  let clean = `/${parts.join('/')}`;
  if (absolute.endsWith('/') && clean !== '/') clean += '/';
  return clean;
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const text = goJson(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Go's http.Error: the API error JSON as a text/plain line. */
function sendError(res: http.ServerResponse, error: ApiError): void {
  sendText(res, error.status, `${goJson(error.toJSON())}\n`);
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendNoContent(res: http.ServerResponse): void {
  res.writeHead(204);
  res.end();
}
