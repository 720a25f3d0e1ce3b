/** Stable error codes of the HTTP API. Clients switch on these, never on messages. */
export type ApiErrorCode =
  | 'INVALID_INPUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_FOUND'
  | 'PRODUCT_NOT_FOUND'
  | 'INSUFFICIENT_STOCK'
  | 'LOCK_NOT_ACQUIRED'
  | 'LOCK_TIMEOUT'
  | 'LOCK_CAPACITY'
  | 'LOCK_LOST'
  | 'STORE_UNAVAILABLE'
  | 'SHUTTING_DOWN'
  | 'INTERNAL_ERROR';

/** The JSON body of every error response. */
export interface ApiErrorBody {
  readonly error: {
    readonly code: ApiErrorCode;
    readonly message: string;
    /** The request field at fault (`quantity`, `productId`, `body`...), for input errors. */
    readonly field?: string;
  };
}

/**
 * An error that already knows its HTTP status and code (thrown by validation).
 *
 * @example
 * throw new ApiError(400, 'INVALID_INPUT', 'quantity must be a positive integer', { field: 'quantity' });
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly field: string | undefined;
  constructor(status: number, code: ApiErrorCode, message: string, options: { field?: string } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = options.field;
  }
}
