import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CockpitGatewayAuditRecord } from '../../layers/cockpit-gateway/server/audit/audit-record'
import { findLeaks, startGateway, TestBrowser } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'

// Request ids and the audit trail, on the built server against the emulator over HTTP: every gateway answer
// carries an `X-Request-Id` (a valid incoming one kept) that Cockpit also gets, and one JSON line is printed
// per login, logout, write, refusal of a write and upstream failure, without any secret or body.

const LIST = '/api/cockpit/items/posts'
const UUID = /^[\da-f]{8}-[\da-f]{4}-4[\da-f]{3}-[89ab][\da-f]{3}-[\da-f]{12}$/

type AuditLine = CockpitGatewayAuditRecord

function auditLines(gateway: RunningGateway): AuditLine[] {
  return gateway.logs.join('').split('\n').filter(line => line.startsWith('{"type":"cockpit-gateway.audit"')).map(line => JSON.parse(line) as AuditLine)
}

/** The audit line of one request, by the id it was answered with; waits briefly for the log to arrive. */
async function lineOf(gateway: RunningGateway, requestId: string | null): Promise<AuditLine | undefined> {
  for (let i = 0; i < 50; i++) {
    const line = auditLines(gateway).find(l => l.requestId === requestId)
    if (line) return line
    await new Promise(r => setTimeout(r, 20))
  }
  return undefined
}

