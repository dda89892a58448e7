// Issue 8 item 5, "Storage without bounds": what one account can make Redis hold. The
// stored (JSON-escaped) size of a body is bounded, the HTTP request body cap follows
// MAX_BODY_BYTES, and conversations nobody writes to any more are reclaimed in the
// background (RETENTION_MS, DEDUPE_TTL_MS) — real redis-server, real server processes.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromSnapshot } from '../../harness/measure/prometheus.ts';
import { connectAs, startCluster, type Cluster } from '../helpers/cluster.ts';
import { api } from '../helpers/http.ts';
import { dm, uid } from '../helpers/ids.ts';
import type { NodeHandle } from '../helpers/nodes.ts';
import { waitUntil } from '../helpers/procs.ts';
import { token } from '../helpers/tokens.ts';

const MAX_BODY_BYTES = 1000;
/** 6 × MAX_BODY_BYTES + 1024 (README "Server configuration") */
const MESSAGE_REQUEST_CAP = 6 * MAX_BODY_BYTES + 1024;

let cl: Cluster;
let node: NodeHandle;
beforeAll(async () => {
  cl = await startCluster({ env: { MAX_BODY_BYTES } });
  node = cl.nodes[0]!;
});
afterAll(async () => {
  await cl?.cleanup();
});

const xlen = (c: Cluster, conv: string) => c.redis.command('XLEN', `c:{${conv}}:l`).then(Number);
/** the stored body of seq 1 (the stream's `b` field: the body's JSON string literal) */
async function storedBody(c: Cluster, conv: string): Promise<string> {
  const [[, fields]] = (await c.redis.command('XRANGE', `c:{${conv}}:l`, '1-0', '1-0')) as [[string, string[]]];
  return fields[fields.indexOf('b') + 1]!;
}

describe('the stored bytes of a body are bounded, not only its decoded bytes', () => {
  const controls = '\u0001'.repeat(MAX_BODY_BYTES); // 1000 bytes decoded, 6000 once JSON-escaped

  it('a body of control characters within MAX_BODY_BYTES, 6× larger once escaped, is too_large on WebSocket and HTTP; nothing is stored', async () => {
    const s = uid('s');
    const conv = dm(s, uid('r'));
    const c = cl.track(await connectAs(node, s));
    const ws = await c.request({ t: 'send', conv, cmid: 'ctl', body: controls });
    expect(ws).toMatchObject({ t: 'error', code: 'too_large', retryable: false, message: expect.stringContaining(`${2 * MAX_BODY_BYTES} bytes once JSON-escaped`) });
    const res = await api(node.url, 'POST', '/v1/messages', { token: await token({ sub: s }), body: { conv, cmid: 'ctl-http', body: controls } });
    expect(res.status, res.text).toBe(413);
    expect(res.body).toMatchObject({ code: 'too_large', message: expect.stringContaining('MAX_BODY_BYTES') });
    expect(await xlen(cl, conv)).toBe(0);
  });

  it('honest text within MAX_BODY_BYTES is stored whatever it escapes: line breaks, quotes, backslashes, tabs, emoji (at most 2× stored)', async () => {
    const s = uid('s');
    const conv = dm(s, uid('r'));
    const c = cl.track(await connectAs(node, s));
    const escapes = '"\\\n\t'.repeat(MAX_BODY_BYTES / 4); // every byte escaped in two
    const emoji = '😀'.repeat(MAX_BODY_BYTES / 4);
    const mixed = `${'a\u001b[31m'.repeat(90)}${'x'.repeat(MAX_BODY_BYTES - 540)}`; // terminal colours
    for (const [i, body] of [escapes, emoji, mixed].entries()) {
      expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
      expect(await c.request({ t: 'send', conv, cmid: `ok${i}`, body })).toMatchObject({ t: 'sent', seq: i + 1 });
    }
    expect(await storedBody(cl, conv)).toBe(JSON.stringify(escapes));
    expect(JSON.stringify(escapes).length - 2).toBe(2 * MAX_BODY_BYTES);
    const over = await c.request({ t: 'send', conv, cmid: 'over', body: 'x'.repeat(MAX_BODY_BYTES + 1) });
    expect(over).toMatchObject({ t: 'error', code: 'too_large', message: expect.stringContaining(`${MAX_BODY_BYTES} bytes (MAX_BODY_BYTES)`) });
  });
});

