/** Error codes and close codes of PROTOCOL.md, with their retryability and HTTP status. */
export const errorCodes = {
  bad_request: { retryable: false, http: 400 },
  unauthorized: { retryable: false, http: 401 },
  forbidden: { retryable: false, http: 403 },
  not_found: { retryable: false, http: 404 },
  conflict: { retryable: false, http: 409 },
  too_large: { retryable: false, http: 413 },
  rate_limited: { retryable: true, http: 429 },
  unavailable: { retryable: true, http: 503 },
  internal: { retryable: true, http: 500 },
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** An expected, answerable failure: becomes an `error` frame or an HTTP error body. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  /** `cause`: what failed underneath (a store error the client hears only as `unavailable`), for the node's log */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export const CloseCode = {
  shutdown: 1001,
  frameTooLarge: 1009,
  tryAgainLater: 1013,
  badFrames: 4400,
  unauthorized: 4401,
  heartbeatTimeout: 4408,
  replaced: 4409,
  slowConsumer: 4413,
  tooManyDevices: 4429,
} as const;
