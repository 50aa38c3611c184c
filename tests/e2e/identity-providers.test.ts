import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { getRandomPort } from 'get-port-please'
import { defaults, unseal } from 'iron-webcrypto'
import { OAuth2Server } from 'oauth2-mock-server'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { findLeaks, startGateway, TestBrowser, TEST_SESSION_PASSWORD } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'

// The identity providers other than Cockpit, end to end on the built demo: the `local` provider with a hash
// made by `npm run hash-password`, and OIDC (nuxt-auth-utils' handler) against a real oauth2-mock-server.

const ROOT = resolve(__dirname, '../..')
const COOKIE = '__Host-cockpit-session'
const FLOW_FAILED = '/login?error=OIDC_FAILED'
const GENEROUS_LIMITS = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '10000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '10000',
}

async function unsealCookie(value: string): Promise<{ id: string, data: Record<string, unknown> }> {
  return await unseal(globalThis.crypto, decodeURIComponent(value), TEST_SESSION_PASSWORD, defaults) as { id: string, data: Record<string, unknown> }
}

/** Runs `npm run hash-password -- …args` with `password` on stdin (never on the command line). */
function runHashPassword(password: string, args: string[] = []): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('npm', ['run', '--silent', 'hash-password', '--', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', fail)
    child.on('exit', code => done({ code, stdout, stderr }))
    child.stdin.end(`${password}\n`)
  })
}

/** The users JSON out of the script's `NUXT_COCKPIT_GATEWAY_AUTH_LOCAL_USERS='…'` line. */
function readLocalUsersLine(stdout: string): string {
  const line = stdout.split('\n').find(l => l.startsWith('NUXT_COCKPIT_GATEWAY_AUTH_LOCAL_USERS='))!
  expect(line).toMatch(/^NUXT_COCKPIT_GATEWAY_AUTH_LOCAL_USERS='[^']*'$/)
  return line.slice('NUXT_COCKPIT_GATEWAY_AUTH_LOCAL_USERS='.length + 1, -1)
}

describe('npm run hash-password', () => {
  it('prints a scrypt hash and a ready-to-paste users JSON, never the password', async () => {
    const { code, stdout } = await runHashPassword('correct horse battery', ['--username', 'alice', '--role', 'admin', '--name', 'Alice A.'])
    expect(code).toBe(0)
    const [hash] = stdout.split('\n')
    expect(hash).toMatch(/^\$scrypt\$n=16384,r=8,p=1\$[\w+/]+\$[\w+/]+$/)
    expect(JSON.parse(readLocalUsersLine(stdout))).toEqual([{ username: 'alice', name: 'Alice A.', role: 'admin', passwordHash: hash }])
    expect(stdout).not.toContain('correct horse battery')
  })

  it.each([
    ['shorter than 8 characters', 'x'.repeat(7)],
    ['longer than 256 characters', 'x'.repeat(257)],
  ])('refuses a password %s', async (_name, password) => {
    const { code, stdout, stderr } = await runHashPassword(password)
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/at (least 8|most 256) characters/)
  })
})

