import { jwtVerify, errors as joseErrors } from 'jose';
import { USER_ID_RE } from '../protocol/ids.ts';

/** A verified token's identity. */
export interface Identity {
  user: string;
  device: string;
  admin: boolean;
  /** ms since the Unix epoch */
  expMs: number;
}

export class TokenError extends Error {}

/** Verifies an HS256 JWT per PROTOCOL.md "Tokens"; throws TokenError naming what is wrong. */
export class TokenVerifier {
  private readonly key: Uint8Array;
  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async verify(token: unknown): Promise<Identity> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw new TokenError('missing token');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new TokenError('token expired');
      throw new TokenError('invalid token');
    }
    const sub = payload.sub;
    const dev = payload.dev ?? 'default';
    if (typeof sub !== 'string' || !USER_ID_RE.test(sub)) throw new TokenError('token `sub` is not a valid user id');
    if (typeof dev !== 'string' || !USER_ID_RE.test(dev)) throw new TokenError('token `dev` is not a valid device id');
    if (typeof payload.exp !== 'number') throw new TokenError('token `exp` is required');
    return { user: sub, device: dev, admin: payload.adm === true, expMs: payload.exp * 1000 };
  }
}
