// AckFlusher: a closed connection's acks that the store did not confirm are written again
// (nothing else would write them: its close flushed what it held, and a batch taken from it
// before the close can fail after). A model-based CI run caught a cursor that never reached
// a device's ack after a graceful close; the store here is a seam that fails on purpose.
import { describe, expect, it } from 'vitest';
import { AckFlusher, CLOSED_ACK_RETRIES, CLOSED_ACK_RETRY_MS } from '../../server/gateway/ack-flusher.ts';
import { recordAck } from '../../server/gateway/conn-acks.ts';
import type { Conn } from '../../server/gateway/connection.ts';
import type { CursorStore } from '../../server/store/cursors.ts';

type Batch = Parameters<CursorStore['advanceCursorsBatch']>[0];

function fakeConn(): Conn {
  const conn = { user: 'u1', device: 'd0', state: 'open', acks: null } as unknown as Conn;
  recordAck(conn, 'dm:u1:u2', { epoch: 'e1', seq: 7 });
  return conn;
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
    for (const b of calls) expect(b).toEqual([{ user: 'u1', device: 'd0', marks: new Map([['dm:u1:u2', { epoch: 'e1', seq: 7 }]]) }]);
    expect(conn.acks?.due).toBe(0);
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

  // `imstorm explore --seed 2001` (the correct server, Redis paused 1.5 s): two batches taken
  // from one connection (a flush, then another once newer acks came) both failed after its
  // close; each scheduled a retry, the first retry took the acks, and the second found none
  // and threw (`taken[i] is not iterable`) out of a timer: the node exited 1.
  it('two failed batches of one closed connection retry without throwing; its acks are written once more', async () => {
    const calls: Batch[] = [];
    let failures = 2;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store = { advanceCursorsBatch: async (b: Batch) => (calls.push(b), await gate, b.map(() => failures-- <= 0)) };
    const conn = fakeConn();
    const flusher = new AckFlusher(store, new Set([conn]));
    const first = flusher.flushNow(conn);
    recordAck(conn, 'dm:u1:u3', { epoch: 'e1', seq: 3 });
    const second = flusher.flushNow(conn);
    conn.state = 'closed' as Conn['state'];
    const thrown: unknown[] = [];
    const onRejection = (err: unknown) => thrown.push(err);
    process.on('unhandledRejection', onRejection);
    try {
      release();
      await Promise.all([first, second]);
      await new Promise((r) => setTimeout(r, CLOSED_ACK_RETRY_MS + 300));
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(thrown.map(String)).toEqual([]);
    expect(calls).toHaveLength(3);
    expect(calls[2]).toEqual([
      {
        user: 'u1',
        device: 'd0',
        marks: new Map([
          ['dm:u1:u2', { epoch: 'e1', seq: 7 }],
          ['dm:u1:u3', { epoch: 'e1', seq: 3 }],
        ]),
      },
    ]);
    expect(conn.acks?.due).toBe(0);
  });
});
