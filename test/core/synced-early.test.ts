// TEST_BUGS=synced_early (server/testing/faulty-delivery.ts) does what it says, frame by
// frame: a device reconnecting with a backlog gets `synced` right after `welcome`, then the
// backlog; the correct server sends the backlog first and `synced` after it (PROTOCOL.md,
// Connect 3). The capture records `synced` where it was sent, once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Capture, captureFiles, capturing, startCapture } from '../../server/capture/capture.ts';
import { captureRecord } from '../../server/capture/schema.ts';
import { Hub } from '../../server/delivery/hub.ts';
import { Conn } from '../../server/gateway/connection.ts';
import { syncedEarly } from '../../server/testing/faulty-delivery.ts';
import { settle, simCluster, type SimConn } from './sim-node.ts';

const conv = 'dm:ua:ub';
const framesOf = (c: SimConn) => c.socket.frames.map((f) => (f.t === 'conv' ? `conv ${f.cursor}/${f.head}` : f.t === 'msg' ? `msg ${f.seq}` : f.t));

// the prototypes the variant patches, restored after each case
const original = { syncOnConnect: Hub.prototype.syncOnConnect, send: Conn.prototype.send, out: Capture.prototype.out };
const root = mkdtempSync(path.join(os.tmpdir(), 'imstorm-synced-early-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => {
  expect(Hub.prototype.syncOnConnect).toBe(original.syncOnConnect);
});
afterEach(async () => {
  await capturing?.stop('test');
  Hub.prototype.syncOnConnect = original.syncOnConnect;
  Conn.prototype.send = original.send;
  Capture.prototype.out = original.out;
});

/**
 * ua/d1 connects and gets the dm's seq 1, acks it, goes away; seqs 2 and 3 are stored
 * meanwhile; then d1 reconnects (its connections captured when `capture` is set). Returns
 * both connections.
 */
async function reconnectWithBacklog(capture = false) {
  const { store, nodes } = simCluster(1);
  const n1 = nodes[0]!;
  if (capture) {
    // the gateway marks a sampled user's connection before the sync starts (onHello)
    n1.hub.syncOnConnect = function (this: Hub, conn: Conn) {
      conn.captured = true;
      return Hub.prototype.syncOnConnect.call(this, conn);
    };
  }
  const send = (cmid: string) => store.send({ conv, isGroup: false, dmUsers: ['ua', 'ub'], sender: 'ub', cmid, bodyJson: '"x"' });
  await send('m1');
  await settle();
  const first = await n1.connect('ua', 'd1');
  await settle(40);
  await n1.ack(first, conv, 1);
  first.conn.ws.terminate();
  await settle();
  await send('m2');
  await send('m3');
  await settle();
  const again = await n1.connect('ua', 'd1');
  await settle(40);
  return { first, again };
}

describe('TEST_BUGS=synced_early', () => {
  it('without the bug, a reconnecting device gets its backlog before synced', async () => {
    const { first, again } = await reconnectWithBacklog();
    expect(framesOf(first)).toEqual(['welcome', 'conv 0/1', 'msg 1', 'synced']);
    expect(framesOf(again)).toEqual(['welcome', 'conv 1/3', 'msg 2', 'msg 3', 'synced']);
  });

  it('with the bug, synced comes right after welcome and the whole backlog after it, once, in order', async () => {
    syncedEarly();
    const { first, again } = await reconnectWithBacklog();
    expect(framesOf(first)).toEqual(['welcome', 'synced', 'conv 0/1', 'msg 1']);
    expect(framesOf(again)).toEqual(['welcome', 'synced', 'conv 1/3', 'msg 2', 'msg 3']);
  });

  it('with the bug, the capture records the synced that was sent (first) and not the one dropped', async () => {
    syncedEarly();
    const dir = path.join(root, 'cap');
    const cap = startCapture({ dir, node: 'n1', incarnation: 'n1.aa', sample: 1, maxBytes: 1_048_576, bodies: false, log: { error: () => {}, warn: () => {}, info: () => {} } as never });
    const { again } = await reconnectWithBacklog(true);
    await cap.stop('test');
    const out = captureFiles(dir)
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => captureRecord.parse(JSON.parse(l))))
      .filter((r) => r.k === 'out' && r.conn === again.conn.id)
      .map((r) => (r.k === 'out' ? (r.t === 'msg' ? `msg ${r.seq}` : r.t) : ''));
    expect(out).toEqual(['synced', 'conv', 'msg 2', 'msg 3']);
  });
});