describe.each([2, 1] as const)('request ids and audit trail (v%i)', (version) => {
  let gateway: RunningGateway
  let quiet: RunningGateway
  const exchanges: RecordedExchange[] = []

  beforeAll(async () => {
    ;[gateway, quiet] = await Promise.all([
      startGateway({ version, env: { NUXT_COCKPIT_GATEWAY_RATE_LIMIT_WRITE_LIMIT: '3', NUXT_COCKPIT_GATEWAY_RATE_LIMIT_WRITE_WINDOW: '3600' } }),
      startGateway({ version, env: { NUXT_COCKPIT_GATEWAY_AUDIT_STDOUT: 'false' } }),
    ])
  })
  afterAll(async () => {
    await Promise.all([gateway?.stop(), quiet?.stop()])
  })

  it('every gateway answer has a request id; a valid incoming one is kept, anything else replaced; Cockpit gets it', async () => {
    const anon = new TestBrowser(gateway, exchanges)
    const fresh = await anon.request(`${LIST}?sort=${encodeURIComponent('{"title":1}')}`)
    expect(fresh.headers.get('x-request-id')).toMatch(UUID)
    const kept = await anon.request(`${LIST}?limit=1`, { headers: { 'x-request-id': 'trace-01HZY3K9Q7.abc:42' } })
    expect(kept.headers.get('x-request-id')).toBe('trace-01HZY3K9Q7.abc:42')
    expect(gateway.emulator.requests.some(r => r.headers['x-request-id'] === 'trace-01HZY3K9Q7.abc:42')).toBe(true)
    for (const bad of ['has space', 'x'.repeat(129), 'tab\tinside']) {
      const replaced = await anon.request(LIST, { headers: { 'x-request-id': bad } })
      expect(replaced.headers.get('x-request-id')).toMatch(UUID)
    }
    const errorAnswer = await anon.request('/api/cockpit/items/nosuchmodel')
    expect(errorAnswer.status).toBe(404)
    expect(errorAnswer.headers.get('x-request-id')).toMatch(UUID)
    // Reads that went well are not audited.
    expect(await lineOf(gateway, fresh.headers.get('x-request-id'))).toBeUndefined()
  })

  it('one line per login, write, refusal and logout, with the user, model, item, result and upstream figures', async () => {
    const editor = new TestBrowser(gateway, exchanges)
    const failed = await editor.request('/api/auth/login', { json: { username: 'editor', password: 'wrong-password' } })
    expect(failed.status).toBe(401)
    expect(await lineOf(gateway, failed.headers.get('x-request-id'))).toMatchObject({ action: 'login', status: 401, result: 'INVALID_CREDENTIALS' })
    expect((await lineOf(gateway, failed.headers.get('x-request-id')))!.userId).toBeUndefined()

    const login = await editor.request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })
    expect(login.status).toBe(200)
    const loginLine = await lineOf(gateway, login.headers.get('x-request-id'))
    expect(loginLine).toMatchObject({ type: 'cockpit-gateway.audit', action: 'login', method: 'POST', status: 200, result: 'OK', role: 'editor' })
    expect(loginLine!.userId).toBeTruthy()
    expect(new Date(loginLine!.time).toISOString()).toBe(loginLine!.time)

    const created = await editor.request(LIST, { json: { title: 'Audited post', published: false } })
    expect(created.status).toBe(201)
    const createLine = await lineOf(gateway, created.headers.get('x-request-id'))
    expect(createLine).toMatchObject({ action: 'create', model: 'posts', status: 201, result: 'OK', userId: loginLine!.userId, role: 'editor', upstreamStatus: 200 })
    expect(createLine!.upstreamMs).toBeGreaterThanOrEqual(0)
    const id = created.json()._id as string

    const invalid = await editor.request(`${LIST}/${id}`, { method: 'PATCH', json: { nope: 1 } })
    expect(invalid.status).toBe(422)
    expect(await lineOf(gateway, invalid.headers.get('x-request-id'))).toMatchObject({ action: 'update', model: 'posts', itemId: id, status: 422, result: 'VALIDATION_FAILED', userId: loginLine!.userId })

    const guest = new TestBrowser(gateway, exchanges)
    await guest.login('guest', 'guest-pass-123')
    const forbidden = await guest.request(`${LIST}/${id}`, { method: 'DELETE' })
    expect(forbidden.status).toBe(403)
    expect(await lineOf(gateway, forbidden.headers.get('x-request-id'))).toMatchObject({ action: 'delete', itemId: id, status: 403, role: 'guest' })

    const anonymous = await new TestBrowser(gateway, exchanges).request(LIST, { json: { title: 'x', published: false } })
    expect(anonymous.status).toBe(401)
    const anonymousLine = await lineOf(gateway, anonymous.headers.get('x-request-id'))
    expect(anonymousLine).toMatchObject({ action: 'create', status: 401 })
    expect(anonymousLine!.userId).toBeUndefined()

    // The write limit is 3 per hour: two writes were counted above (the 422 one too), the next passes, then 429.
    let limited: Awaited<ReturnType<TestBrowser['request']>> | undefined
    for (let i = 0; i < 4 && limited?.status !== 429; i++) limited = await editor.request(`${LIST}/${id}`, { method: 'PATCH', json: { title: `Audited ${i}` } })
    expect(limited!.status).toBe(429)
    expect(await lineOf(gateway, limited!.headers.get('x-request-id'))).toMatchObject({ action: 'update', status: 429, result: 'RATE_LIMITED' })

    const logout = await editor.request('/api/auth/logout', { method: 'POST', json: {} })
    expect(logout.status).toBeLessThan(400)
    expect(await lineOf(gateway, logout.headers.get('x-request-id'))).toMatchObject({ action: 'logout', result: 'OK', userId: loginLine!.userId })

    // nuxt-auth-utils' own logout route, which the layer answers, is a logout too.
    const sessionDelete = await guest.request('/api/_auth/session', { method: 'DELETE' })
    expect(sessionDelete.status).toBeLessThan(400)
    expect(await lineOf(gateway, sessionDelete.headers.get('x-request-id'))).toMatchObject({ action: 'logout', method: 'DELETE', role: 'guest' })
  })

  it('an upstream failure on a read is audited with its code', async () => {
    const editor = new TestBrowser(gateway, exchanges)
    await editor.login('editor', 'editor-pass-123')
    gateway.emulator.setFault({ kind: 'status', status: 503 })
    let down: Awaited<ReturnType<TestBrowser['request']>>
    try {
      down = await editor.request(LIST)
    }
    finally {
      gateway.emulator.setFault(null)
    }
    expect(down.status).toBe(503)
    expect(await lineOf(gateway, down.headers.get('x-request-id'))).toMatchObject({ action: 'read', model: 'posts', status: 503, result: 'UPSTREAM_UNAVAILABLE', upstreamStatus: 503, role: 'editor' })
  })

  it('no password, key, cookie or body in any audit line; NUXT_COCKPIT_GATEWAY_AUDIT_STDOUT=false prints none', async () => {
    const lines = gateway.logs.join('').split('\n').filter(line => line.includes('cockpit-gateway.audit'))
    expect(lines.length).toBeGreaterThan(5)
    for (const line of lines) {
      expect(line).not.toMatch(/pass-123|wrong-password|cookie|Audited post|__Host-/i)
    }
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])

    const browser = new TestBrowser(quiet)
    await browser.login('editor', 'editor-pass-123')
    expect((await browser.request(LIST, { json: { title: 'Quiet', published: false } })).status).toBe(201)
    expect(auditLines(quiet)).toEqual([])
  })
})
