import { describe, expect, it } from 'vitest';
// ws's own framing, the reference the server's must equal byte for byte
import * as ws from 'ws';
import { frameText, headerBytes, textFrame } from '../../server/gateway/ws-frame.ts';

/** What ws's Sender writes for a server's (unmasked, uncompressed, final) text message. */
function wsFrame(text: string): Buffer {
  const parts = (ws as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } }).Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false });
  return Buffer.concat(parts);
}

describe('ws-frame', () => {
  // every length class of RFC 6455's header (7-bit, 16-bit, 64-bit) at its edges, and text
  // whose UTF-8 is longer than its UTF-16 (the length is in bytes)
  const texts = ['', 'x', '{"t":"ok","id":"1"}', 'a'.repeat(125), 'a'.repeat(126), 'é'.repeat(63), 'é'.repeat(64), '💬'.repeat(40), 'a'.repeat(65535), 'a'.repeat(65536), 'ü'.repeat(40_000)];

  it.each(texts.map((t) => [t.length, t] as const))('frames a text of %i UTF-16 units as ws does', (_n, text) => {
    const want = wsFrame(text);
    expect(frameText(text).equals(want)).toBe(true);
    const f = textFrame(text);
    expect(f.frame.equals(want)).toBe(true);
    expect(f.payload.toString('utf8')).toBe(text);
    expect(f.frame.length - f.payload.length).toBe(headerBytes(Buffer.byteLength(text)));
  });
});
