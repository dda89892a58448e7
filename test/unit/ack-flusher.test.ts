// AckFlusher: a closed connection's acks that the store did not confirm are written again
// (nothing else would write them: its close flushed what it held, and a batch taken from it
// before the close can fail after). A model-based CI run caught a cursor that never reached
// a device's ack after a graceful close; the store here is a seam that fails on purpose.
import { describe, expect, it } from 'vitest';
import { AckFlusher, CLOSED_ACK_RETRIES, CLOSED_ACK_RETRY_MS } from '../../server/gateway/ack-flusher.ts';
import type { Conn } from '../../server/gateway/connection.ts';
import type { CursorStore } from '../../server/store/cursors.ts';

type Batch = Parameters<CursorStore['advanceCursorsBatch']>[0];

function fakeConn(): Conn {
  return { user: 'u1', device: 'd0', state: 'open', acks: new Map([['dm:u1:u2', { epoch: 'e1', seq: 7 }]]) } as unknown as Conn;
}

describe('AckFlusher and closed connections', () => {
  it('writes a closed connection’s unconfirmed acks again until the store confirms them', async () => {
    const calls: Batch[] = [];
    let failures = 2;
    const store = { advanceCursorsBatch: async (b: Batch) => (calls.push(b), b.map(() => failures-- <= 0)) };
    const conn = fakeConn();
    const flusher = new AckFlusher(store, new Set([conn]));
    const closing = flusher.flushNow(conn);
    conn.state = 'closed';
    await closing;
    await new Promise((r) => setTimeout(r, CLOSED_ACK_RETRY_MS * 2 + 300));
    expect(calls).toHaveLength(3);
    for (const b of calls) expect(b).toEqual([{ user: 'u1', device: 'd0', marks: [{ conv: 'dm:u1:u2', epoch: 'e1', seq: 7 }] }]);
    expect(conn.acks).toBeNull();
  });

  it('gives up after CLOSED_ACK_RETRIES more writes when the store keeps failing', async () => {
    let calls = 0;
    const store = { advanceCursorsBatch: async (b: Batch) => (calls++, b.map(() => false)) };
    const conn = fakeConn();
    conn.state = 'closed' as Conn['state'];
    await new AckFlusher(store, new Set()).flushNow(conn);
    await new Promise((r) => setTimeout(r, CLOSED_ACK_RETRY_MS * (CLOSED_ACK_RETRIES + 1) + 300));
    expect(calls).toBe(1 + CLOSED_ACK_RETRIES);
  });
});
