import { getResponseStatus } from 'h3'
import type { H3Error, H3Event } from 'h3'
import { useNitroApp } from 'nitropack/runtime'
import { buildAuditRecord } from '../audit/audit-record'
import type { AuditRoute, CockpitGatewayAuditRecord } from '../audit/audit-record'
import { getGatewayRequestTrace } from '../audit/request-trace'
import { useGatewayConfig } from '../config/gateway-config'
import { getGatewayPathname, getGatewayRoutePrefixes } from '../guards/gateway-paths'

declare module 'nitropack/types' {
  interface NitroRuntimeHooks {
    /** One audit record per login, logout, write (done or refused) and upstream failure: ship it elsewhere. */
    'cockpit-gateway:audit': (record: CockpitGatewayAuditRecord) => void | Promise<void>
  }
}

function routeOf(event: H3Event): AuditRoute {
  const pathname = getGatewayPathname(event)
  const { prefix, authPrefix } = getGatewayRoutePrefixes()
  if (pathname.startsWith(authPrefix)) return { area: 'auth', rest: pathname.slice(authPrefix.length) }
  // nuxt-auth-utils' session route, which the layer answers: its DELETE is a logout.
  if (pathname === '/api/_auth/session') return { area: 'auth', rest: event.method === 'DELETE' ? '/logout' : '/session' }
  return { area: 'content', rest: pathname.startsWith(prefix) ? pathname.slice(prefix.length) : pathname }
}

/**
 * The audit trail: one record per login, logout, write (done or refused) and upstream failure, made when the
 * answer is known (the `error` hook for thrown errors, `afterResponse` for everything else), printed as one
 * JSON line on stdout unless `audit.stdout` is off, and handed to the `cockpit-gateway:audit` hook.
 */
export default defineNitroPlugin((nitro) => {
  const hooks = useNitroApp().hooks
  const emit = (event: H3Event, status: number, code?: string) => {
    const trace = getGatewayRequestTrace(event)
    if (!trace || trace.audited) return
    trace.audited = true
    const record = buildAuditRecord(event, trace, routeOf(event), status, code)
    if (!record) return
    if (useGatewayConfig(event).audit.stdout) console.log(JSON.stringify(record))
    return hooks.callHook('cockpit-gateway:audit', record)
  }
  nitro.hooks.hook('error', (error, { event }) => {
    if (!event) return
    const h3Error = error as H3Error<{ code?: unknown } | undefined>
    const unexpected = h3Error.unhandled || h3Error.fatal || !h3Error.statusCode
    const code = unexpected ? 'INTERNAL_ERROR' : typeof h3Error.data?.code === 'string' ? h3Error.data.code : undefined
    return emit(event, unexpected ? 500 : h3Error.statusCode, code)
  })
  nitro.hooks.hook('afterResponse', (event) => {
    const status = getResponseStatus(event)
    // The hot path: a read that went well is never audited (only the OIDC callback, a GET, is a login).
    if ((event.method === 'GET' || event.method === 'HEAD') && status < 502 && !event.path.startsWith(getGatewayRoutePrefixes().authPrefix)) return
    return emit(event, status)
  })
})
