import { SignJWT } from 'jose';

/**
 * Tokens the harness mints for the users it plays: HS256 with the nodes' JWT_SECRET, as
 * PROTOCOL.md's hello and the HTTP API expect. One place, so every part of the harness
 * (fleet, setup, HTTP load, attacks, benches) presents the same claims. Deliberately bad
 * tokens are harness/attack/bad-tokens.ts's business.
 */
export interface TokenOptions {
  /** the `dev` claim (the device); none: the server's default device */
  dev?: string;
  /** jose's expiration time, e.g. '1h' (default) or '12h' for a fleet that reconnects all run */
  expiresIn?: string;
}

const keys = new Map<string, Uint8Array>();

export function mintToken(secret: string, sub: string, o: TokenOptions = {}): Promise<string> {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = new TextEncoder().encode(secret)));
  return new SignJWT(o.dev === undefined ? {} : { dev: o.dev }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime(o.expiresIn ?? '1h').sign(key);
}
