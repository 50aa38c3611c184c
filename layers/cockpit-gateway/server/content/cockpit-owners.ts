import type { CockpitModel } from '../../shared/utils/cockpit-model'
import type { CockpitItem } from '../cockpit/cockpit-types'
import { useGatewayStorage } from '../storage/gateway-storage'

function ownerKey(model: string, id: string): string {
  return `owners:${model}:${id}`
}

/**
 * The user id that owns an item: the model's `ownerField` when declared, else the record the gateway
 * kept when the item was created through it (Cockpit v2 drops fields its model does not have).
 * @param model the declared model
 * @param item the stored item
 */
export async function getCockpitItemOwner(model: CockpitModel, item: CockpitItem): Promise<string | null> {
  if (model.ownerField) {
    const owner = item[model.ownerField]
    return typeof owner === 'string' ? owner : null
  }
  return (await useGatewayStorage('state').getItem<string>(ownerKey(model.name, item._id))) ?? null
}

/**
 * Records the creator of an item when the model has no `ownerField`.
 * @param model the declared model
 * @param id the new item's id
 * @param userId the creator
 */
export async function setCockpitItemOwner(model: CockpitModel, id: string, userId: string): Promise<void> {
  if (!model.ownerField) await useGatewayStorage('state').setItem(ownerKey(model.name, id), userId)
}

/**
 * Forgets the owner record of a deleted item.
 * @param model the declared model
 * @param id the deleted item's id
 */
export async function removeCockpitItemOwner(model: CockpitModel, id: string): Promise<void> {
  if (!model.ownerField) await useGatewayStorage('state').removeItem(ownerKey(model.name, id))
}