describe('the HTTP request body cap follows MAX_BODY_BYTES', () => {
  it(`a message request over 6 × MAX_BODY_BYTES + 1024 (${MESSAGE_REQUEST_CAP} bytes) is 413 too_large naming the limit, announced or streamed; one within it is read`, async () => {
    const s = uid('s');
    const tok = await token({ sub: s });
    const conv = dm(s, uid('r'));
    // within the cap: a body of MAX_BODY_BYTES, every byte written as a \u escape (6000 bytes of JSON)
    const escaped = `{"conv":"${conv}","cmid":"esc","body":"${'\\u0041'.repeat(MAX_BODY_BYTES)}"}`;
    const ok = await api(node.url, 'POST', '/v1/messages', { token: tok, rawBody: escaped });
    expect(ok.status, ok.text).toBe(201);
    // over it, though the body itself is small: padding the old 1 MiB cap let through
    const padded = `{"conv":"${conv}","cmid":"pad","body":"x"${' '.repeat(MESSAGE_REQUEST_CAP)}}`;
    const refused = await api(node.url, 'POST', '/v1/messages', { token: tok, rawBody: padded });
    expect(refused.status, refused.text).toBe(413);
    expect(refused.body).toEqual({ code: 'too_large', message: `request body over ${MESSAGE_REQUEST_CAP} bytes (6 × MAX_BODY_BYTES + 1024)` });
    // streamed without a Content-Length, 2 MiB: answered 413 JSON (not a reset), and the socket stays usable
    const streamed = await chunkedPost(node, '/v1/messages', tok, 2 << 20);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.text)).toMatchObject({ code: 'too_large', message: expect.stringContaining(`${MESSAGE_REQUEST_CAP} bytes`) });
    expect(await xlen(cl, conv)).toBe(1);
  });
});

/** POST `total` bytes of JSON-ish padding in 64 KiB chunks (Transfer-Encoding: chunked) and read the answer. */
function chunkedPost(n: NodeHandle, path: string, tok: string, total: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${n.url}${path}`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 << 10, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    req.write('{"conv":"dm:a:b","cmid":"c","body":"x"');
    pump();
  });
}

describe('conversations nobody writes to any more are reclaimed in the background', () => {
  const RETENTION_MS = 1000;
  const DEDUPE_TTL_MS = 6000;
  let rc: Cluster;
  beforeAll(async () => {
    // two nodes: both run the reclaimer over the same conversations
    rc = await startCluster({ nodes: 2, env: { RETENTION_MS, DEDUPE_TTL_MS, RECLAIM_INTERVAL_MS: 200 } });
  });
  afterAll(async () => {
    await rc?.cleanup();
  });

  const exists = (key: string) => rc.redis.command('EXISTS', key).then(Number);

  it('RETENTION_MS holds within a bounded delay without another write (a retry still answers dup, a device gets a trimmed gap), then DEDUPE_TTL_MS; counted once in imstorm_reclaimed_total', async () => {
    const [a, b] = [uid('a'), uid('b')];
    const conv = dm(a, b);
    const group = uid('g');
    const tokA = await token({ sub: a });
    expect((await api(rc.nodes[0]!.url, 'POST', '/v1/groups', { token: tokA, body: { id: group, members: [b] } })).status).toBe(201);
    const ca = rc.track(await connectAs(rc.nodes[0]!, a));
    for (let i = 1; i <= 3; i++) expect(await ca.request({ t: 'send', conv, cmid: `c${i}`, body: `m${i}` })).toMatchObject({ t: 'sent', seq: i });
    for (let i = 1; i <= 2; i++) expect(await ca.request({ t: 'send', conv: `g:${group}`, cmid: `g${i}`, body: `m${i}` })).toMatchObject({ t: 'sent', seq: i });
    const sentAt = Date.now();

    await waitUntil(async () => (await xlen(rc, conv)) === 0 && (await xlen(rc, `g:${group}`)) === 0, { what: 'the idle dm and group trimmed', timeoutMs: 15_000, intervalMs: 100 });
    const trimmedAfter = Date.now() - sentAt;
    expect(trimmedAfter).toBeGreaterThanOrEqual(RETENTION_MS - 100);
    // guarantee 2: the dedupe entry outlives its trimmed message
    expect(await ca.request({ t: 'send', conv, cmid: 'c2', body: 'again' })).toMatchObject({ t: 'sent', seq: 2, dup: true });
    const cb = rc.track(await connectAs(rc.nodes[1]!, b));
    await cb.waitSynced();
    expect(cb.frames.filter((f) => f.conv === conv && (f.t === 'conv' || f.t === 'gap' || f.t === 'msg'))).toEqual([
      expect.objectContaining({ t: 'conv', cursor: 0, head: 3 }),
      expect.objectContaining({ t: 'gap', from: 1, to: 3, trimmed: true }),
    ]);

    await waitUntil(async () => (await exists(`c:{${conv}}:d`)) + (await exists(`c:{${conv}}:dx`)) + (await exists(`c:{g:${group}}:d`)) === 0, { what: 'the dedupe entries expired', timeoutMs: 20_000, intervalMs: 200 });
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(DEDUPE_TTL_MS - 100);
    const reclaimed = async (what: string) => {
      let n = 0;
      for (const node of rc.nodes) n += new PromSnapshot(await (await fetch(`${node.url}/metrics`)).text()).value('imstorm_reclaimed_total', { what }) ?? 0;
      return n;
    };
    expect(await reclaimed('messages')).toBe(5);
    expect(await reclaimed('dedupe_entries')).toBe(5);
    // everything expired: the cmid is forgotten, and the conversation is reclaimed again
    expect(await ca.request({ t: 'send', conv, cmid: 'c2', body: 'new' })).toMatchObject({ t: 'sent', seq: 4, dup: false });
    await waitUntil(async () => (await xlen(rc, conv)) === 0, { what: 'the dm trimmed again', timeoutMs: 15_000, intervalMs: 100 });
  }, 60_000);
});
