/** One secret value the gateway knows, and the setting it came from (what a leak report names instead of the value). */
export interface GatewaySecret {
  /** The env var that sets it, e.g. `NUXT_COCKPIT_READ_KEY`; role keys add the role: `NUXT_COCKPIT_ROLE_KEYS.editor`. */
  setting: string
  /** The secret itself: never logged, never put in a message. */
  value: string
}

/** What {@link collectGatewaySecrets} found. */
export interface CollectedGatewaySecrets {
  /** Values long enough to scan for, deduplicated. */
  secrets: GatewaySecret[]
  /** Settings that are set but too short to scan for meaningfully (names only). */
  skipped: string[]
}

/** Shorter values would match by chance in minified code, so they are not scanned for. */
export const MIN_SECRET_LENGTH = 8

/** Every private setting that holds a secret: its env var and where it sits in `runtimeConfig`. */
const SECRET_SETTINGS = [
  { setting: 'NUXT_COCKPIT_READ_KEY', path: ['cockpit', 'readKey'] },
  { setting: 'NUXT_COCKPIT_WRITE_KEY', path: ['cockpit', 'writeKey'] },
  { setting: 'NUXT_COCKPIT_AUTH_KEY', path: ['cockpit', 'authKey'] },
  { setting: 'NUXT_COCKPIT_SUBMIT_KEY', path: ['cockpit', 'submitKey'] },
  { setting: 'NUXT_COCKPIT_GATEWAY_FORMS_CAPTCHA_SECRET', path: ['cockpitGateway', 'forms', 'captcha', 'secret'] },
  { setting: 'NUXT_COCKPIT_ROLE_KEYS', path: ['cockpit', 'roleKeys'], perRole: true },
  { setting: 'NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET', path: ['cockpitGateway', 'webhookSecret'] },
  { setting: 'NUXT_SESSION_PASSWORD', path: ['session', 'password'] },
  { setting: 'NUXT_OAUTH_OIDC_CLIENT_SECRET', path: ['oauth', 'oidc', 'clientSecret'] },
] as const

/**
 * The gateway's secrets from a runtime config (private part) and from the env vars that fill it, so a
 * build sees them before Nitro applies the env at run time.
 * @param runtimeConfig `nuxt.options.runtimeConfig` at build time, `useRuntimeConfig()` at run time
 * @param env usually `process.env`
 * @example
 * const { secrets, skipped } = collectGatewaySecrets(nuxt.options.runtimeConfig, process.env)
 */
export function collectGatewaySecrets(runtimeConfig: Record<string, unknown>, env: Record<string, string | undefined> = {}): CollectedGatewaySecrets {
  const found: GatewaySecret[] = []
  for (const { setting, path, ...rest } of SECRET_SETTINGS) {
    const sources = [env[setting], path.reduce<unknown>((node, key) => isRecord(node) ? node[key] : undefined, runtimeConfig)]
    for (const source of sources) {
      if ('perRole' in rest) found.push(...roleKeyValues(setting, source))
      else if (typeof source === 'string' || typeof source === 'number') found.push({ setting, value: String(source) })
    }
  }
  const secrets: GatewaySecret[] = []
  const skipped = new Set<string>()
  for (const secret of found) {
    if (!secret.value) continue
    if (secret.value.length < MIN_SECRET_LENGTH) skipped.add(secret.setting)
    else if (!secrets.some(known => known.value === secret.value)) secrets.push(secret)
  }
  return { secrets, skipped: [...skipped] }
}

/**
 * The ways a secret can be written into an output file: as is, inside a JSON or devalue string (payloads,
 * inline state), URL-encoded (links, query strings) and HTML-escaped (attributes, text).
 * @param value the secret
 */
export function secretForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1)
  // devalue, which writes Nuxt's payloads, escapes these on top of JSON so a string cannot close a <script>.
  const devalue = json.replace(/[<>/\u2028\u2029]/g, char => `\\u${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`)
  return [...new Set([
    value,
    json,
    devalue,
    devalue.replace(/\\u([0-9A-F]{4})/g, (_, hex: string) => `\\u${hex.toLowerCase()}`),
    encodeURIComponent(value),
    encodeURI(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    escapeHtml(value),
  ])]
}

function roleKeyValues(setting: string, source: unknown): GatewaySecret[] {
  let keys = source
  if (typeof keys === 'string') {
    // Malformed JSON is still a secret: treat the whole string as one.
    try {
      keys = JSON.parse(keys)
    }
    catch {
      return [{ setting, value: keys as string }]
    }
  }
  if (!isRecord(keys)) return []
  return Object.entries(keys)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([role, value]) => ({ setting: `${setting}.${role}`, value }))
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
