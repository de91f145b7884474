/** The closed set of error codes of the protocol, each mapped once to its HTTP status. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_cursor: 400,
  invalid_callback: 400,
  unauthorized: 401,
  invalid_token: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  event_ended: 409,
  stale_version: 409,
  idempotency_conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  draining: 503,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface HubErrorOptions {
  /** The offending parameter or body field, for 400s. */
  field?: string;
  /** Seconds the client should wait (429, 503): becomes Retry-After. */
  retryAfterS?: number;
  /** Extra response headers (Allow, WWW-Authenticate). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** The one error type the hub, the stores and the routes throw; mapped to HTTP in one place. */
export class HubError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly retryAfterS: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: HubErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HubError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.field = options.field;
    this.retryAfterS = options.retryAfterS;
    this.headers = options.headers;
  }

  /** The JSON body of this error as the protocol shapes it. */
  toBody(): { error: { code: ErrorCode; message: string; field?: string } } {
    const error: { code: ErrorCode; message: string; field?: string } = { code: this.code, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    return { error };
  }
}

/** Shorthand for the most common refusal: 400 invalid_request naming the field. */
export function invalid(field: string, message: string): HubError {
  return new HubError('invalid_request', message, { field });
}

/** True when a value is a HubError (also across module copies). */
export function isHubError(value: unknown): value is HubError {
  return value instanceof HubError;
}
