// ConnAcks: a connection's coalesced acks, kept from flush to flush (issue 10: a fresh Map
// per flush lived past two young collections and was promoted). What must hold is what
// the Map handed over whole held: the highest mark reaches the cursor, a failed write is
// written again unless something newer came, nothing older is ever written after a newer one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnAcks, recordAck } from '../../server/gateway/conn-acks.ts';
import type { StoredMark } from '../../server/store/cursors.ts';

const m = (epoch: string, seq: number): StoredMark => ({ epoch, seq });

describe('ConnAcks', () => {
  it('keeps the highest mark per conversation; another epoch replaces it; an empty epoch is no mark', () => {
    const acks = new ConnAcks();
    acks.record('dm:a:b', m('E', 5));
    acks.record('dm:a:b', m('E', 3));
    acks.record('g:1', m('E', 2));
    acks.record('g:2', m('', 9));
    expect(acks.pending()).toEqual(new Map([['dm:a:b', m('E', 5)], ['g:1', m('E', 2)]]));
    acks.record('dm:a:b', m('F', 1));
    expect(acks.pending().get('dm:a:b')).toEqual(m('F', 1));
    expect(acks.due).toBe(2);
  });

  it('take hands over the due marks once; after it, only a mark that moves a conversation on is due', () => {
    const acks = new ConnAcks();
    acks.record('g:1', m('E', 4));
    acks.record('g:2', m('E', 7));
    expect(acks.take()).toEqual(new Map([['g:1', m('E', 4)], ['g:2', m('E', 7)]]));
    expect(acks.due).toBe(0);
    expect(acks.take()).toBeNull();
    // already on its way: the same or an older mark is not written again
    acks.record('g:1', m('E', 4));
    acks.record('g:2', m('E', 6));
    expect(acks.take()).toBeNull();
    acks.record('g:2', m('E', 8));
    expect(acks.take()).toEqual(new Map([['g:2', m('E', 8)]]));
  });

  it('a write the store did not confirm is due again, unless a newer mark came meanwhile', () => {
    const acks = new ConnAcks();
    acks.record('g:1', m('E', 4));
    acks.record('g:2', m('E', 7));
    const taken = acks.take()!;
    acks.record('g:2', m('E', 9));
    acks.giveBack(taken);
    expect(acks.pending()).toEqual(new Map([['g:1', m('E', 4)], ['g:2', m('E', 9)]]));
    expect(acks.due).toBe(2);
    // given back twice (two failed retries of one batch): still one due mark each
    acks.giveBack(taken);
    expect(acks.due).toBe(2);
  });

  it('a newer mark that was written already is not undone by an older batch failing after it', () => {
    const acks = new ConnAcks();
    acks.record('g:1', m('E', 4));
    const first = acks.take()!;
    acks.record('g:1', m('E', 9));
    acks.take(); // written and confirmed
    acks.giveBack(first);
    expect(acks.due).toBe(0);
  });

  it('an older epoch’s failed write is not given back over a newer epoch’s mark written since', () => {
    const acks = new ConnAcks();
    acks.record('g:1', m('E', 10));
    const old = acks.take()!;
    acks.record('g:1', m('F', 2));
    acks.take(); // written and confirmed
    acks.giveBack(old);
    expect(acks.due).toBe(0);
    acks.record('g:1', m('F', 1));
    expect(acks.due).toBe(0);
  });

  it(`keeps at most ConnAcks.KEPT (${ConnAcks.KEPT}) marks past a flush; a failed write of dropped ones gives them back`, () => {
    const few = new ConnAcks();
    for (let i = 0; i < ConnAcks.KEPT; i++) few.record(`g:${i}`, m('E', 5));
    few.take();
    few.record('g:0', m('E', 4));
    expect(few.due).toBe(0); // kept: the older mark is known to be behind

    const many = new ConnAcks();
    for (let i = 0; i <= ConnAcks.KEPT; i++) many.record(`g:${i}`, m('E', 5));
    const taken = many.take()!;
    expect(taken.size).toBe(ConnAcks.KEPT + 1);
    many.record('g:0', m('E', 4));
    expect(many.pending()).toEqual(new Map([['g:0', m('E', 4)]])); // dropped: starts over
    many.giveBack(taken);
    expect(many.due).toBe(ConnAcks.KEPT + 1);
    expect(many.pending().get('g:0')).toEqual(m('E', 5));
    expect(many.pending().get(`g:${ConnAcks.KEPT}`)).toEqual(m('E', 5));
  });

  it('recordAck creates a connection’s acks on its first mark only', () => {
    const conn = { acks: null as ConnAcks | null };
    recordAck(conn, 'g:1', m('', 3));
    expect(conn.acks).toBeNull();
    recordAck(conn, 'g:1', m('E', 3));
    const first = conn.acks;
    recordAck(conn, 'g:1', m('E', 4));
    conn.acks!.take();
    recordAck(conn, 'g:1', m('E', 5));
    expect(conn.acks).toBe(first);
  });

  // Against a forward-only cursor store (the CursorStore contract, one epoch): any
  // interleaving of acks, flushes, and writes confirmed or failed in any order ends, once
  // every write was settled and the rest flushed to a healthy store, with each cursor at
  // the highest seq acked, and never writes a seq nobody acked.
  it('property: every conversation’s cursor ends at its highest acked seq, whatever fails and in whatever order writes settle', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('ack' as const), conv: fc.constantFrom(...Array.from({ length: 40 }, (_, i) => `g:${i}`)), seq: fc.nat(30) }),
      // acks in more conversations than a connection keeps marks for (ConnAcks.KEPT)
      fc.record({ k: fc.constant('burst' as const), seq: fc.nat(30) }),
      fc.record({ k: fc.constant('flush' as const) }),
      fc.record({ k: fc.constant('settle' as const), which: fc.nat(), ok: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(fc.boolean(), { maxLength: 20 }), (ops, finals) => {
        const acks = new ConnAcks();
        const store = new Map<string, number>();
        const acked = new Map<string, Set<number>>();
        const inFlight: Map<string, StoredMark>[] = [];
        const settle = (i: number, ok: boolean) => {
          const [batch] = inFlight.splice(i, 1);
          if (!ok) return acks.giveBack(batch!);
          for (const [conv, mk] of batch!) {
            expect(acked.get(conv)?.has(mk.seq)).toBe(true);
            store.set(conv, Math.max(store.get(conv) ?? -1, mk.seq));
          }
        };
        const ack = (conv: string, seq: number) => {
          acks.record(conv, m('E', seq));
          (acked.get(conv) ?? acked.set(conv, new Set()).get(conv)!).add(seq);
        };
        for (const o of ops) {
          if (o.k === 'ack') ack(o.conv, o.seq); else if (o.k === 'burst') {
            for (let i = 0; i < 40; i++) ack(`g:${i}`, o.seq);
          } else if (o.k === 'flush') {
            const t = acks.take();
            if (t) inFlight.push(t);
          } else if (inFlight.length) settle(o.which % inFlight.length, o.ok);
        }
        let f = 0;
        while (inFlight.length) settle(0, finals[f++] ?? true);
        for (let t = acks.take(); t; t = acks.take()) {
          inFlight.push(t);
          settle(0, true);
        }
        for (const [conv, seqs] of acked) expect(store.get(conv)).toBe(Math.max(...seqs));
      }),
      { numRuns: 500 },
    );
  });
});
