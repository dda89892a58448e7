// The answers PROTOCOL.md defines for each kind of bad input the hostile clients send
// (answer strings as in answers.ts). harness/checks/answers.ts holds every recorded answer
// to this table. Where PROTOCOL.md is silent the rule says whose rule it is.

export interface AnswerRule {
  allowed: readonly string[];
  /** where the answer is defined */
  rule: string;
}

const badRequest = (allowed: string[] = ['error:bad_request#id']): AnswerRule => ({ allowed, rule: 'PROTOCOL.md Error codes: bad_request — not JSON, not an object, unknown `t`, missing or ill-typed field, bad id; a request with an id gets one final reply echoing it' });
const http = (status: number, code: string, also: string[] = []): AnswerRule => ({ allowed: [`http:${status}:${code}`, ...also], rule: `PROTOCOL.md HTTP: errors are JSON {code, message} with the status of the code (${status} ${code}), never a stack trace` });
const unauthorizedClose: AnswerRule = { allowed: ['error:unauthorized#id+close:4401'], rule: 'PROTOCOL.md Tokens / Connect: a bad token is `error` `unauthorized` and close 4401' };
const flood = (result: string): AnswerRule => ({ allowed: [`${result}#id`, 'error:rate_limited#id', 'error:unavailable#id', 'close:4408', 'close:4413'], rule: 'PROTOCOL.md: every request gets its one reply (rate_limited, or unavailable when the store did not confirm within STORE_TIMEOUT_MS), replies paced by the socket draining; a reader that never drains is cut 4408 or 4413' });
/** a route that writes or reads the store may also answer 503 unavailable (PROTOCOL.md: the store did not confirm within STORE_TIMEOUT_MS) */
const store = (r: AnswerRule): AnswerRule => ({ allowed: [...r.allowed, 'http:503:unavailable'], rule: `${r.rule}; or 503 unavailable when the store did not confirm within STORE_TIMEOUT_MS` });

