/**
 * A wait as the login page tells it: under a minute in seconds, otherwise in whole minutes rounded up, so the
 * text is never shorter than the real wait (`retryAfter` is already rounded up to whole seconds).
 * @param seconds the server's `retryAfter`
 * @example formatLoginWait(61) // '2 minutes'
 */
export function formatLoginWait(seconds?: number): string {
  if (!seconds || !Number.isFinite(seconds) || seconds <= 0) return 'a moment'
  const whole = Math.ceil(seconds)
  if (whole < 60) return whole === 1 ? '1 second' : `${whole} seconds`
  const minutes = Math.ceil(whole / 60)
  return minutes === 1 ? '1 minute' : `${minutes} minutes`
}
