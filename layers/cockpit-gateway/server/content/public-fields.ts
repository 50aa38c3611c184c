import type { CockpitModel } from '../../shared/utils/cockpit-model'
import type { CockpitItem } from '../cockpit/cockpit-types'

/** System fields that leave the gateway with every item; `_state` too for models with publishers. */
const SYSTEM_FIELDS_OUT = ['_id', '_created', '_modified'] as const

// Per model, worked out once: which fields leave the gateway.
const fieldsByModel = new WeakMap<CockpitModel, string[]>()

/**
 * The fields of a model's items that leave the gateway: the schema's, `_id`, `_created`, `_modified`, and
 * `_state` when the model has publishers. Item answers and their ETags both cover exactly these.
 * @param model the declared model
 */
export function getCockpitPublicFields(model: CockpitModel): string[] {
  let fields = fieldsByModel.get(model)
  if (!fields) fieldsByModel.set(model, fields = [...Object.keys(model.schema.shape), ...SYSTEM_FIELDS_OUT, ...(model.publish.length ? ['_state'] : [])])
  return fields
}

/**
 * An item with only its public fields (see {@link getCockpitPublicFields}).
 * @param model the declared model
 * @param item the item as Cockpit returns it
 */
export function toPublicCockpitItem(model: CockpitModel, item: CockpitItem): CockpitItem {
  const out: Record<string, unknown> = {}
  for (const field of getCockpitPublicFields(model)) {
    if (item[field] !== undefined) out[field] = item[field]
  }
  return out as CockpitItem
}
