import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { lifetimeSeconds, mintToken } from '../../harness/util/tokens.ts';
import { TokenVerifier } from '../../server/gateway/tokens.ts';

// The harness mints its tokens by hand (node:crypto); jose, another library than both the
// harness's and the server's (fast-jwt), is the judge of every one, and so is the server's check.
const secret = 'a-secret-of-32-characters-at-ls!';
const key = new TextEncoder().encode(secret);

describe('mintToken', () => {
  it('mints an HS256 JWT that jose and the server accept, with sub, dev and exp', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await mintToken(secret, 'alice', { dev: 'd1', expiresIn: '2h' });
    const { payload, protectedHeader } = await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
    expect(protectedHeader).toEqual({ alg: 'HS256' });
    expect(payload.sub).toBe('alice');
    expect(payload.dev).toBe('d1');
    expect(payload.exp! - before).toBeGreaterThanOrEqual(7200);
    expect(payload.exp! - before).toBeLessThanOrEqual(7201);
    const id = await new TokenVerifier({ secret, maxAgeS: 0 }).verify(token);
    expect(id).toMatchObject({ user: 'alice', device: 'd1', admin: false });
  });

  it('without dev the server takes its default device; one hour by default', async () => {
    const token = await mintToken(secret, 'bob');
    const { payload } = await jwtVerify(token, key);
    expect(payload.dev).toBeUndefined();
    expect(payload.exp! - Math.floor(Date.now() / 1000)).toBeGreaterThan(3590);
    expect((await new TokenVerifier({ secret, maxAgeS: 0 }).verify(token)).device).toBe('default');
  });

  it('a token minted with another secret is refused', async () => {
    const token = await mintToken('another-secret-of-32-characters!', 'alice');
    await expect(jwtVerify(token, key)).rejects.toThrow(/signature/);
  });

  it('lifetimes: seconds, minutes, hours, days; anything else is refused naming the forms', () => {
    expect([lifetimeSeconds('90s'), lifetimeSeconds('1m'), lifetimeSeconds('12h'), lifetimeSeconds('2d')]).toEqual([90, 60, 43_200, 172_800]);
    expect(() => lifetimeSeconds('1 week')).toThrow(/token lifetime "1 week": give a whole number of seconds, minutes, hours or days/);
  });
});