describe('local provider', () => {
  let gateway: RunningGateway
  const exchanges: RecordedExchange[] = []
  const browser = () => new TestBrowser(gateway, exchanges)

  beforeAll(async () => {
    const { code, stdout } = await runHashPassword('local-pass-4567', ['--username', 'alice', '--role', 'editor'])
    expect(code).toBe(0)
    gateway = await startGateway({
      version: 2,
      env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_GATEWAY_AUTH_PROVIDER: 'local', NUXT_COCKPIT_GATEWAY_AUTH_LOCAL_USERS: readLocalUsersLine(stdout) },
    })
  })
  afterAll(async () => {
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
    expect(gateway.logs.join('')).not.toMatch(/local-pass-4567|wrong-pass-000|\$scrypt\$/)
    await gateway?.stop()
  })

  it('logs a local user in with the configured role, and Cockpit is never asked', async () => {
    gateway.emulator.clearRequests()
    const b = browser()
    const response = await b.request('/api/auth/login', { json: { username: 'alice', password: 'local-pass-4567' } })
    expect(response.status).toBe(200)
    expect(response.json().user).toEqual({ id: 'local:alice', name: 'alice', role: 'editor' })
    expect(b.cookies.has(COOKIE)).toBe(true)
    expect((await b.request('/api/_auth/session')).json().user).toEqual({ id: 'local:alice', name: 'alice', role: 'editor' })
    expect(gateway.emulator.requests).toEqual([])
    const created = await b.request('/api/cockpit/items/posts', { json: { title: 'Local post', published: false } })
    expect(created.status).toBe(201)
  })

  it('answers a wrong password and an unknown user with the same 401, without asking Cockpit', async () => {
    gateway.emulator.clearRequests()
    const wrong = await browser().request('/api/auth/login', { json: { username: 'alice', password: 'wrong-pass-000' } })
    const unknown = await browser().request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(wrong.text).toBe(unknown.text)
    expect(wrong.json()).toEqual({ statusCode: 401, statusMessage: 'Invalid credentials', data: { code: 'INVALID_CREDENTIALS' } })
    for (const response of [wrong, unknown]) expect(response.setCookies.filter(c => c.startsWith(`${COOKIE}=`) && !/=;/.test(c))).toEqual([])
    expect(gateway.emulator.requests).toEqual([])
  })
})

