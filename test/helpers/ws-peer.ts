// A minimal protocol peer for fleet tests: a real ws server on loopback whose connections the
// test drives by hand (no Redis, no server process), for client behaviour a real node cannot
// be made to show on cue (refusals, a steady push rate).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface WsPeer {
  /** ws://127.0.0.1:<port>/ws */
  url: string;
  /** ends every connection and the server */
  close: () => Promise<void>;
}

export async function wsPeer(onConnection: (ws: WebSocket) => void): Promise<WsPeer> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise((r) => server.close(r));
    },
  };
}
