/**
 * The bytes of a server's WebSocket text message (RFC 6455 §5.2: final frame, opcode 1,
 * unmasked, no extension bits) — the same bytes `ws`'s Sender writes for it with
 * perMessageDeflate off — built in one buffer, header and payload together.
 *
 * Why (issue 10): through `ws`, every frame costs two option objects, a header buffer and
 * two writes into the socket's stream (header, then payload), and a live `msg` is framed
 * again for each recipient. Built here, a message is framed once per node and each
 * recipient's socket gets one write of the same buffer (ServerSocket.sendFramed).
 */

/** Bytes of the header for a payload of `n` bytes (2, 4 or 10). */
export function headerBytes(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

function writeHeader(buf: Buffer, n: number): number {
  buf[0] = 0x81; // FIN + text
  if (n < 126) {
    buf[1] = n;
    return 2;
  }
  if (n < 65536) {
    buf[1] = 126;
    buf.writeUInt16BE(n, 2);
    return 4;
  }
  buf[1] = 127;
  buf.writeUInt32BE(Math.floor(n / 0x100000000), 2);
  buf.writeUInt32BE(n >>> 0, 6);
  return 10;
}

/** One text message, framed: `frame` is what goes on the wire, `payload` the text's UTF-8 bytes (a view into it). */
export interface TextFrame {
  readonly frame: Buffer;
  readonly payload: Buffer;
}

function build(text: string, n: number): Buffer {
  const h = headerBytes(n);
  const frame = Buffer.allocUnsafe(h + n);
  writeHeader(frame, n);
  frame.write(text, h, n, 'utf8');
  return frame;
}

/** `text` (a JSON frame of PROTOCOL.md) framed as one WebSocket text message. */
export function frameText(text: string): Buffer {
  return build(text, Buffer.byteLength(text));
}

/** `text` framed, with its payload beside (for sockets that frame for themselves). */
export function textFrame(text: string): TextFrame {
  const n = Buffer.byteLength(text);
  const frame = build(text, n);
  return { frame, payload: frame.subarray(frame.length - n) };
}
