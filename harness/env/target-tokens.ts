// Tokens for a target's users printed by the user's own command (--token-cmd), once per
// (user, device) since the device is a claim of the token (PROTOCOL.md "Tokens": `dev`). A command's output is checked before any
// device uses it: one JWT, for that user and device, valid past the run's end; a command
// that fails, hangs past its deadline or prints something else stops the run with an error
// naming --token-cmd, the user and device, and what came back.
import { spawn } from 'node:child_process';
import { pool } from '../util/pool.ts';
import type { TargetAuth } from './target.ts';
import { TargetFlagError } from './target.ts';

export interface TokenSource {
  /** a token of `user` on `device` (no device: any of the user's, for HTTP calls) */
  token(user: string, device?: string): Promise<string>;
  /** runs the command for each pair not fetched yet (a few at a time); rejects at the first failure */
  prefetch(pairs: ReadonlyArray<{ user: string; device: string }>): Promise<void>;
}

/** The server's own bound on a token's length (server/gateway/tokens.ts). */
const MAX_TOKEN_CHARS = 8192;
const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Tokens printed by --token-cmd, one call per (user, device), each kept for the run. (Tokens
 * minted from a secret need no source: the fleet mints its own, harness/util/tokens.ts.)
 */
export function tokenSource(auth: Extract<TargetAuth, { kind: 'cmd' }>, o: { validUntilMs: number; concurrency?: number }): TokenSource {
  const byPair = new Map<string, Promise<string>>();
  const byUser = new Map<string, Promise<string>>();
  const get = (user: string, device: string): Promise<string> => {
    const key = `${user}\n${device}`;
    let p = byPair.get(key);
    if (!p) {
      p = runTokenCmd(auth.command, auth.timeoutMs, user, device, o.validUntilMs);
      byPair.set(key, p);
      if (!byUser.has(user)) byUser.set(user, p);
    }
    return p;
  };
  return {
    token: (user, device) => (device === undefined ? (byUser.get(user) ?? get(user, 'default')) : get(user, device)),
    async prefetch(pairs) {
      // bounded: each call is a process; after the first failure no new one starts
      let failed = false;
      await pool([...pairs], o.concurrency ?? 8, async (x) => {
        if (failed) return;
        await get(x.user, x.device).catch((err: unknown) => {
          failed = true;
          throw err;
        });
      });
    },
  };
}

/** Runs the command for one (user, device) and checks what it printed. */
export function runTokenCmd(command: string, timeoutMs: number, user: string, device: string, validUntilMs: number): Promise<string> {
  const who = `--token-cmd for user ${user} device ${device}`;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, IMSTORM_USER: user, IMSTORM_DEVICE: device }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let done = false;
    const fail = (why: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new TargetFlagError(`${who}: ${why}; fix the command (it gets IMSTORM_USER and IMSTORM_DEVICE and must print one JWT on stdout), or raise --token-cmd-timeout`));
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`no answer within ${timeoutMs / 1000} s (killed)`);
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.length > 4 * MAX_TOKEN_CHARS) {
        child.kill('SIGKILL');
        fail(`printed more than ${4 * MAX_TOKEN_CHARS} characters`);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-500)));
    child.on('error', (e) => fail(`could not start /bin/sh: ${e.message}`));
    child.on('close', (code, signal) => {
      if (done) return;
      if (code !== 0) return fail(`exited ${signal ? `on ${signal}` : `with code ${code}`}${err.trim() ? `; stderr: ${err.trim().split('\n').at(-1)}` : ''}`);
      const problem = tokenProblem(out.trim(), user, device, validUntilMs);
      if (problem) return fail(problem);
      done = true;
      clearTimeout(timer);
      resolve(out.trim());
    });
  });
}

/** Why a printed token cannot serve this device, or null. Its signature is the server's to judge; the claims are checked here. */
export function tokenProblem(token: string, user: string, device: string, validUntilMs: number): string | null {
  if (!token) return 'printed nothing';
  if (/\s/.test(token)) return `printed more than one word (${JSON.stringify(token.slice(0, 80))}…): print the token alone`;
  if (token.length > MAX_TOKEN_CHARS) return `printed ${token.length} characters; the server accepts tokens up to ${MAX_TOKEN_CHARS}`;
  if (!JWT_RE.test(token)) return `printed ${JSON.stringify(token.slice(0, 40))}, which is not a JWT (three base64url parts joined by dots)`;
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'printed a JWT whose payload is not JSON';
  }
  if (claims.sub !== user) return `printed a token for sub ${JSON.stringify(claims.sub)}, not ${user}: use IMSTORM_USER`;
  const dev = claims.dev ?? 'default';
  if (dev !== device) return `printed a token for device ${JSON.stringify(dev)}, not ${device}: put IMSTORM_DEVICE in its \`dev\` claim`;
  if (typeof claims.exp !== 'number') return 'printed a token without `exp` (the server requires it)';
  if (claims.exp * 1000 < validUntilMs) return `printed a token that expires at ${new Date(claims.exp * 1000).toISOString()}, before the run can end (${new Date(validUntilMs).toISOString()}): devices would be closed 4401 mid-run; mint longer-lived tokens`;
  return null;
}
