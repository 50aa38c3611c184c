import { SEED_V2, startEmulator } from '../emulator/index'
import type { RunningEmulator } from '../emulator/index'

/**
 * The seed's keys, chosen like a careful deployment would: a read-only key, a scoped (editor) key for writes, and
 * a key for public form submissions (v2: the create-only `submitter` key; v1's seed has no key limited to the form
 * route, so the editor's account key is set for it explicitly, see the README). Never the master key.
 */
export const EMULATOR_KEYS = {
  // `asset`: v2 reads assets with the read key (any valid key may); v1's special keys can't reach `/api/cockpit/*`, so an account key.
  2: { read: 'API-4ca657e22b1b6de9ec5768825275b5fd5567940b', write: 'USR-da7031273a73ae299876608f160b18e120677850', auth: '', submit: 'API-9fe1a41cee0b2b8a97c86a43975c375d478d3166', asset: '' },
  1: { read: 'f2a59d21d99f0f96a24c4096fa89d3', write: 'account-74c726f8de971e05e5523934918f7058', auth: 'account-74c726f8de971e05e5523934918f7058', submit: 'account-74c726f8de971e05e5523934918f7058', asset: 'account-74c726f8de971e05e5523934918f7058' },
} as const

/**
 * The role keys the demo runs with against the emulator: the reference seed has no role scoped to
 * `content/settings/update`, so on v2 the demo's admins change the site settings with the seed's full key (a real
 * deployment gives admins a role key of their own); v1 singletons are read-only through the gateway.
 * @param version Cockpit API version of the emulator
 */
export function emulatorRoleKeys(version: 1 | 2): { NUXT_COCKPIT_ROLE_KEYS?: string } {
  return version === 2 ? { NUXT_COCKPIT_ROLE_KEYS: JSON.stringify({ admin: SEED_V2.keys.full }) } : {}
}

/**
 * Starts the Cockpit emulator on a free loopback port and returns the `NUXT_COCKPIT_*` env that points
 * the gateway at it.
 * @param version Cockpit API version to emulate
 */
export async function startEmbeddedCockpit(version: 1 | 2): Promise<{ emulator: RunningEmulator, env: Record<string, string> }> {
  const emulator = await startEmulator({ version, port: 0 })
  const keys = EMULATOR_KEYS[version]
  return {
    emulator,
    env: {
      NUXT_COCKPIT_URL: emulator.url,
      NUXT_COCKPIT_VERSION: String(version),
      NUXT_COCKPIT_READ_KEY: keys.read,
      NUXT_COCKPIT_WRITE_KEY: keys.write,
      NUXT_COCKPIT_AUTH_KEY: keys.auth,
      NUXT_COCKPIT_SUBMIT_KEY: keys.submit,
      NUXT_COCKPIT_ASSET_KEY: keys.asset,
      NUXT_PUBLIC_DEMO_IMAGE_ID: await findDemoImageId(emulator),
    },
  }
}

/**
 * The id of the seed's PNG asset in this emulator (ids are generated per emulator, like Cockpit's): the
 * image the demo's About page shows. On a real Cockpit, copy an image asset's `_id` from the admin UI.
 * @param emulator the running emulator
 */
export async function findDemoImageId(emulator: RunningEmulator): Promise<string> {
  const image = (await emulator.listAssets()).find(asset => asset.mime === 'image/png')
  return typeof image?._id === 'string' ? image._id : ''
}
