// The one error every limiter store throws, in a file of its own so the stores and the limiter share it without a cycle.

/**
 * The rate-limit store failed (connection refused, timeout, script error): no decision was made.
 * Callers choose to fail open or closed; the message is fixed and carries no key or URL.
 */
export class RateLimitStoreError extends Error {
  /** @param cause what the driver threw, kept for logs; never shown to clients */
  constructor(cause: unknown) {
    super('Rate limit store failed', { cause })
    this.name = 'RateLimitStoreError'
  }
}

/**
 * Whether a value is a {@link RateLimitStoreError}.
 * @param error any thrown value
 */
export function isRateLimitStoreError(error: unknown): error is RateLimitStoreError {
  return error instanceof RateLimitStoreError
}
