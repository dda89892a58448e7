// Embedded, Toxiproxy-compatible TCP fault proxy.
export { startToxiproxyServer, TOXIPROXY_VERSION } from './proxy-server.ts';
export type { ToxiproxyServer, ToxiproxyServerOptions } from './proxy-server.ts';
export { ProxyCollection } from './proxy-collection.ts';
export { Proxy, ProxyAlreadyStartedError } from './proxy.ts';
export type { ProxyConfig, ProxyJson } from './proxy.ts';
export { ToxicCollection, ToxicWrapper } from './toxic-collection.ts';
export type { Direction, ToxicJson } from './toxic-collection.ts';
export { ApiError } from './api-error.ts';
export { toxicRegistry } from './toxics/index.ts';
export type { Toxic, ToxicDefinition } from './toxics/index.ts';
