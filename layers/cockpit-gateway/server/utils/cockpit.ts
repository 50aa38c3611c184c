import type { H3Event } from 'h3'
import { useNitroApp } from 'nitropack/runtime'
import { getGatewayRequestTrace } from '../audit/request-trace'
import { createCockpitClientFactory } from './cockpit-client'
import type { CockpitCallTrace } from './cockpit-http'
import type { CockpitAdapter, CockpitClientHooks } from './cockpit-types'
import { useGatewayConfig } from './gateway-config'
import type { GatewayConfig } from './gateway-config'

declare module 'nitropack/types' {
  interface NitroRuntimeHooks {
    /** Before each upstream call: add headers (e.g. tracing); the key is never exposed here. */
    'cockpit-gateway:request': NonNullable<CockpitClientHooks['onRequest']>
    /** After each upstream call, with its status and duration: audit, metrics. */
    'cockpit-gateway:response': NonNullable<CockpitClientHooks['onResponse']>
  }
}

declare module 'h3' {
  interface H3EventContext {
    /** This request's Cockpit client (its calls carry the request id). */
    cockpitGatewayClient?: CockpitAdapter
  }
}

const clients = new WeakMap<GatewayConfig, (trace?: CockpitCallTrace) => CockpitAdapter>()

/**
 * Whether anything listens to a Nitro hook: calling one with no listener still costs a task and a few
 * promises per upstream call. Hooks registered later are seen at the next call. When the registry can't
 * be read (another hookable), assume there is a listener.
 */
function hasHook(hooks: unknown, name: string): boolean {
  const registry = (hooks as { _hooks?: Record<string, unknown[] | undefined> })._hooks
  return registry === undefined || !!registry[name]?.length
}

/**
 * The Cockpit client for this deployment, built once from runtime config; for a gateway request, a client of
 * its own over the same transport, whose calls send the request's id as `X-Request-Id`. Upstream calls run
 * the `cockpit-gateway:request` / `cockpit-gateway:response` Nitro hooks.
 * @param event the request
 */
export function useCockpitClient(event?: H3Event): CockpitAdapter {
  if (event?.context.cockpitGatewayClient) return event.context.cockpitGatewayClient
  const config = useGatewayConfig(event)
  let clientFor = clients.get(config)
  if (!clientFor) {
    const hooks = useNitroApp().hooks
    clientFor = createCockpitClientFactory({
      url: config.cockpit.url,
      version: config.cockpit.version,
      timeout: config.cockpit.timeout,
      authKey: config.cockpit.authKey,
      guard: {
        maxConcurrent: config.cockpit.maxConcurrent,
        queueSize: config.cockpit.queueSize,
        queueTimeout: config.cockpit.queueTimeout,
        breakerThreshold: config.cockpit.breakerThreshold,
        breakerCoolDown: config.cockpit.breakerCoolDown,
        log: message => console.warn(message),
      },
      hooks: {
        onRequest: context => hooks.callHook('cockpit-gateway:request', context),
        hasRequestListener: () => hasHook(hooks, 'cockpit-gateway:request'),
        onResponse: context => hasHook(hooks, 'cockpit-gateway:response') ? hooks.callHook('cockpit-gateway:response', context) : undefined,
      },
    })
    clients.set(config, clientFor)
  }
  const trace = event && getGatewayRequestTrace(event)
  if (!trace) return clientFor()
  return (event.context.cockpitGatewayClient = clientFor(trace))
}

/**
 * The key a write by a user of `role` is made with: the role's own key when configured, else the write key.
 * Empty when neither is set, which the client turns into a fail-closed `MISSING_KEY`.
 * @param config gateway config
 * @param role the gateway role of the session user
 */
export function getCockpitWriteKey(config: GatewayConfig, role: string): string {
  return config.cockpit.roleKeys[role] ?? config.cockpit.writeKey
}
