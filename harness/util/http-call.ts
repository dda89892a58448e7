import http from 'node:http';
import https from 'node:https';

/**
 * One HTTP request on its own connection, closed afterwards. The harness's control calls
 * (creating groups, GC and gauge samples) use it so they leave no keep-alive socket on the
 * server: leak checks compare the server's open fds exactly with a baseline.
 */
export function httpCall(
  url: string,
  opts: { method?: string; token?: string; body?: unknown; timeoutMs?: number; /** sent as is instead of `body` as JSON */ rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; contentType: string }> {
  return new Promise((resolve, reject) => {
    const payload = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    const headers: Record<string, string> = { ...opts.headers, connection: 'close' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (payload !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    // https for a deployment the harness did not start (--target --http https://…)
    const req = (url.startsWith('https:') ? https : http).request(url, { method: opts.method ?? 'GET', agent: false, headers, timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, contentType: res.headers['content-type'] ?? '' }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${opts.method ?? 'GET'} ${url}: no answer within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** GET <baseUrl>/readyz's status, 0 when it does not answer within `timeoutMs` (a node down, its port closed). */
export async function readyzStatus(baseUrl: string, timeoutMs = 2000): Promise<number> {
  try {
    return (await httpCall(`${baseUrl}/readyz`, { timeoutMs })).status;
  } catch {
    return 0;
  }
}
