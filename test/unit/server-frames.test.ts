import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBusPayload, encodeBusPayload, type BusPayload } from '../../server/bus/payloads.ts';
import { errorCodes, type ErrorCode } from '../../server/protocol/codes.ts';
import { decodeServerFrame, encode, FrameDecodeError, msgFrameParts } from '../../server/protocol/server-frames.ts';

// Any string a client or the store may hand an encoder: quotes, backslashes, control
// characters, lone surrogates, emoji.
const text = fc.string({ unit: 'binary', maxLength: 40 });
const id = fc.option(fc.string({ maxLength: 64 }), { nil: undefined });
const n = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const code = fc.constantFrom(...(Object.keys(errorCodes) as ErrorCode[]));

/** Every encoder's text is valid JSON equal to the object PROTOCOL.md describes, and decodes to it. */
function roundTrip(encoded: string, expected: Record<string, unknown>): void {
  const parsed = JSON.parse(encoded);
  expect(parsed).toEqual(JSON.parse(JSON.stringify(expected)));
  expect(decodeServerFrame(encoded)).toEqual(parsed);
}

describe('server frame codec', () => {
  it('every encoder writes valid JSON with exactly the protocol fields, for any strings', () => {
    fc.assert(
      fc.property(text, text, text, text, id, n, n, fc.boolean(), code, (a, b, c, body, rid, x, y, flag, errCode) => {
        roundTrip(encode.welcome({ user: a, device: b, conn: c, node: a, heartbeatMs: x, maxBodyBytes: y, id: rid }), { t: 'welcome', v: 1, user: a, device: b, conn: c, node: a, heartbeatMs: x, maxBodyBytes: y, id: rid });
        roundTrip(encode.sent(rid, a, x, b, y, flag), { t: 'sent', id: rid, conv: a, seq: x, cmid: b, ts: y, dup: flag });
        roundTrip(encode.msg(a, x, b, c, JSON.stringify(body), y), { t: 'msg', conv: a, seq: x, from: b, cmid: c, body, ts: y });
        roundTrip(encode.conv(a, b, x, y), { t: 'conv', conv: a, epoch: b, cursor: x, head: y });
        roundTrip(encode.gap(a, x, y, flag), { t: 'gap', conv: a, from: x, to: y, ...(flag ? { trimmed: true } : {}) });
        roundTrip(encode.synced(), { t: 'synced' });
        roundTrip(encode.page(rid, a, b, [encode.storedMessage(x, c, a, JSON.stringify(body), y)], flag), { t: 'page', id: rid, conv: a, epoch: b, msgs: [{ seq: x, from: c, cmid: a, body, ts: y }], more: flag });
        roundTrip(encode.presence(a, flag ? 'online' : 'offline', x, y), { t: 'presence', user: a, status: flag ? 'online' : 'offline', v: x, ts: y });
        roundTrip(encode.read(a, x), { t: 'read', conv: a, seq: x });
        roundTrip(encode.ok(c), { t: 'ok', id: c });
        roundTrip(encode.pong(rid, x), { t: 'pong', id: rid, ts: x });
        roundTrip(encode.error(rid, errCode, body), { t: 'error', id: rid, code: errCode, message: body, retryable: errorCodes[errCode].retryable });
      }),
    );
  });

  it('the send script’s frame parts assemble the same msg frame as the encoder', () => {
    fc.assert(
      fc.property(text, text, text, text, n, n, (conv, from, cmid, body, seq, ts) => {
        const { head, mid } = msgFrameParts(conv, from, cmid);
        const bodyJson = JSON.stringify(body);
        expect(`${head}${seq}${mid}${bodyJson},"ts":${ts}}`).toBe(encode.msg(conv, seq, from, cmid, bodyJson, ts));
      }),
    );
  });

  it('the decoder names what is wrong', () => {
    expect(() => decodeServerFrame('nope')).toThrow(FrameDecodeError);
    expect(() => decodeServerFrame('[1]')).toThrow(/must be a JSON object/);
    expect(() => decodeServerFrame('{"t":"wat"}')).toThrow(/unknown frame type "wat"/);
    expect(() => decodeServerFrame('{"t":"msg","conv":"g:a","seq":"1","from":"u","cmid":"c","body":"b","ts":1}')).toThrow(/msg frame: field `seq` must be number, got "1"/);
    expect(() => decodeServerFrame('{"t":"ok"}')).toThrow(/ok frame: field `id` must be string, got nothing/);
    expect(() => decodeServerFrame('{"t":"error","code":"nope","message":"m","retryable":false}')).toThrow(/unknown code "nope"/);
    expect(() => decodeServerFrame('{"t":"presence","user":"u","status":"away","v":1,"ts":1}')).toThrow(/status must be online or offline/);
    expect(() => decodeServerFrame('{"t":"page","conv":"g:a","epoch":"e","msgs":[{"seq":1}],"more":false}')).toThrow(/msgs\[\]\.from/);
    expect(() => decodeServerFrame('{"t":"gap","conv":"g:a","from":1,"to":2,"trimmed":false}')).toThrow(/trimmed/);
  });
});

describe('bus payloads', () => {
  const word = fc.stringMatching(/^[A-Za-z0-9_:.-]{1,20}$/);
  const payload: fc.Arbitrary<BusPayload> = fc.oneof(
    fc.record({ k: fc.constant('m' as const), conv: word, epoch: word, seq: n, frame: fc.string() }),
    fc.record({ k: fc.constantFrom('j' as const, 'l' as const), conv: word, epoch: word, user: word, atSeq: n }),
    fc.record({ k: fc.constant('p' as const), user: word, status: fc.constantFrom('online' as const, 'offline' as const), v: n, ts: n }),
    fc.record({ k: fc.constant('r' as const), user: word, conv: word, seq: n, originConn: word }),
    fc.record({ k: fc.constant('k' as const), user: word, connId: word, code: fc.integer({ min: 1000, max: 4999 }) }),
    fc.record({ k: fc.constant('K' as const), user: word, device: fc.option(word, { nil: null }) }),
    fc.record({ k: fc.constant('h' as const), incarnation: word, n }),
  );

  it('decode(encode(p)) = p for every payload kind (a msg frame may hold newlines and tabs)', () => {
    fc.assert(
      fc.property(payload, (p) => {
        expect(decodeBusPayload(encodeBusPayload(p))).toEqual(p);
      }),
    );
  });

  it('reads the text the Lua scripts publish', () => {
    expect(decodeBusPayload('m\tg:a\tE1\t7\n{"t":"msg"}')).toEqual({ k: 'm', conv: 'g:a', epoch: 'E1', seq: 7, frame: '{"t":"msg"}' });
    expect(decodeBusPayload('k\tu1\tn1.ab.3\t4409')).toEqual({ k: 'k', user: 'u1', connId: 'n1.ab.3', code: 4409 });
    expect(decodeBusPayload('K\tu1\t*')).toEqual({ k: 'K', user: 'u1', device: null });
  });

  it('refuses what it does not know, naming it', () => {
    expect(() => decodeBusPayload('z\t1')).toThrow(/unknown kind "z"/);
    expect(() => decodeBusPayload('m\tg:a\tE\t1')).toThrow(/without its frame/);
    expect(() => decodeBusPayload('p\tu\taway\t1\t2')).toThrow(/presence status "away"/);
    expect(() => decodeBusPayload('r\tu\tg:a\tx\tc')).toThrow(/seq is not a number/);
  });
});
