import type { H3Event } from 'h3'
import { useNitroApp } from 'nitropack/runtime'
import { getGatewayRequestTrace } from '../audit/request-trace'
import { createCockpitClientFactory } from './cockpit-client'
import type { CockpitClientFactory } from './cockpit-client'
import type { CockpitHttp } from './cockpit-http'
import type { CockpitAdapter, CockpitClientHooks } from './cockpit-types'
import { useGatewayConfig } from '../config/gateway-config'
import type { GatewayConfig } from '../config/gateway-config'

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

const factories = new WeakMap<GatewayConfig, CockpitClientFactory>()

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
 * @public
 */
export function useCockpitClient(event?: H3Event): CockpitAdapter {
  if (event?.context.cockpitGatewayClient) return event.context.cockpitGatewayClient
  const factory = useCockpitClientFactory(event)
  const trace = event && getGatewayRequestTrace(event)
  if (!trace) return factory.client()
  return (event.context.cockpitGatewayClient = factory.client(trace))
}

/**
 * The raw transport of {@link useCockpitClient}'s client (same connections, cap, breaker, hooks and request
 * id), for the few calls no adapter method makes (v1 form submissions).
 * @param event the request
 */
export function useCockpitHttp(event?: H3Event): CockpitHttp {
  const trace = event && getGatewayRequestTrace(event)
  return useCockpitClientFactory(event).http(trace)
}

function useCockpitClientFactory(event?: H3Event): CockpitClientFactory {
  const config = useGatewayConfig(event)
  let factory = factories.get(config)
  if (!factory) {
    const hooks = useNitroApp().hooks
    factory = createCockpitClientFactory({
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
    factories.set(config, factory)
  }
  return factory
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
