import { randomBytes } from 'node:crypto'
import bcrypt from 'bcryptjs'
import type { H3Event } from 'h3'
import { getCookie, setCookie, setResponseHeader } from 'h3'
import { LIME_HTML, sendExact, sendJson } from './http'
import { createJwt, createJwtSecret } from './jwt'
import { isPlainObject } from './json'
import { nowSeconds } from './ids'
import type { Doc } from './query'
import type { ApiRequest } from './request'
import { STORAGE_KEYS } from './seed-data'
import type { DocumentStore } from './store'

/** Name of the PHP session cookie (Cockpit derives it from an md5; this is a fixed one). */
export const V2_SESSION_COOKIE = 'e83850b838cf3b3a451998465d54c0f1'

/** Body of Lime's 404 for a controller action that returns false (text/html, odd spacing and all). */
const LIME_NOT_AVAILABLE = '{"error": "404", "message":"Requested resource is not available"}'

interface AdminSession {
  /** The pending single-use `app.login` csrf token. */
  loginCsrf?: string
  /** Set once `/auth/check` succeeded: the session is logged into the admin UI. */
  user?: Doc
}

/** The admin-UI sessions of one v2 emulator (PHP sessions, in memory). */
export interface AdminSessions {
  /** `GET /auth/login`: the login page with a fresh csrf, or `302 /` when already logged in. */
  login(request: ApiRequest): Promise<void>
  /** `POST /auth/check`: username (or email) + password + csrf. */
  check(request: ApiRequest, store: DocumentStore): Promise<void>
  /** `GET /`: the dashboard when logged in, else a redirect to the login page. */
  home(request: ApiRequest): Promise<void>
  /** Forgets every session (used by `reset()`). */
  clear(): void
}

/** Creates the session store and the `/auth/*` handlers of a v2 emulator. */
export function createAdminSessions(): AdminSessions {
  const sessions = new Map<string, AdminSession>()
  const secret = createJwtSecret()

  const findSession = (event: H3Event): AdminSession | undefined => {
    const id = getCookie(event, V2_SESSION_COOKIE)
    return id ? sessions.get(id) : undefined
  }

  const openSession = (event: H3Event): AdminSession => {
    const existing = findSession(event)
    if (existing) return existing
    const id = randomBytes(13).toString('hex')
    const session: AdminSession = {}
    sessions.set(id, session)
    setCookie(event, V2_SESSION_COOKIE, id, { path: '/', httpOnly: true, sameSite: 'lax' })
    return session
  }

  const csrfToken = (name: string) => createJwt({ csrf: name, iat: nowSeconds(), nonce: randomBytes(8).toString('hex') }, secret)

  const redirect = (event: H3Event, location: string) => {
    setResponseHeader(event, 'location', location)
    return sendExact(event, 302, '', LIME_HTML)
  }

  return {
    async login(request) {
      const { event } = request
      if (findSession(event)?.user) return redirect(event, '/')
      const session = openSession(event)
      session.loginCsrf = csrfToken('app.login')
      setResponseHeader(event, 'cache-control', 'no-store, no-cache, must-revalidate')
      return sendExact(event, 200, renderLoginPage(session.loginCsrf), LIME_HTML)
    },

    async check(request, store) {
      const { event, params } = request
      const session = findSession(event)
      if (session?.user) return sendExact(event, 404, LIME_NOT_AVAILABLE, LIME_HTML)
      const auth = params.auth
      if (!isPlainObject(auth) || typeof auth.user !== 'string' || typeof auth.password !== 'string') {
        return sendExact(event, 412, 'Precondition Failed', LIME_HTML)
      }
      const csrf = params.csrf
      if (!session?.loginCsrf || typeof csrf !== 'string' || csrf !== session.loginCsrf) {
        return sendJson(event, 412, { error: 'APP_LOGIN_SESSION_INVALID' })
      }
      // single use: a second attempt needs a new /auth/login
      session.loginCsrf = undefined
      const user = await authenticate(store, auth.user, auth.password)
      if (!user) return sendJson(event, 200, { success: false })
      if (user.role === 'public') return sendExact(event, 401, '', LIME_HTML)
      session.user = user
      return sendJson(event, 200, { success: true, user, csrf: csrfToken('app.csrf') })
    },

    async home(request) {
      const { event } = request
      if (!findSession(event)?.user) return redirect(event, '/auth/login?to=/')
      return sendExact(event, 200, '<!DOCTYPE html><html><head><title>Cockpit</title></head><body>Dashboard</body></html>', LIME_HTML)
    },

    clear() {
      sessions.clear()
    },
  }
}

const EMAIL = /^[^\s@\0]+@[^\s@\0]+\.[^\s@\0]+$/

/**
 * The spellings `/auth/check` accepts (contract 1.7, observed on 2.13.2): an email (PHP's
 * `FILTER_VALIDATE_EMAIL`, which refuses a NUL) is looked up exactly in `email`; anything else exactly in
 * `user`, but only up to the first NUL (the storage layer cuts the string there). Whitespace and case count.
 * @param login the `auth.user` sent
 */
function getV2LoginFilter(login: string): { field: 'email' | 'user', value: string } {
  if (EMAIL.test(login)) return { field: 'email', value: login }
  const nul = login.indexOf('\0')
  return { field: 'user', value: nul === -1 ? login : login.slice(0, nul) }
}

/**
 * Cockpit's `auth->authenticate`: an active user by `user` (or by `email` when the input is an
 * email), bcrypt-checked. Returns the user as the session sees it: no password, key, reset token or 2FA.
 */
async function authenticate(store: DocumentStore, login: string, password: string): Promise<Doc | undefined> {
  const { field, value } = getV2LoginFilter(login)
  const users = await store.read(STORAGE_KEYS.v2Users)
  const user = users.find(record => record[field] === value && record.active === true)
  if (!user || typeof user.password !== 'string' || !bcrypt.compareSync(password, user.password)) return undefined
  return {
    user: user.user,
    email: user.email,
    active: user.active,
    name: user.name,
    i18n: user.i18n,
    role: user.role,
    theme: user.theme,
    _created: user._created,
    _modified: user._modified,
    _id: user._id,
  }
}

/** A trimmed-down copy of Cockpit's login view: what matters is the `csrf: "<JWT>"` line. */
function renderLoginPage(csrf: string): string {
  return `<!DOCTYPE html>
<html lang="en" data-base="" data-route="" data-theme="auto">
<head>
  <meta charset="UTF-8">
  <title>Authenticate</title>
</head>
<body class="login-page">
  <div class="app-login" id="app-login"></div>
  <script type="module">
    VueView.ready('#app-login', {
      data() {
        return {
          csrf: "${csrf}",
          redirectTo: "/",
          auth: { user: '', password: '' }
        }
      }
    });
  </script>
</body>
</html>
`
}
