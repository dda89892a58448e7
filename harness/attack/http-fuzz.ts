// HTTP fuzz on every route of PROTOCOL.md "HTTP": fast-check requests with exactly one
// defect each (no or a bad token, a body that is not JSON or has ill-typed fields, a body
// past the cap, malformed query numbers or percent-encoding, an unknown route or method,
// an operator route with a user token), so the answer PROTOCOL.md defines is known.
import fc from 'fast-check';
import { attackerUser, going, timed, userToken, type AttackContext, type AttackNode } from './context.ts';
import { sampled } from './frames.ts';
import { httpAttempt } from './raw-tcp.ts';

interface FuzzRequest {
  kind: string;
  method: string;
  path: string;
  /** token: 'user' (valid), 'none', or a bad token text */
  token: 'user' | 'none' | string;
  body?: string;
}

const ROUTES: { method: string; path: (me: string) => string; body?: boolean }[] = [
  { method: 'POST', path: () => '/v1/messages', body: true },
  { method: 'GET', path: () => '/v1/conversations' },
  { method: 'GET', path: (me) => `/v1/conversations/dm:${me}:${me}z/messages` },
  { method: 'POST', path: () => '/v1/groups', body: true },
  { method: 'GET', path: () => '/v1/groups/hxnone' },
  { method: 'POST', path: () => '/v1/groups/hxnone/members', body: true },
  { method: 'DELETE', path: (me) => `/v1/groups/hxnone/members/${me}` },
  { method: 'GET', path: () => '/v1/presence?users=a,b' },
  { method: 'DELETE', path: () => '/v1/users/hxv/sessions' },
];

function requests(me: string): fc.Arbitrary<FuzzRequest> {
  const route = fc.constantFrom(...ROUTES);
  const bodyRoute = fc.constantFrom(...ROUTES.filter((r) => r.body));
  const wrongTyped = fc.oneof(fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)), fc.record({ conv: fc.integer(), cmid: fc.boolean(), body: fc.constant(null), id: fc.array(fc.integer()), members: fc.string(), users: fc.integer() }, { requiredKeys: [] }));
  return fc.oneof(
    route.chain((r) => fc.oneof(fc.constant('none'), fc.constant('Bearer'), fc.string({ minLength: 1, maxLength: 30 }).filter((s) => /^[\x21-\x7e]+$/.test(s))).map((token): FuzzRequest => ({ kind: 'http.bad-token', method: r.method, path: r.path(me), token, body: r.body ? '{}' : undefined }))),
    bodyRoute.chain((r) => fc.string({ maxLength: 30 }).map((s) => `{${s}`).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } }).map((body): FuzzRequest => ({ kind: r.path(me).startsWith('/v1/groups') ? 'http.group-bad-body' : 'http.bad-body', method: r.method, path: r.path(me), token: 'user', body }))),
    bodyRoute.chain((r) => wrongTyped.map((v): FuzzRequest => ({ kind: r.path(me).startsWith('/v1/groups') ? 'http.group-bad-body' : 'http.bad-body', method: r.method, path: r.path(me), token: 'user', body: JSON.stringify(v) }))),
    fc.oneof(fc.constant('abc'), fc.constant('-1'), fc.constant('1e3'), fc.constant('0x10'), fc.constant('1.5'), fc.constant('99999999999999999999')).chain((n) =>
      fc.constantFrom('after', 'before', 'limit').map((q): FuzzRequest => ({ kind: 'http.bad-query', method: 'GET', path: `/v1/conversations/dm:${me}:${me}z/messages?${q}=${n}`, token: 'user' })),
    ),
    fc.constantFrom('bad!id', 'a,,b!', '%20').map((u): FuzzRequest => ({ kind: 'http.bad-query', method: 'GET', path: `/v1/presence?users=${u}`, token: 'user' })),
    fc.constantFrom('/%ZZ', '/v1/%ZZ', '/v1/groups/%E0%A4%A', '/v1/conversations/%/messages').map((path): FuzzRequest => ({ kind: 'http.bad-percent', method: 'GET', path, token: 'user' })),
    fc.string({ minLength: 1, maxLength: 12 }).filter((s) => /^[a-z]+$/.test(s) && !['messages', 'conversations', 'groups', 'presence', 'users'].includes(s)).map((s): FuzzRequest => ({ kind: 'http.unknown-route', method: 'GET', path: `/v1/${s}`, token: 'user' })),
    fc.constantFrom('PUT', 'PATCH', 'DELETE').map((method): FuzzRequest => ({ kind: 'http.unknown-route', method, path: '/v1/messages', token: 'user' })),
    fc.tuple(fc.constantFrom('/healthz', '/readyz'), fc.string({ maxLength: 20 })).map(([p, q]): FuzzRequest => ({ kind: 'http.health', method: 'GET', path: `${p}?${encodeURIComponent(q)}`, token: 'none' })),
    fc.constantFrom('/healthz', '/readyz', '/metrics').chain((path) => fc.constantFrom('POST', 'PUT', 'DELETE').map((method): FuzzRequest => ({ kind: 'http.unknown-route', method, path, token: 'none', body: '{}' }))),
    fc.constant<FuzzRequest>({ kind: 'http.not-operator', method: 'DELETE', path: '/v1/users/hxv/sessions', token: 'user' }),
    fc.constant<FuzzRequest>({ kind: 'http.not-member', method: 'GET', path: `/v1/conversations/dm:hxa1:hxa2/messages`, token: 'user' }),
  );
}

export async function httpFuzz(ctx: AttackContext, node: AttackNode, nodeIndex: number, count: number, bigBodies: number): Promise<void> {
  await timed(ctx, 'http-fuzz', node, async () => {
    const me = attackerUser(ctx, 'z');
    const token = await userToken(ctx.jwtSecret, me);
    let i = 0;
    const gen = sampled(requests(me), ctx.seed + 5000 + nodeIndex, count);
    const worker = async () => {
      for (;;) {
        if (!going(ctx, i, count)) return;
        const r = gen.next();
        if (r.done) return;
        i++;
        const q = r.value;
        const headers: Record<string, string> = q.token === 'user' ? { authorization: `Bearer ${token}` } : q.token === 'none' ? {} : { authorization: q.token.startsWith('Bearer') ? q.token : `Bearer ${q.token}` };
        const answer = await httpAttempt(`${node.url}${q.path}`, { method: q.method, headers, rawBody: q.body });
        ctx.log.one('http-fuzz', q.kind, node.id, `${q.method} ${q.path} (${q.token === 'user' ? 'valid token' : q.token === 'none' ? 'no token' : `token ${q.token.slice(0, 20)}`}) ${q.body?.slice(0, 80) ?? ''}`, answer);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    // bodies past the HTTP cap
    for (let b = 0; going(ctx, b, bigBodies); b++) {
      const body = JSON.stringify({ conv: `dm:${me}:${me}z`, cmid: `big${b}`, body: 'x'.repeat(2 * 1024 * 1024) });
      ctx.log.one('http-fuzz', 'http.body-past-cap', node.id, `POST /v1/messages with a ${body.length}-byte body`, await httpAttempt(`${node.url}/v1/messages`, { method: 'POST', token, rawBody: body }));
    }
    return { requests: i, bigBodies, seed: ctx.seed + 5000 + nodeIndex };
  });
}
