import type { H3Event } from 'h3'
import type { GatewayRequestTrace } from './request-trace'

/**
 * One line of the audit trail: who did what to which item, and how it ended. Never a password, key, cookie,
 * body or upstream answer. Handed to the `cockpit-gateway:audit` Nitro hook and, unless switched off,
 * printed as one JSON line on stdout.
 */
export interface CockpitGatewayAuditRecord {
  type: 'cockpit-gateway.audit'
  /** ISO time the request started. */
  time: string
  requestId: string
  /** `login`, `logout`, `logout-all`, `create`, `update`, `delete`, `submit`, `webhook`, `read`, or `write` for other writes. */
  action: string
  method: string
  /** The route's model, singleton or form name, when it has one. */
  model?: string
  itemId?: string
  userId?: string
  role?: string
  /** HTTP status of the answer. */
  status: number
  /** `OK`, or the stable code of the refusal or failure. */
  result: string
  upstreamStatus?: number
  upstreamMs?: number
  durationMs: number
}

/** Where a request sits in the gateway's routes, worked out by the caller from the configured prefixes. */
export interface AuditRoute {
  /** Path below the content prefix (`/items/posts/…`), or below the auth prefix for `auth`. */
  rest: string
  area: 'content' | 'auth'
}

const AUTH_ACTIONS: Record<string, string> = { '/login': 'login', '/logout': 'logout', '/logout-all': 'logout-all', '/oidc': 'login' }
const WRITE_ACTIONS: Record<string, string> = { POST: 'create', PATCH: 'update', PUT: 'update', DELETE: 'delete' }
const FORM_POST_ACTIONS: Record<string, string> = { create: 'create', update: 'update', delete: 'delete' }

/**
 * The audit record of a finished request, or null when it is not one the trail keeps: logins and logouts,
 * every write (done or refused), and any request Cockpit failed (502/503/504 with an upstream code).
 * @param event the request
 * @param trace its trace
 * @param route where it sits in the gateway's routes
 * @param status the answer's status
 * @param code the stable code of an error answer
 */
export function buildAuditRecord(event: H3Event, trace: GatewayRequestTrace, route: AuditRoute, status: number, code?: string): CockpitGatewayAuditRecord | null {
  const method = event.method
  const segments = route.rest.split('/').filter(Boolean).map(segment => safeDecode(segment))
  let action: string | undefined
  let model: string | undefined
  let itemId: string | undefined
  if (route.area === 'auth') {
    action = AUTH_ACTIONS[route.rest]
    // A GET of the OIDC route is the provider's callback: a login.
    if (action === 'login' && method === 'GET' && route.rest !== '/oidc') action = undefined
  }
  else {
    const [kind, name, third, fourth] = segments
    model = name
    if (kind === 'webhook') {
      action = method === 'POST' ? 'webhook' : undefined
      model = undefined
    }
    else if (kind === 'form-posts' && name === 'singletons') {
      // `/form-posts/singletons/:name/update`
      model = third
      action = FORM_POST_ACTIONS[fourth ?? ''] ?? 'write'
    }
    else if (kind === 'form-posts') {
      // `/form-posts/:model/create` or `/form-posts/:model/:id/(update|delete)`
      action = FORM_POST_ACTIONS[fourth ?? third ?? ''] ?? 'write'
      itemId = fourth ? third : undefined
    }
    else if (kind === 'forms') {
      action = method === 'POST' ? 'submit' : undefined
    }
    else if (method !== 'GET' && method !== 'HEAD') {
      action = WRITE_ACTIONS[method] ?? 'write'
      itemId = third
    }
  }
  const upstreamFailure = status >= 502 && status <= 504 && !!code?.startsWith('UPSTREAM_')
  if (!action && !upstreamFailure) return null
  if (!action) {
    action = 'read'
    itemId = segments[2]
  }
  const result = code ?? trace.code ?? (status < 400 ? 'OK' : 'ERROR')
  const record: CockpitGatewayAuditRecord = {
    type: 'cockpit-gateway.audit',
    time: new Date(trace.startedAt).toISOString(),
    requestId: trace.requestId,
    action,
    method,
    status,
    result,
    durationMs: Date.now() - trace.startedAt,
  }
  if (model) record.model = model.slice(0, 128)
  if (itemId) record.itemId = itemId.slice(0, 128)
  if (trace.user) {
    record.userId = trace.user.id
    record.role = trace.user.role
  }
  if (trace.upstreamStatus !== undefined) record.upstreamStatus = trace.upstreamStatus
  if (trace.upstreamMs !== undefined) record.upstreamMs = trace.upstreamMs
  return record
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  }
  catch {
    return segment
  }
}
