import { createError } from 'h3'
import type { CockpitSingleton } from '../../shared/utils/cockpit-singleton'

const registry = new Map<string, CockpitSingleton>()

/**
 * Makes declared singletons reachable through the gateway (`{prefix}/singletons/:name`); call it from a
 * Nitro plugin of your app. Registering a name twice with two policies is an error.
 * @public
 * @param singletons singletons from `defineCockpitSingleton`
 * @example
 * // server/plugins/cockpit-models.ts
 * export default defineNitroPlugin(() => registerCockpitSingletons(settings))
 */
export function registerCockpitSingletons(...singletons: CockpitSingleton[]): void {
  for (const singleton of singletons) {
    const existing = registry.get(singleton.name)
    if (existing && existing !== singleton) throw new Error(`Cockpit singleton ${singleton.name} is registered twice`)
    registry.set(singleton.name, singleton)
  }
}

/**
 * The declared singleton called `name`, or `undefined`.
 * @param name singleton name from the URL
 */
export function getCockpitSingleton(name: string): CockpitSingleton | undefined {
  return registry.get(name)
}

/**
 * The declared singleton called `name`, or 404 `SINGLETON_NOT_FOUND` whatever Cockpit has.
 * @param name singleton name from the URL
 */
export function requireCockpitSingleton(name: string): CockpitSingleton {
  const singleton = registry.get(name)
  if (!singleton) throw createError({ statusCode: 404, statusMessage: 'Singleton not found', data: { code: 'SINGLETON_NOT_FOUND' } })
  return singleton
}

/**
 * Names of every declared singleton.
 */
export function listCockpitSingletonNames(): string[] {
  return [...registry.keys()]
}
