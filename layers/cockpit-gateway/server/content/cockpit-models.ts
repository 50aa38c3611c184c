import { createError } from 'h3'
import type { CockpitModel } from '../../shared/utils/cockpit-model'

const registry = new Map<string, CockpitModel>()

/**
 * Makes declared models reachable through the gateway; call it from a Nitro plugin of your app.
 * Registering a name twice is an error (two policies for one model would be ambiguous).
 * @param models models from `defineCockpitModel`
 * @example
 * // server/plugins/cockpit-models.ts
 * export default defineNitroPlugin(() => registerCockpitModels(posts))
 * @public
 */
export function registerCockpitModels(...models: CockpitModel[]): void {
  for (const model of models) {
    const existing = registry.get(model.name)
    if (existing && existing !== model) throw new Error(`Cockpit model ${model.name} is registered twice`)
    registry.set(model.name, model)
  }
}

/**
 * The declared model called `name`, or `undefined`.
 * @param name model name from the URL
 */
export function getCockpitModel(name: string): CockpitModel | undefined {
  return registry.get(name)
}

/**
 * The declared model called `name`, or 404 `MODEL_NOT_FOUND` whatever Cockpit has.
 * @param name model name from the URL
 */
export function requireCockpitModel(name: string): CockpitModel {
  const model = registry.get(name)
  if (!model) throw createError({ statusCode: 404, statusMessage: 'Model not found', data: { code: 'MODEL_NOT_FOUND' } })
  return model
}

/** Names of every declared model. */
export function listCockpitModelNames(): string[] {
  return [...registry.keys()]
}
