import { createHmac } from 'node:crypto';

/**
 * Tokens the harness mints for the users it plays: HS256 with the nodes' JWT_SECRET, as
 * PROTOCOL.md's hello and the HTTP API expect. One place, so every part of the harness
 * (fleet, setup, HTTP load, attacks, benches) presents the same claims. Deliberately bad
 * tokens are harness/attack/bad-tokens.ts's business.
 */
export interface TokenOptions {
  /** the `dev` claim (the device); none: the server's default device */
  dev?: string;
  /** lifetime: a whole number of seconds, minutes, hours or days, e.g. '1h' (default), '12h', '30m' */
  expiresIn?: string;
}

const SPAN = /^(\d+)\s*(s|m|h|d)$/;
const UNIT_S = { s: 1, m: 60, h: 3600, d: 86400 } as const;
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url');

/** `expiresIn` in seconds; throws naming the value and the forms it takes. */
export function lifetimeSeconds(expiresIn: string): number {
  const m = SPAN.exec(expiresIn);
  if (!m) throw new Error(`token lifetime ${JSON.stringify(expiresIn)}: give a whole number of seconds, minutes, hours or days, e.g. '90s', '30m', '12h', '2d'`);
  return Number(m[1]) * UNIT_S[m[2] as keyof typeof UNIT_S];
}

/**
 * Written by hand over node:crypto rather than with jose's SignJWT (which the tests use to
 * judge these tokens): jose signs through WebCrypto, 83 µs of CPU a token here against
 * 9 µs for the same JWS with createHmac, and 240 µs a device in a fleet process's profile
 * during a connect storm, where every device mints its token as it connects. An HS256 JWS
 * (RFC 7515 compact form) is base64url(header).base64url(claims).base64url(HMAC-SHA256 of
 * the two); test/unit/tokens.test.ts checks every token against jose's jwtVerify.
 */
export function mintToken(secret: string, sub: string, o: TokenOptions = {}): Promise<string> {
  const exp = Math.floor(Date.now() / 1000) + lifetimeSeconds(o.expiresIn ?? '1h');
  const claims = Buffer.from(JSON.stringify(o.dev === undefined ? { sub, exp } : { dev: o.dev, sub, exp })).toString('base64url');
  const signed = `${HEADER}.${claims}`;
  return Promise.resolve(`${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`);
}
