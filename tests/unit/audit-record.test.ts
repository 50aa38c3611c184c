import type { H3Event } from 'h3'
import { describe, expect, it } from 'vitest'
import { buildAuditRecord } from '../../layers/cockpit-gateway/server/audit/audit-record'
import type { GatewayRequestTrace } from '../../layers/cockpit-gateway/server/audit/request-trace'

// Which action, model and item an audit record names, from the route alone (the e2e audit test covers the
// records a running server prints; these are the routes it does not reach).

const trace = (): GatewayRequestTrace => ({ requestId: 'r-1', startedAt: Date.now(), user: { id: 'u1', role: 'admin' } })
const record = (method: string, rest: string, status = 303, area: 'content' | 'auth' = 'content') =>
  buildAuditRecord({ method } as H3Event, trace(), { area, rest }, status)

describe('audit record routes', () => {
  it('names the model and item of the HTML form twins', () => {
    expect(record('POST', '/form-posts/posts/create')).toMatchObject({ action: 'create', model: 'posts' })
    expect(record('POST', '/form-posts/posts/abc123/update')).toMatchObject({ action: 'update', model: 'posts', itemId: 'abc123' })
    expect(record('POST', '/form-posts/posts/abc123/delete')).toMatchObject({ action: 'delete', model: 'posts', itemId: 'abc123' })
  })

  it('names the singleton (not "singletons") of the singleton form twin, with no item', () => {
    const line = record('POST', '/form-posts/singletons/settings/update')
    expect(line).toMatchObject({ action: 'update', model: 'settings' })
    expect(line!.itemId).toBeUndefined()
  })

  it('keeps writes, logins and logouts, and leaves reads that went well out', () => {
    expect(record('PATCH', '/singletons/settings', 200)).toMatchObject({ action: 'update', model: 'settings', result: 'OK' })
    expect(record('POST', '/forms/contact', 201)).toMatchObject({ action: 'submit', model: 'contact' })
    expect(record('POST', '/logout', 200, 'auth')).toMatchObject({ action: 'logout' })
    expect(record('GET', '/items/posts', 200)).toBeNull()
    expect(record('GET', '/forms/contact/token', 200)).toBeNull()
  })
})
