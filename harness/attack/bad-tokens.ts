// Token abuse (PROTOCOL.md "Tokens": expired, unsigned, wrongly signed or malformed tokens
// are rejected): each bad token in a hello (error `unauthorized`, close 4401), in an `auth`
// on a welcomed connection (the same), and as an HTTP Bearer (401 `unauthorized`).
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { attackerUser, going, timed, userToken, welcomed, type AttackContext, type AttackNode } from './context.ts';
import { httpAttempt } from './raw-tcp.ts';
import { WsSession } from './ws-session.ts';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Every kind of bad token for `sub`, by name. */
export async function badTokens(secret: string, sub: string): Promise<Record<string, string>> {
  const key = new TextEncoder().encode(secret);
  const now = Math.floor(Date.now() / 1000);
  const good = await userToken(secret, sub);
  const [h, , sig] = good.split('.');
  return {
    expired: await new SignJWT({ dev: 'd0' }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt(now - 120).setExpirationTime(now - 60).sign(key),
    'wrong-secret': await new SignJWT({ dev: 'd0' }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(randomBytes(32)),
    'alg-none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, dev: 'd0', exp: now + 3600 })}.`,
    'wrong-alg': await new SignJWT({ dev: 'd0' }).setProtectedHeader({ alg: 'HS512' }).setSubject(sub).setExpirationTime('1h').sign(new Uint8Array(randomBytes(64))),
    'tampered-payload': `${h}.${b64({ sub: `${sub}x`, dev: 'd0', exp: now + 3600 })}.${sig}`,
    'tampered-signature': `${good.slice(0, -4)}${good.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`,
    'no-exp': await new SignJWT({ dev: 'd0' }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).sign(key),
    'no-sub': await new SignJWT({ dev: 'd0' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key),
    'bad-sub': await new SignJWT({ dev: 'd0' }).setProtectedHeader({ alg: 'HS256' }).setSubject('not a user id!').setExpirationTime('1h').sign(key),
    'too-old': await new SignJWT({ dev: 'd0' }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt(now - 3 * 86400).setExpirationTime('1h').sign(key),
    garbage: 'not.a.jwt',
    'not-base64': '!!!.@@@.###',
  };
}

export async function tokenAttacks(ctx: AttackContext, node: AttackNode, rounds: number): Promise<void> {
  await timed(ctx, 'bad-tokens', node, async () => {
    let tried = 0;
    for (let r = 0; going(ctx, r, rounds); r++) {
      const sub = attackerUser(ctx, 'k');
      for (const [name, token] of Object.entries(await badTokens(ctx.jwtSecret, sub))) {
        tried++;
        // hello
        const s = await WsSession.open(node.wsUrl);
        if (s) {
          s.text(JSON.stringify({ t: 'hello', v: 1, token, id: 'h' }));
          await s.until(() => s.closeCode !== null, 5000);
          ctx.log.one('bad-tokens', 'token.hello', node.id, `${name}: ${token.slice(0, 60)}`, `${s.answerFor('h')}+close:${s.closeCode ?? 'none'}`);
          s.kill();
        } else ctx.log.one('bad-tokens', 'token.hello', node.id, name, 'refused');
        // auth on a welcomed connection
        const w = await welcomed(ctx, node, 'bad-tokens', sub);
        if (w) {
          w.text(JSON.stringify({ t: 'auth', id: 'a', token }));
          await w.until(() => w.closeCode !== null, 5000);
          ctx.log.one('bad-tokens', 'token.auth', node.id, `${name}: ${token.slice(0, 60)}`, `${w.answerFor('a')}+close:${w.closeCode ?? 'none'}`);
          w.kill();
        }
        // HTTP
        ctx.log.one('bad-tokens', 'token.http', node.id, `${name}: GET /v1/conversations`, await httpAttempt(`${node.url}/v1/conversations`, { token }));
      }
    }
    return { rounds, tokens: tried };
  });
}
