import type { H3Event } from 'h3'
import { useNitroApp } from 'nitropack/runtime'
import { createCockpitClient } from './cockpit-client'
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

const clients = new WeakMap<GatewayConfig, CockpitAdapter>()

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
 * The Cockpit client for this deployment, built once from runtime config. Upstream calls run the
 * `cockpit-gateway:request` / `cockpit-gateway:response` Nitro hooks.
 * @param event the request
 * @public
 */
export function useCockpitClient(event?: H3Event): CockpitAdapter {
  const config = useGatewayConfig(event)
  let client = clients.get(config)
  if (!client) {
    const hooks = useNitroApp().hooks
    client = createCockpitClient({
      url: config.cockpit.url,
      version: config.cockpit.version,
      timeout: config.cockpit.timeout,
      authKey: config.cockpit.authKey,
      hooks: {
        onRequest: context => hasHook(hooks, 'cockpit-gateway:request') ? hooks.callHook('cockpit-gateway:request', context) : undefined,
        onResponse: context => hasHook(hooks, 'cockpit-gateway:response') ? hooks.callHook('cockpit-gateway:response', context) : undefined,
      },
    })
    clients.set(config, client)
  }
  return client
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
