// RESP encoded straight into slabs (server/store/redis/resp-batch.ts, the lean Redis link's
// encoder) against the plain string encoding ioredis and Redis's own docs give: every
// command byte for byte, across slab ends, with views that later commands never overwrite.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RespBatch, SLAB_BYTES, strOfRoom, strRoom, UINT_ROOM, type EncodedBytes } from '../../server/store/redis/resp-batch.ts';

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
const reference = (head: string[], args: (string | number)[]) => Buffer.from(`*${head.length + args.length}\r\n${head.map(bulk).join('')}${args.map((a) => bulk(String(a))).join('')}`, 'utf8');

const arg = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.nat(),
  fc.maxSafeNat(),
  fc.integer({ min: -1e6, max: -1 }),
  fc.double({ noNaN: true }),
  // past a slab's room: forces a new slab, alone or behind others
  fc.constantFrom('x'.repeat(SLAB_BYTES - 40), '€'.repeat(30_000)),
);
const cmd = fc.record({ head: fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 3 }), args: fc.array(arg, { maxLength: 8 }) });

describe('RespBatch', () => {
  it('encodes every command as the string encoding would, in order, spilling full slabs first', () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 30 }), fc.array(fc.boolean(), { maxLength: 30 }), (cmds, takes) => {
        const out: Buffer[] = [];
        const batch = new RespBatch((b) => out.push(Buffer.from(b)));
        const views: Array<{ at: EncodedBytes; want: Buffer }> = [];
        cmds.forEach((c, i) => {
          const at = batch.command(c.head.length, RespBatch.words(...c.head), c.args);
          views.push({ at, want: reference([], c.args).subarray(`*${c.args.length}\r\n`.length) });
          // taken now and then, as a turn ends; the rest when a slab is full or at the end
          if (takes[i]) {
            const t = batch.take();
            if (t) out.push(Buffer.from(t));
          }
        });
        const last = batch.take();
        if (last) out.push(Buffer.from(last));
        expect(batch.pending).toBe(0);
        expect(Buffer.concat(out).equals(Buffer.concat(cmds.map((c) => reference(c.head, c.args))))).toBe(true);
        // what each command's args were encoded as is still there, after every later command
        for (const v of views) expect(v.at.slab.subarray(v.at.start, v.at.end).equals(v.want)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  // how the lean link writes a batch call (ScriptLink.callEach): begin with the room the
  // arguments take at most, then each argument; a key from its parts joined by strOf
  it('begin + str, strOf and uint write what the string encoding would, each command in one slab', () => {
    const piece = fc.oneof(
      fc.record({ s: fc.string({ unit: 'binary', maxLength: 200 }) }),
      fc.record({ parts: fc.tuple(fc.string({ maxLength: 5 }), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 30 })) }),
      fc.record({ n: fc.maxSafeNat() }),
      fc.record({ s: fc.constantFrom('€'.repeat(21_000), 'y'.repeat(SLAB_BYTES - 200)) }),
    );
    fc.assert(
      fc.property(fc.array(fc.array(piece, { maxLength: 7 }), { minLength: 1, maxLength: 25 }), (cmds) => {
        const out: Buffer[] = [];
        const batch = new RespBatch((b) => out.push(Buffer.from(b)));
        const head = RespBatch.words('EVALSHA', 'f'.repeat(40), '1');
        const flat = (p: (typeof cmds)[number][number]) => ('s' in p ? p.s : 'n' in p ? p.n : p.parts.join(''));
        const views: Array<{ at: EncodedBytes; want: Buffer }> = [];
        for (const c of cmds) {
          let room = 0;
          for (const p of c) room += 's' in p ? strRoom(p.s) : 'n' in p ? UINT_ROOM : strOfRoom(...p.parts);
          const start = batch.begin(3, head, c.length, room);
          for (const p of c) {
            if ('s' in p) batch.str(p.s);
            else if ('n' in p) batch.uint(p.n);
            else batch.strOf(...p.parts);
          }
          views.push({ at: batch.since(start), want: reference([], c.map(flat)).subarray(`*${c.length}\r\n`.length) });
        }
        const last = batch.take();
        if (last) out.push(Buffer.from(last));
        expect(Buffer.concat(out).equals(Buffer.concat(cmds.map((c) => reference(['EVALSHA', 'f'.repeat(40), '1'], c.map(flat)))))).toBe(true);
        for (const v of views) expect(v.at.slab.subarray(v.at.start, v.at.end).equals(v.want)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  // str and strOf copy short ASCII strings byte by byte and fall back to the UTF-8 encoder at
  // their first other character: that character anywhere, around the length the loop stops at
  it('short strings that are ASCII up to one other character anywhere are encoded as UTF-8', () => {
    const other = fc.constantFrom('\u0080', 'é', 'ÿ', 'Ā', '€', '\u{1F600}', '\u007f');
    const mostlyAscii = fc
      .tuple(fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), minLength: 0, maxLength: 80 }), fc.option(other), fc.nat())
      .map(([s, o, at]) => (o === null ? s : s.slice(0, at % (s.length + 1)) + o + s.slice(at % (s.length + 1))));
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.record({ s: mostlyAscii }), fc.record({ parts: fc.tuple(mostlyAscii, mostlyAscii, mostlyAscii, mostlyAscii) })), { minLength: 1, maxLength: 12 }), (pieces) => {
        const batch = new RespBatch(() => {
          throw new Error('one slab holds these');
        });
        let room = 0;
        for (const p of pieces) room += 's' in p ? strRoom(p.s) : strOfRoom(...p.parts);
        batch.begin(1, RespBatch.words('X'), pieces.length, room);
        for (const p of pieces) {
          if ('s' in p) batch.str(p.s);
          else batch.strOf(...p.parts);
        }
        expect(batch.take()!.toString('latin1')).toBe(reference(['X'], pieces.map((p) => ('s' in p ? p.s : p.parts.join('')))).toString('latin1'));
      }),
      { numRuns: 500 },
    );
  });

  it('again: the same arguments behind another head (EVAL after NOSCRIPT)', () => {
    const batch = new RespBatch(() => {
      throw new Error('nothing spills here');
    });
    const at = batch.command(3, RespBatch.words('EVALSHA', 'a'.repeat(40), '1'), ['k', 'é✓', 42]);
    batch.take();
    batch.again(6, RespBatch.words('EVAL', 'return 1', '1'), at);
    expect(batch.take()!.toString()).toBe(reference(['EVAL', 'return 1', '1'], ['k', 'é✓', 42]).toString());
  });

  it('discard forgets what was not taken; take then has nothing', () => {
    const batch = new RespBatch(() => {});
    batch.command(1, RespBatch.words('PING'), []);
    expect(batch.pending).toBe(14);
    batch.discard();
    expect(batch.pending).toBe(0);
    expect(batch.take()).toBeNull();
    batch.command(1, RespBatch.words('PING'), []);
    expect(batch.take()!.toString()).toBe('*1\r\n$4\r\nPING\r\n');
  });
});
