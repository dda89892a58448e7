import { BlockList, isIP, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';

/**
 * Sockets refused outright above MAX_CONNECTIONS plus this many: those in between are
 * accepted only to be told why (a WebSocket upgrade is closed 1013, a plain request answered
 * 503), so a flood cannot take the process's file descriptors.
 */
export const REFUSAL_SLACK = 128;

/** `::ffff:1.2.3.4` and `1.2.3.4` are one address. */
export function normalizeAddress(addr: string | undefined): string {
  if (!addr) return '?';
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr;
}

/** TRUSTED_PROXIES: a comma list of addresses and CIDR ranges; throws naming a bad entry. */
export function parseTrustedProxies(list: string): BlockList | null {
  const entries = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (!entries.length) return null;
  const bl = new BlockList();
  for (const e of entries) {
    const [addr, bits, extra] = e.split('/');
    const family = isIP(addr ?? '');
    const max = family === 4 ? 32 : 128;
    if (!family || extra !== undefined || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
      throw new Error(`"${e}" is not an IP address or CIDR range (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8)`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) bl.addAddress(addr!, type);
    else bl.addSubnet(addr!, Number(bits), type);
  }
  return bl;
}

/**
 * Admission of sockets on the public port (issue 8, item 9): every socket — plain HTTP,
 * not yet upgraded, WebSocket — counts toward MAX_CONNECTIONS, and at most
 * MAX_CONNECTIONS_PER_ADDRESS come from one source address (0: no per-address cap). A peer
 * listed in TRUSTED_PROXIES is not capped itself; the client address its upgrade requests
 * carry in X-Forwarded-For is, for the life of that WebSocket.
 */
export class Admission {
  private total = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly overLimit = new WeakSet<object>();

  private readonly maxConnections: number;
  private readonly maxPerAddress: number;
  private readonly trusted: BlockList | null;

  constructor(maxConnections: number, maxPerAddress: number, trusted: BlockList | null) {
    this.maxConnections = maxConnections;
    this.maxPerAddress = maxPerAddress;
    this.trusted = trusted;
  }

  /** Sockets open on the public port now. */
  get open(): number {
    return this.total;
  }

  /** On accept. False: destroy the socket at once (far over the limit, or its address is). */
  accept(socket: Socket): boolean {
    if (this.total >= this.maxConnections + REFUSAL_SLACK) return false;
    let key: string | null = null;
    if (this.maxPerAddress > 0) {
      const addr = normalizeAddress(socket.remoteAddress);
      if (!this.isTrusted(addr)) {
        if (!this.take(addr)) return false;
        key = addr;
      }
    }
    this.total++;
    if (this.total > this.maxConnections) this.overLimit.add(socket);
    // one listener shared by every socket (`on`, not `once`: 'close' comes once, and `once`
    // would wrap it per socket) — idle connections are counted in bytes
    if (key !== null) this.addressOf.set(socket, key);
    socket.on('close', this.onClose);
    return true;
  }

  private readonly addressOf = new WeakMap<object, string>();
  private readonly onClose = (() => {
    const admission = this;
    return function (this: Socket) {
      admission.closed(this);
    };
  })();

  private closed(socket: object): void {
    this.total--;
    const key = this.addressOf.get(socket);
    if (key !== undefined) this.release(key);
  }

  /** Accepted over MAX_CONNECTIONS: its upgrade is closed 1013, its requests answered 503. */
  isOverLimit(socket: object): boolean {
    return this.overLimit.has(socket);
  }

  /**
   * On an upgrade from a trusted proxy: counts the forwarded client address until the socket
   * closes. False: that address is at its cap (close 1013).
   */
  admitForwarded(socket: Socket, req: IncomingMessage): boolean {
    if (this.maxPerAddress === 0) return true;
    const peer = normalizeAddress(socket.remoteAddress);
    if (!this.isTrusted(peer)) return true;
    const client = this.forwardedClient(req) ?? peer;
    if (this.isTrusted(client)) return true;
    if (!this.take(client)) return false;
    socket.once('close', () => this.release(client));
    return true;
  }

  /** The rightmost X-Forwarded-For entry that is not a trusted proxy (the leftmost ones are the client's to forge). */
  private forwardedClient(req: IncomingMessage): string | null {
    const h = req.headers['x-forwarded-for'];
    const list = (Array.isArray(h) ? h.join(',') : (h ?? '')).split(',').map((s) => normalizeAddress(s.trim())).filter((s) => isIP(s));
    for (let i = list.length - 1; i >= 0; i--) if (!this.isTrusted(list[i]!)) return list[i]!;
    return null;
  }

  private isTrusted(addr: string): boolean {
    if (!this.trusted || !isIP(addr)) return false;
    return this.trusted.check(addr, isIP(addr) === 4 ? 'ipv4' : 'ipv6');
  }

  private take(addr: string): boolean {
    const n = (this.perAddress.get(addr) ?? 0) + 1;
    if (n > this.maxPerAddress) return false;
    this.perAddress.set(addr, n);
    return true;
  }

  private release(addr: string): void {
    const n = (this.perAddress.get(addr) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(addr);
    else this.perAddress.set(addr, n);
  }
}