export const PROTOCOL_ANSWERS: Readonly<Record<string, AnswerRule>> = {
  // protocol fuzz on welcomed connections
  'frame.not-json': badRequest(['error:bad_request']),
  'frame.not-object': badRequest(['error:bad_request']),
  'frame.bad-id': badRequest(['error:bad_request']),
  'frame.proto-only': badRequest(['error:bad_request']),
  'frame.unknown-type': badRequest(),
  'frame.mistyped': badRequest(),
  'frame.missing-field': badRequest(),
  'frame.out-of-range': badRequest(),
  'frame.hello-again': badRequest(),
  'frame.deep': { allowed: ['error:bad_request', 'error:bad_request#id'], rule: 'issue 8 item 2: JSON nested deeper than a small limit is refused (bad_request); the id may not be read' },
  'frame.body-too-large': { allowed: ['error:too_large#id'], rule: 'PROTOCOL.md: a `body` over MAX_BODY_BYTES answers too_large' },
  'frame.too-many-subs': { allowed: ['error:too_large#id'], rule: 'PROTOCOL.md: a presence.sub that would exceed PRESENCE_SUBS_MAX is refused whole with too_large' },
  'frame.not-member': { allowed: ['error:forbidden#id'], rule: 'PROTOCOL.md Error codes: forbidden — not a member of conv' },
  'frame.proto-extra': { allowed: ['pong#id'], rule: 'PROTOCOL.md: unknown fields are ignored (`__proto__` and `constructor` are fields like any other)' },
  'frame.proto-users': { allowed: ['ok#id'], rule: 'PROTOCOL.md: presence.sub / presence.unsub answer ok; `__proto__` is a valid user id' },
  'frame.ack-past-head': { allowed: ['ok#id', 'error:unavailable#id'], rule: 'PROTOCOL.md: an ack never moves the cursor past the head; with an id it answers ok (or unavailable when the store did not confirm in time)' },
  'frame.ack-implicit-dm': { allowed: ['ok#id', 'error:forbidden#id', 'error:unavailable#id'], rule: 'an ack in the own dm before its first message (its store failed): PROTOCOL.md says a dm exists implicitly, the server answers forbidden until it is stored; either is taken' },
  'frame.unsub-unknown': { allowed: ['ok#id'], rule: 'PROTOCOL.md: presence.unsub answers ok' },
  'frame.ten-bad': { allowed: ['close:4400'], rule: 'PROTOCOL.md: ten bad_request frames in a row close the connection 4400' },
  'frame.extra-reply': { allowed: [], rule: 'PROTOCOL.md: exactly one final reply per request; nothing else answers' },
  'hello.not-hello': { allowed: ['error:unauthorized+close:4401'], rule: 'PROTOCOL.md Connect: any other first frame: error unauthorized, close 4401' },
  'hello.valid': { allowed: ['error:unavailable#id+close:1013'], rule: 'PROTOCOL.md Connect: a valid hello is welcomed; if the store fails during the handshake, error unavailable, close 1013' },
  // tokens
  'token.hello': unauthorizedClose,
  'token.auth': unauthorizedClose,
  'token.http': http(401, 'unauthorized'),
  // transport
  'tcp.connect': { allowed: [], rule: 'the node accepts connections (it is alive)' },
  'tcp.upgrade-other-path': http(404, 'not_found'),
  'tcp.slowloris': { allowed: ['closed', 'http:408:nojson'], rule: 'README HTTP_HEADERS_TIMEOUT_MS: a socket that drips its headers is closed after it' },
  'tcp.idle': { allowed: ['closed', 'http:408:nojson'], rule: 'README HTTP_HEADERS_TIMEOUT_MS: a socket that never sends anything is closed after it' },
  'ws.no-hello': { allowed: ['close:4401'], rule: 'PROTOCOL.md Connect: no hello within HELLO_TIMEOUT_MS closes 4401' },
  'ws.ping-flood': { allowed: ['pong#id', 'close:1006'], rule: "PROTOCOL.md: ping answers pong (it is silent on ping floods: ws's maxPendingAutoPongs terminates a client whose auto-pongs pile up, without a close frame)" },
  'ws.oversized': { allowed: ['close:1009'], rule: 'PROTOCOL.md MAX_FRAME_BYTES: larger inbound frames close 1009' },
  'ws.fragmented': { allowed: ['pong#id'], rule: 'RFC 6455 §5.4: a fragmented message is one message' },
  'ws.fragmented-oversized': { allowed: ['close:1009'], rule: 'PROTOCOL.md MAX_FRAME_BYTES: larger inbound frames (messages) close 1009' },
  'ws.binary': { allowed: ['error:bad_request'], rule: 'PROTOCOL.md: text frames only; a binary frame is a bad frame' },
  'ws.first-frame': { allowed: ['error:unauthorized+close:4401'], rule: 'PROTOCOL.md Connect: any other first frame: error unauthorized, close 4401' },
  'ws.invalid-utf8': { allowed: ['close:1007'], rule: 'RFC 6455 §8.1 (PROTOCOL.md is silent): a text frame that is not UTF-8 fails the connection, 1007' },
  // floods
  'flood.history': flood('page'),
  'flood.presence': flood('ok'),
  'http.metrics': { allowed: ['http:200:text'], rule: 'PROTOCOL.md /metrics: Prometheus text (no METRICS_TOKEN set)' },
  // group spam
  'group.create': store({ allowed: ['http:201:json'], rule: 'PROTOCOL.md POST /v1/groups: 201' }),
  'group.create-too-many': http(413, 'too_large'),
  'group.create-existing': store(http(409, 'conflict')),
  'group.add-not-member': store(http(403, 'forbidden')),
  'group.add-no-group': store(http(404, 'not_found')),
  'group.add-too-many': http(413, 'too_large'),
  'group.bad-request': http(400, 'bad_request'),
  'group.burst': store({ allowed: ['http:201:json', 'http:429:rate_limited'], rule: 'README GROUP_OPS_RATE/BURST: past the per-user bucket, 429 rate_limited' }),
  // HTTP fuzz
  'http.bad-token': http(401, 'unauthorized'),
  'http.bad-body': http(400, 'bad_request'),
  'http.group-bad-body': http(400, 'bad_request', ['http:429:rate_limited']),
  'http.bad-query': http(400, 'bad_request'),
  'http.bad-percent': http(400, 'bad_request'),
  'http.unknown-route': http(404, 'not_found'),
  'http.not-operator': http(403, 'forbidden'),
  'http.health': { allowed: ['http:200:json', 'http:503:unavailable'], rule: 'PROTOCOL.md: GET /healthz answers 200 while the process runs; GET /readyz 200 when the store answers, else 503 (the query is ignored)' },
  'http.not-member': http(403, 'forbidden'),
  'http.body-past-cap': http(413, 'too_large'),
};
