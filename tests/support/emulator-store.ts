import { SEED_V1, SEED_V2 } from '../../emulator/index'
import type { RunningEmulator } from '../../emulator/index'

/**
 * What Cockpit stored from the contact form, read from the emulator with its full key (never through the
 * gateway): v2 items of `messages`, v1 entries of the form `contact` (their fields under `data`).
 * @param emulator the emulator
 * @param version its Cockpit version
 */
export async function readStoredMessages(emulator: RunningEmulator, version: 1 | 2): Promise<{ status: number, docs: Record<string, unknown>[] }> {
  const response = version === 2
    ? await fetch(`${emulator.url}/api/content/items/messages`, { headers: { 'api-key': SEED_V2.keys.full } })
    : await fetch(`${emulator.url}/api/forms/export/contact?token=${SEED_V1.keys.master}`)
  return { status: response.status, docs: await response.json() as Record<string, unknown>[] }
}
