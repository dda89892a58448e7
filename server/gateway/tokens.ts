import { webcrypto } from 'node:crypto';
import { jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
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

export interface TokenRules {
  /** JWT_SECRET: signs user tokens (and operator tokens when `adminSecret` is unset) */
  secret: string;
  /** ADMIN_JWT_SECRET: when set, the only key `adm` tokens are accepted with */
  adminSecret?: string | undefined;
  /** JWT_AUDIENCE / JWT_ISSUER: when set, `aud` / `iss` must match */
  audience?: string | undefined;
  issuer?: string | undefined;
  /** JWT_MAX_AGE_S: no token lives longer than this (0: no limit) */
  maxAgeS: number;
}

/** Verifies an HS256 JWT per PROTOCOL.md "Tokens" and README "Tokens"; throws TokenError naming what is wrong. */
export class TokenVerifier {
  // Imported once: given the secret's bytes, jose imports a WebCrypto key on every call
  // (about a third of a verify's CPU, issue 10: one verify per connect).
  private readonly key: Promise<webcrypto.CryptoKey>;
  private readonly adminKey: Promise<webcrypto.CryptoKey> | null;
  private readonly options: { algorithms: string[]; requiredClaims: string[]; audience?: string; issuer?: string };
  private readonly maxAgeS: number;

  constructor(rules: TokenRules) {
    this.key = hmacKey(rules.secret);
    this.adminKey = rules.adminSecret ? hmacKey(rules.adminSecret) : null;
    this.options = { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] };
    if (rules.audience) this.options.audience = rules.audience;
    if (rules.issuer) this.options.issuer = rules.issuer;
    this.maxAgeS = rules.maxAgeS;
  }

  async verify(token: unknown): Promise<Identity> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw new TokenError('missing token');
    let payload: JWTPayload;
    let byAdminKey = false;
    try {
      ({ payload } = await jwtVerify(token, await this.key, this.options));
    } catch (err) {
      if (!(this.adminKey && err instanceof joseErrors.JWSSignatureVerificationFailed)) throw tokenError(err);
      try {
        ({ payload } = await jwtVerify(token, await this.adminKey, this.options));
        byAdminKey = true;
      } catch (err2) {
        throw tokenError(err2);
      }
    }
    const sub = payload.sub;
    const dev = payload.dev ?? 'default';
    if (typeof sub !== 'string' || !USER_ID_RE.test(sub)) throw new TokenError('token `sub` is not a valid user id');
    if (typeof dev !== 'string' || !USER_ID_RE.test(dev)) throw new TokenError('token `dev` is not a valid device id');
    if (typeof payload.exp !== 'number') throw new TokenError('token `exp` is required');
    if (this.maxAgeS > 0) {
      const now = Date.now() / 1000;
      const iat = typeof payload.iat === 'number' ? payload.iat : null;
      if (iat !== null && now - iat > this.maxAgeS) throw new TokenError(`token too old: issued (\`iat\`) more than ${this.maxAgeS} s ago`);
      if (payload.exp - (iat ?? now) > this.maxAgeS) throw new TokenError(`token lifetime over ${this.maxAgeS} s: \`exp\` too far after \`iat\` (or now)`);
    }
    const adm = payload.adm === true;
    if (adm && this.adminKey && !byAdminKey) throw new TokenError('operator tokens (`adm`) must be signed with the operator key');
    return { user: sub, device: dev, admin: adm, expMs: payload.exp * 1000 };
  }
}

/** An HS256 verification key for `secret` (its UTF-8 bytes, as jose takes a secret). */
function hmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
}

function tokenError(err: unknown): TokenError {
  if (err instanceof joseErrors.JWTExpired) return new TokenError('token expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = err.claim;
    return new TokenError(err.reason === 'missing' ? `token \`${claim}\` is required` : `token \`${claim}\` is not accepted here`);
  }
  return new TokenError('invalid token');
}
