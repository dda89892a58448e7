// HS256 JWTs for tests, signed with the secret every test node is started with.
import { SignJWT } from 'jose';

export const DEFAULT_JWT_SECRET = 'imstorm-test-secret-0123456789abcdef0123456789abcdef';

export interface TokenOptions {
  sub: string;
  dev?: string;
  adm?: boolean;
  /** Seconds from now until `exp` (negative: already expired). Default 3600. */
  expInSec?: number;
  secret?: string;
}

export async function token({ sub, dev, adm, expInSec = 3600, secret = DEFAULT_JWT_SECRET }: TokenOptions): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (dev !== undefined) claims.dev = dev;
  if (adm !== undefined) claims.adm = adm;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expInSec)
    .sign(new TextEncoder().encode(secret));
}

/** A JWT with exactly these claims (e.g. without `exp` or `sub`), signed HS256. */
export async function tokenWithClaims(claims: Record<string, unknown>, secret = DEFAULT_JWT_SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

/** An unsigned (`alg: none`) token with otherwise valid claims. */
export function unsignedToken(sub: string, dev?: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const payload: Record<string, unknown> = { sub, exp: Math.floor(Date.now() / 1000) + 3600 };
  if (dev !== undefined) payload.dev = dev;
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}
