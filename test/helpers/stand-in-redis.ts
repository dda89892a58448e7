// A stand-in for Redis on a real socket, for the lean links' tests (resp-link.ts): each
// command is answered, in order, `hold(words)` ms after the one before it was (Infinity:
// never), with `reply(words)` or what Redis answers to the few commands the links send.
// Commands are read with redis-parser (a command is a RESP array of bulk strings).
import net from 'node:net';
import RedisParser from 'redis-parser';

export interface StandInConn {
  sock: net.Socket;
  /** when the socket closed; null while open */
  closed: number | null;
  got: { words: string[]; at: number }[];
}

export interface StandInOptions {
  /** ms after the reply before it; Infinity: never */
  hold?: (words: string[], conn: StandInConn, conns: StandInConn[]) => number;
  /** the reply as RESP; undefined: the usual one (`standardReply`) */
  reply?: (words: string[], conn: StandInConn, conns: StandInConn[]) => string | undefined;
  /** called just before a reply is written */
  beforeReply?: (words: string[]) => void;
}

export function standardReply(words: string[]): string {
  const name = words[0]!.toUpperCase();
  if (name === 'SUBSCRIBE') return `*3\r\n$9\r\nsubscribe\r\n$${Buffer.byteLength(words[1]!)}\r\n${words[1]}\r\n:1\r\n`;
  if (name === 'PING') return '*2\r\n$4\r\npong\r\n$0\r\n\r\n';
  if (name === 'SCRIPT') return '$40\r\n0000000000000000000000000000000000000000\r\n';
  if (name === 'EVALSHA' || name === 'EVAL') return ':1\r\n';
  return '+OK\r\n';
}

export async function standInRedis(opts: StandInOptions = {}) {
  const hold = opts.hold ?? (() => 0);
  const conns: StandInConn[] = [];
  const server = net.createServer((sock) => {
    const c: StandInConn = { sock, closed: null, got: [] };
    conns.push(c);
    sock.on('close', () => (c.closed = Date.now()));
    sock.on('error', () => {});
    // replies leave in order: each waits for the one before it
    let last = Promise.resolve();
    const parser = new RedisParser({
      returnReply: (v: unknown) => {
        const words = v as string[];
        c.got.push({ words, at: Date.now() });
        const ms = hold(words, c, conns);
        const text = opts.reply?.(words, c, conns) ?? standardReply(words);
        const prev = last;
        last = (async () => {
          await prev;
          if (ms === Infinity) return new Promise<void>(() => {});
          await new Promise((r) => setTimeout(r, ms));
          opts.beforeReply?.(words);
          if (!sock.destroyed) sock.write(text);
        })();
      },
      returnError: () => {},
    });
    sock.on('data', (d) => parser.execute(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    conns,
    close: () =>
      new Promise<void>((r) => {
        for (const c of conns) c.sock.destroy();
        server.close(() => r());
      }),
  };
}
