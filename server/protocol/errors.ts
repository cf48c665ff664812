/**
 * Every error and close code that crosses the wire, with a short human message the UI can show.
 * Fatal codes mean "do not retry with the same credentials/input"; retryable ones may succeed later.
 */
export const ERRORS = {
  bad_request: { status: 400, fatal: true, message: 'The request was malformed.' },
  invalid_message: { status: 400, fatal: false, message: 'A message did not match the protocol.' },
  protocol_version: { status: 400, fatal: true, message: 'This client speaks a different protocol version; reload the page.' },
  unauthorized: { status: 401, fatal: true, message: 'Sign in to this project first (missing or invalid token).' },
  forbidden: { status: 403, fatal: true, message: 'Your role in this project does not allow that.' },
  not_found: { status: 404, fatal: true, message: 'No such project.' },
  wrong_code: { status: 404, fatal: true, message: 'No project has that join code.' },
  run_active: { status: 409, fatal: false, message: 'A training run is already going in this project.' },
  invalid_spec: { status: 422, fatal: true, message: 'The model spec is not valid.' },
  payload_too_large: { status: 413, fatal: true, message: 'The message is larger than allowed.' },
  rate_limited: { status: 429, fatal: false, message: 'Too many attempts; wait a little and try again.' },
  stale_update: { status: 409, fatal: false, message: 'The update arrived for a round that is no longer open.' },
  bad_update: { status: 422, fatal: false, message: 'The update was rejected (wrong size, shape or non-finite values).' },
  not_assigned: { status: 409, fatal: false, message: 'This client has no assignment in the current round.' },
  db_unavailable: { status: 503, fatal: false, message: 'The database cannot be reached right now; training goes on. Try again in a moment.' },
  internal: { status: 500, fatal: false, message: 'Something went wrong on the server.' },
} as const satisfies Record<string, { status: number; fatal: boolean; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The JSON body of every HTTP error and the payload of a socket `error` message. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** An error that knows its wire code; thrown by cores and mapped to HTTP/socket errors by shells. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
  get status(): number {
    return ERRORS[this.code].status;
  }
  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

/** For exhaustive switches: a compile error when a case is missing, a runtime error if reached. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
