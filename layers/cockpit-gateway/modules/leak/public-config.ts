import type { GatewaySecret } from './secrets'
import { secretForms } from './secrets'

/** A public runtime config entry that holds a secret. */
export interface PublicConfigLeak {
  /** Where, e.g. `runtimeConfig.public.siteBanner`: never the value. */
  path: string
  /** Which setting's value it holds, e.g. `NUXT_COCKPIT_READ_KEY`. */
  setting: string
}

/** Reported paths start here, so a message reads like the config it points at. */
const BASE_PATH = 'runtimeConfig.public'

/**
 * Names of the gateway's private settings (lowercased, without `_`/`-`): an entry by such a name in the
 * public config is most likely one of them put in the wrong place, e.g. by `NUXT_PUBLIC_COCKPIT_READ_KEY`.
 */
/** The layer's own public settings (route prefixes the composables need); values are still scanned for secrets. */
const LAYER_PUBLIC_PATHS = ['runtimeConfig.public.cockpitGateway.prefix', 'runtimeConfig.public.cockpitGateway.authPrefix']

const PRIVATE_LOOKING_NAMES = new Set(['readkey', 'writekey', 'authkey', 'rolekeys', 'apikey', 'apikeys', 'sessionpassword', 'webhooksecret', 'clientsecret'])

/**
 * Every place in a public runtime config (deep, keys and values) that holds one of the secrets.
 * @param publicConfig `runtimeConfig.public`
 * @param secrets from `collectGatewaySecrets`
 */
export function findPublicConfigLeaks(publicConfig: unknown, secrets: GatewaySecret[]): PublicConfigLeak[] {
  const matchers = secrets.map(secret => ({ setting: secret.setting, forms: secretForms(secret.value) }))
  const leaks: PublicConfigLeak[] = []
  const check = (text: string, path: string) => {
    for (const { setting, forms } of matchers) {
      const known = leaks.some(leak => leak.path === path && leak.setting === setting)
      if (!known && forms.some(form => text.includes(form))) leaks.push({ path, setting })
    }
  }
  walk(publicConfig, BASE_PATH, (value, path, key) => {
    if (key !== undefined) check(key, path)
    if (typeof value === 'string' || typeof value === 'number') check(String(value), path)
  })
  return leaks
}

/**
 * Paths of public runtime config entries that are non-empty and named like a private gateway setting
 * (`cockpit*`, `readKey`, `apiKey`, `sessionPassword`…), whatever their value.
 * @param publicConfig `runtimeConfig.public`
 * @param allow paths (as reported, e.g. `runtimeConfig.public.algolia.apiKey`) that are public on purpose
 */
export function findPrivateLookingPublicKeys(publicConfig: unknown, allow: string[] = []): string[] {
  const found: string[] = []
  allow = [...allow, ...LAYER_PUBLIC_PATHS]
  walk(publicConfig, BASE_PATH, (value, path) => {
    const names = path.slice(BASE_PATH.length).split(/[.[\]]/).filter(Boolean).map(name => name.toLowerCase().replace(/[-_]/g, ''))
    const privateLooking = names.some(name => name.startsWith('cockpit') || PRIVATE_LOOKING_NAMES.has(name))
    if (privateLooking && isFilled(value) && !allow.some(allowed => path === allowed || path.startsWith(`${allowed}.`) || path.startsWith(`${allowed}[`))) found.push(path)
  })
  return found
}

/** Calls `visit` for every leaf (and every key) of a plain config tree with its dotted path. */
function walk(node: unknown, path: string, visit: (value: unknown, path: string, key?: string) => void, key?: string): void {
  if (Array.isArray(node)) {
    node.forEach((item, index) => walk(item, `${path}[${index}]`, visit))
  }
  else if (typeof node === 'object' && node !== null) {
    if (key !== undefined) visit(undefined, path, key)
    for (const [childKey, child] of Object.entries(node)) walk(child, `${path}.${childKey}`, visit, childKey)
  }
  else {
    visit(node, path, key)
  }
}

function isFilled(value: unknown): boolean {
  return (typeof value === 'string' && value.trim() !== '') || typeof value === 'number'
}
