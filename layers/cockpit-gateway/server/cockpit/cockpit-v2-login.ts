import { CockpitError } from './cockpit-errors'
import type { CockpitHttp } from './cockpit-http'
import { cockpitStatusError, parseCockpitJson } from './cockpit-response'
import type { CockpitUser } from './cockpit-types'
import { isCockpitPlainObject } from './cockpit-validate'

// The login form embeds its single-use token as `csrf: "<JWT>"` in an inline script.
const CSRF_PATTERN = /\bcsrf\s*:\s*["']([A-Za-z0-9._~+/=-]{10,4096})["']/

/**
 * Checks a username and password against Cockpit v2. v2 has no REST endpoint for this, so it replays
 * the admin UI's login: `GET /auth/login` (csrf token + session cookie), then `POST /auth/check`.
 *
 * Every attempt uses a fresh cookie jar that lives only in this call: a logged-in Cockpit session
 * refuses a second login (404), and its cookie is an admin-UI session for that user, which the
 * gateway has no business keeping. No key is involved.
 *
 * Accounts with two-factor authentication resolve `null`: the second factor is an admin-UI step
 * (`/auth/validate2FA`) the gateway does not relay, so such accounts can't log in through it.
 * @param http the shared transport
 * @param username Cockpit username (Cockpit also accepts the email)
 * @param password the password; sent once, in the body of `/auth/check`, never logged
 * @returns the user, or `null` for an unknown user, a wrong password, an inactive, `public`-role or 2FA account
 * @throws CockpitError `UPSTREAM_ERROR` when the login flow itself breaks (no csrf, no session cookie,
 *   `APP_LOGIN_SESSION_INVALID`, already logged in), `UPSTREAM_UNAVAILABLE`, `UPSTREAM_TIMEOUT`
 */
export async function authenticateCockpitV2User(http: CockpitHttp, username: string, password: string): Promise<CockpitUser | null> {
  // Cockpit answers 412 "Precondition Failed" to empty credentials: they can't be right, skip the trip.
  if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) return null

  const form = await http({ method: 'GET', path: '/auth/login', accept: 'text/html', operation: 'authenticate:form' })
  // 302 here means a session that is already logged in, which a fresh jar can't have: a broken flow.
  if (form.status !== 200) throw cockpitStatusError(form.status)
  const csrf = CSRF_PATTERN.exec(form.text)?.[1]
  const cookie = readCockpitSessionCookie(form.headers)
  // Without both, /auth/check can only fail; don't send the password for nothing.
  if (!csrf || !cookie) throw new CockpitError('UPSTREAM_ERROR', form.status)

  const check = await http({
    method: 'POST',
    path: '/auth/check',
    json: { auth: { user: username, password }, csrf },
    secretHeaders: { cookie },
    operation: 'authenticate',
  })
  if (check.status === 401) return null // a user whose role is `public`
  if (check.status !== 200) throw cockpitStatusError(check.status) // 412 session invalid, 404 logged in, 5xx
  return toCockpitV2User(parseCockpitJson(check.text), check.status)
}

/**
 * Maps an `/auth/check` answer to a {@link CockpitUser}, picking known fields only.
 * @param body the parsed answer
 * @param status the upstream status, kept on errors
 * @returns the user, or `null` for `{success:false}` and for a 2FA challenge
 */
export function toCockpitV2User(body: unknown, status?: number): CockpitUser | null {
  if (!isCockpitPlainObject(body) || typeof body.success !== 'boolean') throw new CockpitError('UPSTREAM_ERROR', status)
  if (!body.success) return null
  const user = body.user
  if (!isCockpitPlainObject(user)) throw new CockpitError('UPSTREAM_ERROR', status)
  if ('twofa' in user) return null
  if (typeof user._id !== 'string' || typeof user.user !== 'string' || typeof user.role !== 'string') {
    throw new CockpitError('UPSTREAM_ERROR', status)
  }
  return {
    id: user._id,
    username: user.user,
    name: typeof user.name === 'string' && user.name ? user.name : user.user,
    ...(typeof user.email === 'string' && user.email ? { email: user.email } : {}),
    role: user.role,
  }
}

/**
 * Builds a `Cookie` header from the `Set-Cookie` headers of one answer (name=value pairs only).
 * @param headers the answer's headers
 * @returns the header value, or `undefined` when no cookie was set
 */
export function readCockpitSessionCookie(headers: Pick<Headers, 'get'> & Partial<Pick<Headers, 'getSetCookie'>>): string | undefined {
  const lines = typeof headers.getSetCookie === 'function'
    ? headers.getSetCookie()
    // Older runtimes join the headers with ", "; split only where a new `name=` starts.
    : (headers.get('set-cookie') ?? '').split(/,\s*(?=[^;,=\s]+=)/)
  const jar = new Map<string, string>()
  for (const line of lines) {
    const pair = line.split(';', 1)[0]!.trim()
    const eq = pair.indexOf('=')
    if (eq < 1) continue
    const value = pair.slice(eq + 1)
    if (value === 'deleted') jar.delete(pair.slice(0, eq))
    else jar.set(pair.slice(0, eq), value)
  }
  return jar.size ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : undefined
}
