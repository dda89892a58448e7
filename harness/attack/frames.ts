// Protocol abuse generated with fast-check: bad frames for a welcomed connection, each
// with the kind of badness it has (a key of PROTOCOL_ANSWERS). Generation is seeded
// (fc.sample with the run's attack seed), so a run's frames can be produced again.
import fc from 'fast-check';

/** A frame to send on a welcomed connection: `build(id)` puts the request id in (or not). */
export interface BadFrame {
  kind: string;
  build: (id: string) => string;
}

export interface FrameContext {
  /** a dm of the attacker's own (membership ok) */
  ownDm: string;
  /** a dm between two other users (the attacker is not a member) */
  foreignDm: string;
  /** MAX_BODY_BYTES of the nodes */
  maxBodyBytes: number;
  /** PRESENCE_SUBS_MAX of the nodes */
  presenceSubsMax: number;
}

const TYPES = ['hello', 'send', 'ack', 'read', 'history', 'presence.sub', 'presence.unsub', 'auth', 'ping'];
type Field = 'str' | 'int' | 'users';
/** request templates and their fields' types (PROTOCOL.md "Frames from the client"); auth is left out: a bad token there closes 4401 */
const TEMPLATES: Record<string, Record<string, Field>> = {
  send: { conv: 'str', cmid: 'str', body: 'str' },
  ack: { conv: 'str', seq: 'int' },
  read: { conv: 'str', seq: 'int' },
  history: { conv: 'str', before: 'int', after: 'int', limit: 'int' },
  'presence.sub': { users: 'users' },
  'presence.unsub': { users: 'users' },
};
const OPTIONAL = new Set(['before', 'after', 'limit']);

function valid(t: string, ctx: FrameContext): Record<string, unknown> {
  switch (t) {
    case 'send':
      return { conv: ctx.ownDm, cmid: 'x', body: 'x' };
    case 'ack':
    case 'read':
      return { conv: ctx.ownDm, seq: 0 };
    case 'history':
      return { conv: ctx.ownDm, limit: 1 };
    default:
      return { users: ['hxq'] };
  }
}

/** JSON text with `id` as the last field (so a frame cut by a depth check still has its id at the end) */
const withId = (fields: Record<string, unknown>, id: string | null) => (id === null ? JSON.stringify(fields) : `${JSON.stringify(fields).slice(0, -1)}${Object.keys(fields).length ? ',' : ''}"id":${JSON.stringify(id)}}`);

/** a value of the wrong JSON type for a field */
function wrongFor(f: Field): fc.Arbitrary<unknown> {
  const others = [fc.boolean(), fc.constant(null), fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 })];
  if (f === 'str') return fc.oneof(fc.integer(), fc.double(), fc.array(fc.string(), { maxLength: 3 }), ...others);
  if (f === 'int') return fc.oneof(fc.string({ maxLength: 8 }), fc.array(fc.integer(), { maxLength: 3 }), ...others);
  return fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.constant('bad id!')), { minLength: 1, maxLength: 3 }), ...others);
}

