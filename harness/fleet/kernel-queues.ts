import { readFile } from 'node:fs/promises';

/**
 * What the kernel holds of one loopback TCP connection, from /proc/net/tcp{,6}: the bytes in
 * the client's receive queue (rx_queue of the socket at `localPort`) and in the peer's send
 * queue (tx_queue of the socket at `remotePort` whose peer is `localPort`). Both ends must be
 * on this host (the local environment; a node in a container has its own table). Linux only:
 * null where the table cannot be read or either end is missing.
 *
 * Used by the slow-consumer check: what a device that stopped reading finds waiting when it
 * reads again, less what the kernel held, is what the node kept for it in memory. The table
 * has a line per socket on the host (12,000–15,000 here, far more beside a big run): it is
 * read off the event loop, once for every device whose stall ends within READ_SHARE_MS (a
 * device group's stalls end together), and scanned with two regexes, not parsed line by line.
 */
export async function kernelQueues(localPort: number, remotePort: number): Promise<{ rx: number; tx: number } | null> {
  const tables = await readTables();
  const lp = hexPort(localPort);
  const rp = hexPort(remotePort);
  // "  12: 0100007F:9C41 0100007F:1F90 01 00000000:00001234 …": local, remote, state, tx_queue:rx_queue
  const line = (from: string, to: string) => new RegExp(`^\\s*\\d+: [0-9A-F]+:${from} [0-9A-F]+:${to} [0-9A-F]{2} ([0-9A-F]{8}):([0-9A-F]{8})`, 'm');
  const mine = line(lp, rp);
  const peer = line(rp, lp);
  let rx: number | undefined;
  let tx: number | undefined;
  for (const text of tables) {
    const m = rx === undefined ? mine.exec(text) : null;
    if (m) rx = parseInt(m[2]!, 16);
    const p = tx === undefined ? peer.exec(text) : null;
    if (p) tx = parseInt(p[1]!, 16);
  }
  return rx === undefined || tx === undefined ? null : { rx, tx };
}

const READ_SHARE_MS = 100;
let shared: { at: number; tables: Promise<string[]> } | null = null;

function readTables(): Promise<string[]> {
  const now = Date.now();
  if (shared && now - shared.at < READ_SHARE_MS) return shared.tables;
  const tables = Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((f) => readFile(f, 'latin1').catch(() => ''))).then((t) => t.filter(Boolean));
  shared = { at: now, tables };
  return tables;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
