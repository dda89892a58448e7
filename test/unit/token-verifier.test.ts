// The node's token check (server/gateway/tokens.ts) against tokens made by another library
// (jose): what PROTOCOL.md "Tokens" accepts, and every refusal naming what is wrong.
import { SignJWT, base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../server/gateway/tokens.ts';

const SECRET = 'a'.repeat(32);
const ADMIN = 'b'.repeat(32);
const enc = (s: string) => new TextEncoder().encode(s);
const now = () => Math.floor(Date.now() / 1000);

function sign(claims: Record<string, unknown>, o: { secret?: string; header?: Record<string, unknown> } = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...o.header } as never).sign(enc(o.secret ?? SECRET));
}
/** A token put together by hand: any header and payload, signed with HS256 over them. */
async function raw(header: unknown, payload: unknown, secret = SECRET): Promise<string> {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  const { createHmac } = await import('node:crypto');
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
const refusal = async (v: TokenVerifier, token: unknown) => {
  try {
    await v.verify(token);
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
};

describe('TokenVerifier', () => {
  const v = new TokenVerifier({ secret: SECRET, maxAgeS: 0 });

  it('accepts an HS256 token with sub and exp: its user, device (default), expiry', async () => {
    const exp = now() + 600;
    expect(await v.verify(await sign({ sub: 'alice', dev: 'phone', exp }))).toEqual({ user: 'alice', device: 'phone', admin: false, expMs: exp * 1000 });
    expect(await v.verify(await sign({ sub: 'bob', exp, iat: now() }))).toMatchObject({ user: 'bob', device: 'default' });
  });

  it('refuses, naming what is wrong: expiry, missing claims, bad ids, a non-numeric iat, nbf ahead', async () => {
    expect(await refusal(v, await sign({ sub: 'a', exp: now() - 5 }))).toBe('token expired');
    expect(await refusal(v, await sign({ exp: now() + 60 }))).toBe('token `sub` is required');
    expect(await refusal(v, await sign({ sub: 'a' }))).toBe('token `exp` is required');
    expect(await refusal(v, await sign({ sub: 'a', exp: String(now() + 60) }))).toBe('token `exp` is not accepted here');
    expect(await refusal(v, await sign({ sub: 'a b', exp: now() + 60 }))).toBe('token `sub` is not a valid user id');
    expect(await refusal(v, await sign({ sub: 'a', dev: '', exp: now() + 60 }))).toBe('token `dev` is not a valid device id');
    expect(await refusal(v, await sign({ sub: 'a', exp: now() + 60, iat: 'yesterday' }))).toBe('token `iat` is not accepted here');
    expect(await refusal(v, await sign({ sub: 'a', exp: now() + 60, nbf: now() + 30 }))).toBe('token `nbf` is not accepted here');
    expect(await refusal(v, '')).toBe('missing token');
    expect(await refusal(v, 42)).toBe('missing token');
    expect(await refusal(v, 'x'.repeat(8193))).toBe('missing token');
  });

  it('refuses other algorithms, other keys, unknown critical headers, tampering and garbage as "invalid token"', async () => {
    const claims = { sub: 'a', exp: now() + 60 };
    const good = await sign(claims);
    const [h, p] = good.split('.');
    for (const [what, token] of [
      ['alg none', `${base64url.encode('{"alg":"none"}')}.${p}.`],
      ['alg HS512', await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).sign(enc(SECRET))],
      ['alg RS256 header, HMAC signature', await raw({ alg: 'RS256' }, claims)],
      ['another key', await sign(claims, { secret: 'c'.repeat(32) })],
      ['an unknown critical header', await raw({ alg: 'HS256', crit: ['x-ext'], 'x-ext': 1 }, claims)],
      ['payload swapped', `${h}.${base64url.encode(JSON.stringify({ sub: 'mallory', exp: now() + 60 }))}.${good.split('.')[2]}`],
      ['signature cut', good.slice(0, -3)],
      ['no signature', `${h}.${p}`],
      ['payload not an object', await raw({ alg: 'HS256' }, ['a'])],
      ['not a JWT', 'hello.world.again'],
    ] as const) expect(await refusal(v, token), what).toBe('invalid token');
  });

  it('JWT_AUDIENCE / JWT_ISSUER: required when set, and must match', async () => {
    const va = new TokenVerifier({ secret: SECRET, maxAgeS: 0, audience: 'imstorm', issuer: 'https://auth.example' });
    const base = { sub: 'a', exp: now() + 60 };
    expect(await refusal(va, await sign({ ...base, aud: 'imstorm', iss: 'https://auth.example' }))).toBe('accepted');
    expect(await refusal(va, await sign({ ...base, aud: ['other', 'imstorm'], iss: 'https://auth.example' }))).toBe('accepted');
    expect(await refusal(va, await sign({ ...base, iss: 'https://auth.example' }))).toBe('token `aud` is required');
    expect(await refusal(va, await sign({ ...base, aud: 'imstorm' }))).toBe('token `iss` is required');
    expect(await refusal(va, await sign({ ...base, aud: 'other', iss: 'https://auth.example' }))).toBe('token `aud` is not accepted here');
    expect(await refusal(va, await sign({ ...base, aud: 'imstorm', iss: 'https://evil.example' }))).toBe('token `iss` is not accepted here');
    // unset, they are not looked at
    expect(await refusal(v, await sign({ ...base, aud: 'anything', iss: 'anyone' }))).toBe('accepted');
  });

  it('ADMIN_JWT_SECRET: `adm` tokens only with the operator key; user tokens with the user key; JWT_MAX_AGE_S', async () => {
    const vo = new TokenVerifier({ secret: SECRET, adminSecret: ADMIN, maxAgeS: 3600 });
    const exp = now() + 60;
    expect(await vo.verify(await sign({ sub: 'op', adm: true, exp }, { secret: ADMIN }))).toMatchObject({ admin: true });
    expect(await refusal(vo, await sign({ sub: 'op', adm: true, exp }))).toBe('operator tokens (`adm`) must be signed with the operator key');
    expect(await vo.verify(await sign({ sub: 'u', exp }))).toMatchObject({ admin: false });
    expect(await refusal(vo, await sign({ sub: 'op', adm: true, exp: now() - 1 }, { secret: ADMIN }))).toBe('token expired');
    expect(await refusal(vo, await sign({ sub: 'u', exp, iat: now() - 7200 }))).toMatch(/^token too old/);
    expect(await refusal(vo, await sign({ sub: 'u', exp: now() + 7200 }))).toMatch(/^token lifetime over 3600 s/);
    // without an operator key, the user key signs `adm` tokens too
    expect(await v.verify(await sign({ sub: 'op', adm: true, exp }))).toMatchObject({ admin: true });
  });
});
