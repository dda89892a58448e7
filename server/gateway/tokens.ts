import { createVerifier, TokenError as JwtError } from 'fast-jwt';
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

/**
 * Verifies an HS256 JWT per PROTOCOL.md "Tokens" and README "Tokens"; throws TokenError naming what is wrong.
 *
 * With fast-jwt, whose HS256 check is one synchronous HMAC: jose's goes through WebCrypto's
 * job queue, about 46 µs of CPU a verify against 6 on this machine, and a node verifies one
 * token per connect (issue 10: the connect storm).
 */
export class TokenVerifier {
  private readonly verifyUser: (token: string) => JWTPayload;
  private readonly verifyAdmin: ((token: string) => JWTPayload) | null;
  private readonly maxAgeS: number;

  constructor(rules: TokenRules) {
    this.verifyUser = verifier(rules.secret, rules);
    this.verifyAdmin = rules.adminSecret ? verifier(rules.adminSecret, rules) : null;
    this.maxAgeS = rules.maxAgeS;
  }

  async verify(token: unknown): Promise<Identity> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw new TokenError('missing token');
    let payload: JWTPayload;
    let byAdminKey = false;
    try {
      payload = this.verifyUser(token);
    } catch (err) {
      if (!(this.verifyAdmin && err instanceof JwtError && err.code === JwtError.codes.invalidSignature)) throw tokenError(err);
      try {
        payload = this.verifyAdmin(token);
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
    // fast-jwt checks `iat` only under its maxAge; a present `iat` is a number (RFC 7519 NumericDate)
    if (payload.iat !== undefined && typeof payload.iat !== 'number') throw new TokenError('token `iat` is not accepted here');
    if (this.maxAgeS > 0) {
      const now = Date.now() / 1000;
      const iat = typeof payload.iat === 'number' ? payload.iat : null;
      if (iat !== null && now - iat > this.maxAgeS) throw new TokenError(`token too old: issued (\`iat\`) more than ${this.maxAgeS} s ago`);
      if (payload.exp - (iat ?? now) > this.maxAgeS) throw new TokenError(`token lifetime over ${this.maxAgeS} s: \`exp\` too far after \`iat\` (or now)`);
    }
    const adm = payload.adm === true;
    if (adm && this.verifyAdmin !== null && !byAdminKey) throw new TokenError('operator tokens (`adm`) must be signed with the operator key');
    return { user: sub, device: dev, admin: adm, expMs: payload.exp * 1000 };
  }
}

interface JWTPayload {
  sub?: unknown;
  dev?: unknown;
  exp?: unknown;
  iat?: unknown;
  adm?: unknown;
}

/**
 * HS256 only; `sub` and `exp` required, and `aud` / `iss` when the node names them (fast-jwt
 * checks an allowed audience or issuer only when the claim is there). No cache: a cached
 * verify would hold every connected token's payload, about 0.3 KiB a connection.
 */
function verifier(secret: string, rules: TokenRules): (token: string) => JWTPayload {
  return createVerifier({
    key: secret,
    algorithms: ['HS256'],
    requiredClaims: ['sub', 'exp', ...(rules.audience ? ['aud'] : []), ...(rules.issuer ? ['iss'] : [])],
    ...(rules.audience ? { allowedAud: rules.audience } : {}),
    ...(rules.issuer ? { allowedIss: rules.issuer } : {}),
    cache: false,
  }) as (token: string) => JWTPayload;
}

/** fast-jwt's errors as the messages PROTOCOL.md's `unauthorized` carries (the claim named, never the token). */
function tokenError(err: unknown): TokenError {
  if (!(err instanceof JwtError)) return new TokenError('invalid token');
  const claim = /\b(?:The|of) (\w+) claim/.exec(err.message)?.[1];
  switch (err.code) {
    case JwtError.codes.expired:
      return new TokenError('token expired');
    case JwtError.codes.missingRequiredClaim:
      return new TokenError(claim ? `token \`${claim}\` is required` : 'invalid token');
    case JwtError.codes.inactive:
      return new TokenError('token `nbf` is not accepted here');
    case JwtError.codes.invalidClaimType:
    case JwtError.codes.invalidClaimValue:
      return new TokenError(claim ? `token \`${claim}\` is not accepted here` : 'invalid token');
    default:
      return new TokenError('invalid token');
  }
}
