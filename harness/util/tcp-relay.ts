// A small TCP relay on 127.0.0.1 used to cut or stall one node's Redis link.
import net from 'node:net';

export interface Relay {
  readonly port: number;
  /** redis://127.0.0.1:port */
  readonly url: string;
  /** Number of client connections currently relayed. */
  readonly connections: number;
  /** Destroy every current socket (RST) and refuse new connections until restore(). */
  cut(): void;
  /** Stop forwarding in both directions, keeping sockets open (data waits, it is not lost). */
  stall(): void;
  /** Back to normal forwarding (accepting again after cut, flushing what waited after stall). */
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export async function startRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<Relay> {
  const pairs = new Set<Pair>();
  let mode: 'open' | 'cut' | 'stalled' = 'open';

  const destroy = (p: Pair) => {
    pairs.delete(p);
    p.client.resetAndDestroy();
    if (p.upstream.connecting) p.upstream.destroy();
    else p.upstream.resetAndDestroy();
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk) => {
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => {
            if (mode === 'open') from.resume();
          });
        }
      });
      from.on('end', () => to.end());
      from.on('error', () => destroy(pair));
      from.on('close', () => {
        if (pairs.has(pair)) destroy(pair);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    upstream.once('connect', () => {
      if (mode === 'open') client.resume();
      else upstream.pause();
    });
  });
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    cut() {
      mode = 'cut';
      for (const p of [...pairs]) destroy(p);
    },
    stall() {
      mode = 'stalled';
      for (const p of pairs) {
        p.client.pause();
        p.upstream.pause();
      }
    },
    restore() {
      mode = 'open';
      for (const p of pairs) {
        p.client.resume();
        if (!p.upstream.connecting) p.upstream.resume();
      }
    },
    async close() {
      mode = 'cut';
      for (const p of [...pairs]) destroy(p);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