export function badFrames(ctx: FrameContext): fc.Arbitrary<BadFrame> {
  const notJson = fc.string({ maxLength: 40 }).map((s) => `{${s}`).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }).map((s): BadFrame => ({ kind: 'frame.not-json', build: () => s }));
  const notObject = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }))
    .map((v): BadFrame => ({ kind: 'frame.not-object', build: () => JSON.stringify(v) }));
  const unknownType = fc.oneof(fc.string({ maxLength: 16 }).filter((t) => !TYPES.includes(t)), fc.integer(), fc.constant(null))
    .map((t): BadFrame => ({ kind: 'frame.unknown-type', build: (id) => withId({ t }, id) }));
  const templates = Object.keys(TEMPLATES);
  const mistyped = fc.constantFrom(...templates).chain((t) =>
    fc.constantFrom(...Object.keys(TEMPLATES[t]!)).chain((field) =>
      wrongFor(TEMPLATES[t]![field]!).map((bad): BadFrame => ({ kind: 'frame.mistyped', build: (id) => withId({ t, ...valid(t, ctx), [field]: bad }, id) })),
    ),
  );
  const badId = fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.string({ minLength: 65, maxLength: 80 }))
    .map((id): BadFrame => ({ kind: 'frame.bad-id', build: () => JSON.stringify({ t: 'ping', id }) }));
  const missing = fc.constantFrom(...templates).chain((t) =>
    fc.constantFrom(...Object.keys(TEMPLATES[t]!).filter((f) => !OPTIONAL.has(f))).map((field): BadFrame => {
      const fields = { t, ...valid(t, ctx) };
      delete (fields as Record<string, unknown>)[field];
      return { kind: 'frame.missing-field', build: (id) => withId(fields, id) };
    }),
  );
  const outOfRange = fc.oneof(
    fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true, noNaN: true }), fc.constant(1e300)).map((seq): BadFrame => ({ kind: 'frame.out-of-range', build: (id) => withId({ t: 'ack', conv: ctx.ownDm, seq }, id) })),
    fc.oneof(fc.constant(0), fc.integer({ min: 101 }), fc.integer({ max: -1 })).map((limit): BadFrame => ({ kind: 'frame.out-of-range', build: (id) => withId({ t: 'history', conv: ctx.ownDm, limit }, id) })),
    fc.oneof(fc.constant('dm:a'), fc.constant('dm:b:a'), fc.constant('g:'), fc.string({ maxLength: 12 }).map((s) => `x:${s}`), fc.constant(`g:${'z'.repeat(65)}`)).map((conv): BadFrame => ({ kind: 'frame.out-of-range', build: (id) => withId({ t: 'history', conv }, id) })),
    fc.oneof(fc.constant(''), fc.constant('a b'), fc.constant('c'.repeat(65))).map((cmid): BadFrame => ({ kind: 'frame.out-of-range', build: (id) => withId({ t: 'send', conv: ctx.ownDm, cmid, body: 'x' }, id) })),
  );
  const deep = fc.integer({ min: 9, max: 3000 }).map((depth): BadFrame => ({ kind: 'frame.deep', build: (id) => `{"t":"ping","x":${'['.repeat(depth)}${']'.repeat(depth)},"pad":"${'p'.repeat(256)}","id":${JSON.stringify(id)}}` }));
  const oversized = fc.oneof(
    fc.integer({ min: 1, max: 4096 }).map((extra): BadFrame => ({ kind: 'frame.body-too-large', build: (id) => withId({ t: 'send', conv: ctx.ownDm, cmid: `big${extra}`, body: 'b'.repeat(ctx.maxBodyBytes + extra) }, id) })),
    fc.integer({ min: 1, max: 50 }).map((extra): BadFrame => ({ kind: 'frame.too-many-subs', build: (id) => withId({ t: 'presence.sub', users: Array.from({ length: ctx.presenceSubsMax + extra }, (_, i) => `hxs${i}`) }, id) })),
  );
  const proto = fc.constantFrom<BadFrame>(
    { kind: 'frame.proto-only', build: () => '{"__proto__":{"t":"ping","id":"polluted"}}' },
    { kind: 'frame.proto-only', build: () => '{"constructor":{"prototype":{"t":"ping"}}}' },
    { kind: 'frame.proto-extra', build: (id) => `{"t":"ping","__proto__":{"t":"send","polluted":true},"id":${JSON.stringify(id)}}` },
    { kind: 'frame.proto-extra', build: (id) => `{"t":"ping","constructor":{"prototype":{"polluted":true}},"id":${JSON.stringify(id)}}` },
    { kind: 'frame.unknown-type', build: (id) => withId({ t: '__proto__' }, id) },
    { kind: 'frame.unknown-type', build: (id) => withId({ t: 'constructor' }, id) },
    { kind: 'frame.unknown-type', build: (id) => withId({ t: 'toString' }, id) },
    { kind: 'frame.out-of-range', build: (id) => withId({ t: 'history', conv: '__proto__' }, id) },
    { kind: 'frame.proto-users', build: (id) => withId({ t: 'presence.sub', users: ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString'] }, id) },
    { kind: 'frame.proto-users', build: (id) => withId({ t: 'presence.unsub', users: ['__proto__', 'constructor'] }, id) },
  );
  const outOfOrder = fc.constantFrom<BadFrame>(
    { kind: 'frame.hello-again', build: (id) => withId({ t: 'hello', v: 1, token: 'x' }, id) },
    { kind: 'frame.not-member', build: (id) => withId({ t: 'history', conv: ctx.foreignDm }, id) },
    { kind: 'frame.not-member', build: (id) => withId({ t: 'send', conv: ctx.foreignDm, cmid: 'nm', body: 'x' }, id) },
    { kind: 'frame.not-member', build: (id) => withId({ t: 'ack', conv: ctx.foreignDm, seq: 1 }, id) },
    { kind: 'frame.not-member', build: (id) => withId({ t: 'read', conv: ctx.foreignDm, seq: 1 }, id) },
    { kind: 'frame.ack-past-head', build: (id) => withId({ t: 'ack', conv: ctx.ownDm, seq: 9_000_000_000 }, id) },
    { kind: 'frame.unsub-unknown', build: (id) => withId({ t: 'presence.unsub', users: ['hxnever'] }, id) },
  );
  return fc.oneof(
    { arbitrary: notJson, weight: 3 },
    { arbitrary: notObject, weight: 2 },
    { arbitrary: unknownType, weight: 2 },
    { arbitrary: mistyped, weight: 6 },
    { arbitrary: badId, weight: 1 },
    { arbitrary: missing, weight: 2 },
    { arbitrary: outOfRange, weight: 3 },
    { arbitrary: deep, weight: 1 },
    { arbitrary: oversized, weight: 1 },
    { arbitrary: proto, weight: 2 },
    { arbitrary: outOfOrder, weight: 2 },
  );
}

/** First frames a client may send instead of hello (each must be answered `unauthorized`, close 4401). */
export const notHello: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('{"t":"ping","id":"p"}', '{"t":"hello","v":2,"token":"x"}', '{"t":"hello","v":1}', '{"__proto__":{"t":"hello","v":1,"token":"x"}}', '{"t":"send","conv":"dm:a:b","cmid":"c","body":"x"}'),
);

/** `count` frames from `arb`, generated lazily in seeded chunks. */
export function* sampled<T>(arb: fc.Arbitrary<T>, seed: number, count: number, chunk = 500): Generator<T> {
  for (let done = 0, i = 0; done < count; i++) {
    const n = Math.min(chunk, count - done);
    for (const x of fc.sample(arb, { seed: (seed + i * 7919) | 0, numRuns: n })) yield x;
    done += n;
  }
}