describe('OIDC against oauth2-mock-server', () => {
  const CLIENT_ID = 'cockpit-gateway-e2e'
  const CLIENT_SECRET = 'oidc-client-secret-0123456789abcdef'
  let idp: OAuth2Server
  let issuer: string
  let gateway: RunningGateway
  let callbackUrl: string
  const exchanges: RecordedExchange[] = []
  const browser = () => new TestBrowser(gateway, exchanges)

  /** The identity the mock answers with, in the ID token and from userinfo: set per test. */
  let claims: Record<string, unknown> = {}
  const tokenRequests: Record<string, string>[] = []
  /** Every token the mock issued: none may reach a response, a log line or the cookie. */
  const issuedTokens: string[] = []

  beforeAll(async () => {
    idp = new OAuth2Server()
    await idp.issuer.keys.generate('RS256')
    const idpPort = await getRandomPort('127.0.0.1')
    // The mock would call itself `localhost`, which may resolve to ::1 where it does not listen.
    idp.issuer.url = `http://127.0.0.1:${idpPort}`
    issuer = idp.issuer.url
    await idp.start(idpPort, '127.0.0.1')
    idp.service.on('beforeTokenSigning', (token) => {
      token.payload.sub = claims.sub
    })
    idp.service.on('beforeResponse', (response, req) => {
      tokenRequests.push({ ...req.body } as Record<string, string>)
      const body = response.body as Record<string, unknown>
      for (const name of ['access_token', 'id_token', 'refresh_token']) if (typeof body[name] === 'string') issuedTokens.push(body[name])
    })
    idp.service.on('beforeUserinfo', (response) => {
      response.body = { ...claims }
    })

    const port = await getRandomPort('127.0.0.1')
    callbackUrl = `http://127.0.0.1:${port}/api/auth/oidc`
    gateway = await startGateway({
      version: 2,
      port,
      env: {
        ...GENEROUS_LIMITS,
        NUXT_COCKPIT_GATEWAY_AUTH_PROVIDER: 'oidc',
        NUXT_OAUTH_OIDC_CLIENT_ID: CLIENT_ID,
        NUXT_OAUTH_OIDC_CLIENT_SECRET: CLIENT_SECRET,
        NUXT_OAUTH_OIDC_OPENID_CONFIG: `${issuer}/.well-known/openid-configuration`,
        NUXT_OAUTH_OIDC_REDIRECT_URL: callbackUrl,
      },
    })
  })
  afterAll(async () => {
    expect(findLeaks([...gateway.secrets, ...issuedTokens], exchanges, gateway.logs)).toEqual([])
    await gateway?.stop()
    await idp?.stop()
  })
  beforeEach(() => {
    claims = { sub: 'user-42', name: 'Olivia Idp', role: 'editor' }
  })

  /** GET /api/auth/oidc on the gateway: answers the mock's authorize URL it redirects to. */
  async function startFlow(b: TestBrowser): Promise<URL> {
    const response = await b.request('/api/auth/oidc')
    expect(response.status).toBe(302)
    const authorize = new URL(response.headers.get('location')!)
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${issuer}/authorize`)
    return authorize
  }

  /** The IdP's leg: a plain fetch (the gateway's cookies are for the gateway only); answers its redirect. */
  async function authorizeAtIdp(authorize: URL): Promise<URL> {
    const response = await fetch(authorize, { redirect: 'manual' })
    expect(response.status).toBe(302)
    return new URL(response.headers.get('location')!)
  }

  /** GET the gateway's callback (which must be the gateway's own URL) with this browser's cookies. */
  async function sendCallback(b: TestBrowser, callback: URL) {
    expect(`${callback.origin}${callback.pathname}`).toBe(callbackUrl)
    return await b.request(`${callback.pathname}${callback.search}`)
  }

  /** The whole authorization code flow; answers the callback's response. */
  async function loginWithOidc(b: TestBrowser) {
    return await sendCallback(b, await authorizeAtIdp(await startFlow(b)))
  }

  it('redirects to the IdP with PKCE S256, a nonce, a state and the configured redirect URL', async () => {
    const authorize = await startFlow(browser())
    const query = authorize.searchParams
    expect(query.get('client_id')).toBe(CLIENT_ID)
    expect(query.get('redirect_uri')).toBe(callbackUrl)
    expect(query.get('response_type')).toBe('code')
    expect(query.get('scope')).toBe('openid')
    expect(query.get('code_challenge_method')).toBe('S256')
    expect(query.get('code_challenge')).toMatch(/^[\w-]{43}$/)
    expect(query.get('state')).toMatch(/^[\w-]{43}$/)
    expect(query.get('nonce')).toMatch(/^[\w-]{43}$/)
    expect(authorize.href).not.toContain(CLIENT_SECRET)
  })

  it('logs an editor in end to end: session `oidc:<sub>` with the mapped role, and the editor can write', async () => {
    const b = browser()
    const requestsBefore = tokenRequests.length
    const callback = await loginWithOidc(b)
    expect(callback.status).toBe(302)
    expect(callback.headers.get('location')).toBe('/')
    expect(callback.setCookies.some(c => c.startsWith(`${COOKIE}=`) && !/=;/.test(c))).toBe(true)
    // Confidential client: the code is redeemed with the secret in the body and the PKCE verifier.
    expect(tokenRequests.slice(requestsBefore)).toEqual([expect.objectContaining({ grant_type: 'authorization_code', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: callbackUrl, code_verifier: expect.stringMatching(/^[\w-]{43}$/) })])
    const session = (await b.request('/api/_auth/session')).json()
    expect(session.user).toEqual({ id: 'oidc:user-42', name: 'Olivia Idp', role: 'editor' })
    const created = await b.request('/api/cockpit/items/posts', { json: { title: 'Posted after OIDC', published: false } })
    expect(created.status).toBe(201)
    expect(gateway.logs.join('')).toMatch(/login ok provider=oidc id="oidc:user-42" role=editor/)
  })

  it('keeps no access or ID token in the session cookie', async () => {
    const b = browser()
    await loginWithOidc(b)
    const sealed = await unsealCookie(b.cookies.get(COOKIE)!)
    const text = JSON.stringify(sealed)
    expect(Object.keys(sealed.data).sort()).toEqual(['epoch', 'lastSeenAt', 'loggedInAt', 'sid', 'user', 'version'])
    expect(text).not.toMatch(/token/i)
    expect(text).not.toContain('eyJ')
    for (const token of issuedTokens) expect(text).not.toContain(token)
    // The flow's own cookies (state, PKCE verifier, nonce) are gone once it completes.
    expect([...b.cookies.keys()]).toEqual([COOKIE])
  })

  it('maps a role claim that is not in the role map to guest, who may not write', async () => {
    claims = { sub: 'user-43', name: 'Gus Guest', role: 'superuser' }
    const b = browser()
    expect((await loginWithOidc(b)).headers.get('location')).toBe('/')
    expect((await b.request('/api/_auth/session')).json().user).toEqual({ id: 'oidc:user-43', name: 'Gus Guest', role: 'guest' })
    gateway.emulator.clearRequests()
    const write = await b.request('/api/cockpit/items/posts', { json: { title: 'Guest post', published: false } })
    expect(write.status).toBe(403)
    expect(write.json().data.code).toBe('FORBIDDEN')
    expect(gateway.emulator.requests.filter(r => r.method !== 'GET')).toEqual([])
  })

  it('refuses a tampered state before redeeming the code: no session, back to the login page', async () => {
    const b = browser()
    const callback = await authorizeAtIdp(await startFlow(b))
    const state = callback.searchParams.get('state')!
    callback.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`)
    const requestsBefore = tokenRequests.length
    const response = await sendCallback(b, callback)
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe(FLOW_FAILED)
    expect(b.cookies.has(COOKIE)).toBe(false)
    expect(tokenRequests.length).toBe(requestsBefore)
    expect((await b.request('/api/_auth/session')).json()).toEqual({})
  })

  it('refuses a callback from a browser that never started a login (login CSRF with someone else\'s code)', async () => {
    // An attacker's own code, obtained without PKCE, nonce or state, handed to a victim's browser.
    const authorize = new URL(`${issuer}/authorize`)
    authorize.search = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: callbackUrl, scope: 'openid' }).toString()
    const code = (await authorizeAtIdp(authorize)).searchParams.get('code')!
    expect(code).toBeTruthy()
    const victim = browser()
    const requestsBefore = tokenRequests.length
    const response = await victim.request(`/api/auth/oidc?code=${encodeURIComponent(code)}`)
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe(FLOW_FAILED)
    expect(victim.cookies.has(COOKIE)).toBe(false)
    expect(tokenRequests.length).toBe(requestsBefore)
    expect(gateway.logs.join('')).toMatch(/login failed provider=oidc ip=127\.0\.0\.1 outcome=no-login-in-progress/)
  })

  it('sends the user back to the login page when the IdP refuses or fails, never a 500', async () => {
    const denied = await browser().request('/api/auth/oidc?error=access_denied&error_description=%3Cscript%3E')
    expect(denied.status).toBe(302)
    expect(denied.headers.get('location')).toBe(FLOW_FAILED)

    idp.service.once('beforeResponse', (response) => {
      response.statusCode = 500
      response.body = { error: 'server_error' }
    })
    const b = browser()
    const failed = await loginWithOidc(b)
    expect(failed.status).toBe(302)
    expect(failed.headers.get('location')).toBe(FLOW_FAILED)
    expect(b.cookies.has(COOKIE)).toBe(false)

    claims = { name: 'No Subject', role: 'editor' }
    const noSub = await loginWithOidc(browser())
    expect(noSub.status).toBe(302)
    expect(noSub.headers.get('location')).toBe(FLOW_FAILED)
  })

  it('does not grow the authorization request from one login to the next', async () => {
    const first = await startFlow(browser())
    const second = await startFlow(browser())
    expect(second.searchParams.get('scope')).toBe(first.searchParams.get('scope'))
    expect(second.href.length).toBe(first.href.length)
  })

  it('turns password login off when the provider is `oidc`', async () => {
    const response = await browser().request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })
    expect(response.status).toBe(404)
    expect(response.json().data.code).toBe('PASSWORD_LOGIN_DISABLED')
  })
})
