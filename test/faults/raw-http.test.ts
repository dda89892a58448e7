// Exact status codes, headers and bodies over plain fetch(), as Toxiproxy
// 2.x's Go server produces them.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HOST, startHarness, startTcpServer, echo, type Harness, type TcpServer } from './helpers.ts';

let h: Harness;
let echoServer: TcpServer;

beforeAll(async () => {
  h = await startHarness();
  echoServer = await startTcpServer(echo);
});
afterEach(async () => h.clear());
afterAll(async () => {
  await h.close();
  await echoServer.close();
});

interface Reply {
  status: number;
  type: string | null;
  text: string;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers }, redirect: 'manual' };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${h.server.url}${path}`, init);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** Toxiproxy's errors: http.Error with the JSON on one text/plain line. */
function apiError(status: number, error: string): Omit<Reply, 'status'> & { status: number } {
  return { status, type: 'text/plain; charset=utf-8', text: `${JSON.stringify({ error, status })}\n` };
}

async function createEcho(name = 'echo') {
  const reply = await call('POST', '/proxies', { name, listen: `${HOST}:0`, upstream: echoServer.upstream });
  return JSON.parse(reply.text) as { listen: string };
}

describe('success responses', () => {
  it('GET /version', async () => {
    const reply = await call('GET', '/version');
    expect(reply.status).toBe(200);
    expect(reply.type).toBe('application/json;charset=utf-8');
    expect(reply.text).toMatch(/^\{"version": "2\.\d+\.\d+"\}\n$/);
  });

  it('POST /proxies answers 201 with the proxy, fields in Toxiproxy order', async () => {
    const reply = await call('POST', '/proxies', { name: 'echo', listen: `${HOST}:0`, upstream: echoServer.upstream });
    expect(reply.status).toBe(201);
    expect(reply.type).toBe('application/json');
    const { listen } = JSON.parse(reply.text) as { listen: string };
    expect(listen).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(reply.text).toBe(
      `{"name":"echo","listen":"${listen}","upstream":"${echoServer.upstream}","enabled":true,"toxics":[]}`,
    );
  });

  it('GET /proxies is an object keyed by proxy name', async () => {
    const a = await createEcho('a');
    const b = await createEcho('b');
    const reply = await call('GET', '/proxies');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({
      a: { name: 'a', listen: a.listen, upstream: echoServer.upstream, enabled: true, toxics: [] },
      b: { name: 'b', listen: b.listen, upstream: echoServer.upstream, enabled: true, toxics: [] },
    });
  });

  it('toxic create (200), show, update via PATCH and POST, list and delete (204)', async () => {
    await createEcho();
    const created = await call('POST', '/proxies/echo/toxics', { type: 'latency', attributes: { latency: 100 } });
    expect(created.status).toBe(200);
    expect(created.type).toBe('application/json');
    expect(created.text).toBe(
      '{"attributes":{"latency":100,"jitter":0},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1}',
    );

    const patched = await call('PATCH', '/proxies/echo/toxics/latency_downstream', {
      attributes: { jitter: 5 },
      toxicity: 0.3,
      // Ignored: only attributes and toxicity can change.
      stream: 'upstream',
      name: 'renamed',
    });
    expect(patched.status).toBe(200);
    expect(patched.text).toBe(
      '{"attributes":{"latency":100,"jitter":5},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":0.3}',
    );
    const posted = await call('POST', '/proxies/echo/toxics/latency_downstream', { attributes: { latency: 7 } });
    expect(JSON.parse(posted.text).attributes).toEqual({ latency: 7, jitter: 5 });

    const listed = await call('GET', '/proxies/echo/toxics');
    expect(JSON.parse(listed.text)).toEqual([JSON.parse(posted.text)]);
    expect((await call('GET', '/proxies/echo/toxics/latency_downstream')).text).toBe(posted.text);

    const deleted = await call('DELETE', '/proxies/echo/toxics/latency_downstream');
    expect(deleted).toEqual({ status: 204, type: null, text: '' });
    expect((await call('GET', '/proxies/echo/toxics')).text).toBe('[]');
  });

  it('every toxic type reports its attributes with zero defaults', async () => {
    await createEcho();
    const expected: Record<string, Record<string, number>> = {
      latency: { latency: 0, jitter: 0 },
      bandwidth: { rate: 0 },
      slow_close: { delay: 0 },
      timeout: { timeout: 0 },
      reset_peer: { timeout: 0 },
      slicer: { average_size: 0, size_variation: 0, delay: 0 },
      limit_data: { bytes: 0 },
      noop: {},
    };
    for (const [type, attributes] of Object.entries(expected)) {
      const reply = await call('POST', '/proxies/echo/toxics', { type, stream: 'upstream', toxicity: 0 });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toEqual({ attributes, name: `${type}_upstream`, type, stream: 'upstream', toxicity: 0 });
    }
  });

  it('proxy update via PATCH and POST; DELETE answers 204', async () => {
    const { listen } = await createEcho();
    const patched = await call('PATCH', '/proxies/echo', { enabled: false });
    expect(patched.status).toBe(200);
    expect(patched.text).toBe(`{"name":"echo","listen":"${listen}","upstream":"${echoServer.upstream}","enabled":false,"toxics":[]}`);
    const posted = await call('POST', '/proxies/echo', { enabled: true });
    expect(JSON.parse(posted.text).enabled).toBe(true);
    expect(await call('DELETE', '/proxies/echo')).toEqual({ status: 204, type: null, text: '' });
  });

  it('POST /populate answers 201 with {"proxies": [...]}, and POST /reset 204', async () => {
    const reply = await call('POST', '/populate', [{ name: 'p1', listen: `${HOST}:0`, upstream: echoServer.upstream }]);
    expect(reply.status).toBe(201);
    expect(reply.type).toBe('application/json');
    const body = JSON.parse(reply.text) as { proxies: Array<{ name: string; enabled: boolean }> };
    expect(Object.keys(body)).toEqual(['proxies']);
    expect(body.proxies.map((p) => [p.name, p.enabled])).toEqual([['p1', true]]);

    expect(await call('POST', '/reset')).toEqual({ status: 204, type: null, text: '' });
  });

  it('matches field names case-insensitively and ignores unknown fields, like Go', async () => {
    const reply = await call('POST', '/proxies', { Name: 'cased', LISTEN: `${HOST}:0`, upstream: echoServer.upstream, extra: 1 });
    expect(reply.status).toBe(201);
    expect(JSON.parse(reply.text).name).toBe('cased');
  });
});

describe('error responses', () => {
  it('404 for a missing proxy or toxic', async () => {
    expect(await call('GET', '/proxies/nope')).toEqual(apiError(404, 'proxy not found'));
    expect(await call('DELETE', '/proxies/nope')).toEqual(apiError(404, 'proxy not found'));
    expect(await call('POST', '/proxies/nope/toxics', { type: 'latency' })).toEqual(apiError(404, 'proxy not found'));
    await createEcho();
    expect(await call('GET', '/proxies/echo/toxics/nope')).toEqual(apiError(404, 'toxic not found'));
    expect(await call('PATCH', '/proxies/echo/toxics/nope', { attributes: {} })).toEqual(apiError(404, 'toxic not found'));
    expect(await call('DELETE', '/proxies/echo/toxics/nope')).toEqual(apiError(404, 'toxic not found'));
  });

  it('409 for a duplicate proxy or toxic', async () => {
    await createEcho();
    expect(await call('POST', '/proxies', { name: 'echo', listen: `${HOST}:0`, upstream: echoServer.upstream })).toEqual(
      apiError(409, 'proxy already exists'),
    );
    await call('POST', '/proxies/echo/toxics', { type: 'timeout' });
    expect(await call('POST', '/proxies/echo/toxics', { type: 'timeout', attributes: { timeout: 1 } })).toEqual(
      apiError(409, 'toxic already exists'),
    );
  });

  it('400 for proxy bodies that are not JSON, lack a field, or have a wrongly typed field', async () => {
    expect(await call('POST', '/proxies', '')).toEqual(apiError(400, 'bad request body: EOF'));
    const garbage = await call('POST', '/proxies', 'not json');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.text)).toEqual({ error: expect.stringMatching(/^bad request body: /), status: 400 });
    expect(await call('POST', '/proxies', {})).toEqual(apiError(400, 'missing required field: name'));
    expect(await call('POST', '/proxies', { name: 'x' })).toEqual(apiError(400, 'missing required field: upstream'));
    expect(await call('POST', '/proxies', { name: 5, upstream: 'x:1' })).toEqual(
      apiError(400, 'bad request body: json: cannot unmarshal number into Go struct field Proxy.name of type string'),
    );
    expect(await call('POST', '/proxies', { name: 'x', upstream: 'x:1', enabled: 'yes' })).toEqual(
      apiError(400, 'bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled of type bool'),
    );
    expect(await call('POST', '/proxies', [])).toEqual(
      apiError(400, 'bad request body: json: cannot unmarshal array into Go value of type toxiproxy.Proxy'),
    );
  });

  it('400 for toxic bodies: invalid stream, invalid type, wrongly typed attribute or toxicity', async () => {
    await createEcho();
    expect(await call('POST', '/proxies/echo/toxics', { type: 'latency', stream: 'sideways' })).toEqual(
      apiError(400, 'stream was invalid, can be either upstream or downstream'),
    );
    expect(await call('POST', '/proxies/echo/toxics', { type: 'explode' })).toEqual(apiError(400, 'invalid toxic type'));
    expect(await call('POST', '/proxies/echo/toxics', {})).toEqual(apiError(400, 'invalid toxic type'));
    expect(await call('POST', '/proxies/echo/toxics', { type: 'latency', attributes: { latency: 'slow' } })).toEqual(
      apiError(400, 'bad request body: json: cannot unmarshal string into Go struct field .attributes.latency of type int64'),
    );
    expect(await call('POST', '/proxies/echo/toxics', { type: 'latency', attributes: { latency: 1.5 } })).toEqual(
      apiError(400, 'bad request body: json: cannot unmarshal number 1.5 into Go struct field .attributes.latency of type int64'),
    );
    expect(await call('POST', '/proxies/echo/toxics', { type: 'latency', toxicity: 'high' })).toEqual(
      apiError(400, 'bad request body: json: cannot unmarshal string into Go struct field ToxicWrapper.toxicity of type float32'),
    );
    await call('POST', '/proxies/echo/toxics', { type: 'latency' });
    expect(await call('PATCH', '/proxies/echo/toxics/latency_downstream', { attributes: { jitter: true } })).toEqual(
      apiError(400, 'bad request body: json: cannot unmarshal bool into Go struct field .attributes.jitter of type int64'),
    );
  });

  it('populate errors carry the proxies created so far', async () => {
    const missing = await call('POST', '/populate', [{ listen: `${HOST}:0`, upstream: echoServer.upstream }]);
    expect(missing.status).toBe(400);
    expect(missing.type).toBe('application/json');
    expect(missing.text).toBe('{"error":"missing required field: name at proxy 1","status":400,"proxies":null}');

    const second = await call('POST', '/populate', [
      { name: 'ok', listen: `${HOST}:0`, upstream: echoServer.upstream },
      { name: 'bad' },
    ]);
    expect(JSON.parse(second.text)).toEqual({ error: 'missing required field: upstream at proxy 2', status: 400, proxies: null });

    const { listen } = await createEcho('taken');
    const clash = await call('POST', '/populate', [
      { name: 'first', listen: `${HOST}:0`, upstream: echoServer.upstream },
      { name: 'second', listen, upstream: echoServer.upstream },
    ]);
    expect(clash.status).toBe(500);
    const body = JSON.parse(clash.text) as { error: string; status: number; proxies: Array<{ name: string }> };
    expect(body.error).toBe(`listen tcp ${listen}: bind: address already in use`);
    expect(body.proxies.map((p) => p.name)).toEqual(['first']);
  });

  it('unknown routes 404, wrong methods 405, browsers 403', async () => {
    expect(await call('GET', '/nowhere')).toEqual({ status: 404, type: 'text/plain; charset=utf-8', text: '404 page not found\n' });
    expect(await call('PUT', '/proxies')).toEqual({ status: 405, type: null, text: '' });
    expect(await call('GET', '/reset')).toEqual({ status: 405, type: null, text: '' });
    expect(await call('GET', '/proxies', undefined, { 'User-Agent': 'Mozilla/5.0' })).toEqual({
      status: 403,
      type: 'text/plain; charset=utf-8',
      text: 'User agent not allowed\n',
    });
  });
});
