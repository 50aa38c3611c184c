import type { H3Event } from 'h3'
import type { User } from '#auth-utils'
import { useNitroApp } from 'nitropack/runtime'
import { useCockpitClient } from '../cockpit/cockpit'
import { useGatewayConfig } from '../config/gateway-config'
import type { GatewayConfig } from '../config/gateway-config'
import { getLoginAlias, rememberLoginAlias } from './aliases'

/**
 * Checks a username and password; resolves the user (with a gateway role) or `null` for bad credentials.
 * @public
 */
export type PasswordIdentityProvider = (event: H3Event, username: string, password: string) => Promise<User | null>

/**
 * A password provider that also says which spellings name one account, so that the per-account login limit
 * counts every spelling of an account in one bucket (an attacker must not get a fresh bucket by writing
 * `Alice` instead of `alice`).
 * @example providers.set('ldap', { authenticate: checkLdap, canonicalUsername: name => name.toLowerCase() })
 * @public
 */
export interface PasswordIdentityProviderDefinition {
  /** Checks the credentials, as a plain {@link PasswordIdentityProvider} does. */
  authenticate: PasswordIdentityProvider
  /**
   * The account a spelling names: every spelling your directory accepts for one account must give the same
   * string (different accounts may share one; they then share a limit). Called before the password is checked,
   * for usernames the gateway accepted (no control, format or invisible characters).
   * @default getCanonicalUsername (Unicode NFKC, then lower case)
   */
  canonicalUsername?: (username: string, event: H3Event) => string | Promise<string>
}

/** What an app registers: a plain provider function (canonicalised with the default), or a definition. */
export type PasswordIdentityProviderEntry = PasswordIdentityProvider | PasswordIdentityProviderDefinition

declare module 'nitropack/types' {
  interface NitroRuntimeHooks {
    /**
     * Lets an app register its own password provider: `providers.set('ldap', fn)` or
     * `providers.set('ldap', { authenticate, canonicalUsername })`, then set `NUXT_COCKPIT_GATEWAY_AUTH_PROVIDER=ldap`.
     */
    'cockpit-gateway:identity-providers': (providers: Map<string, PasswordIdentityProviderEntry>) => void
  }
}

/**
 * The default account key of a username: Unicode NFKC (so `ｅｄｉｔｏｒ` and `editor` agree), then lower case.
 * @param username a username the gateway accepted
 * @example getCanonicalUsername('Ｅditor') // 'editor'
 * @public
 */
export function getCanonicalUsername(username: string): string {
  return username.normalize('NFKC').toLowerCase()
}

/**
 * Maps a provider's role (Cockpit v2 role, v1 group, OIDC claim) to a gateway role; unlisted → `guest`.
 * @param config gateway config
 * @param providerRole the provider's role name
 * @public
 */
export function mapGatewayRole(config: GatewayConfig, providerRole: unknown): string {
  // A claim may carry several roles: the first one that maps wins, in the claim's order.
  const candidates = Array.isArray(providerRole) ? providerRole : [providerRole]
  const mapped = candidates.find(role => typeof role === 'string' && Object.hasOwn(config.auth.roleMap, role))
  return mapped ? config.auth.roleMap[mapped]! : 'guest'
}

/**
 * The session user for OIDC claims: id `oidc:<sub>`, a display name from the usual claims, and the role
 * from `auth.oidcRoleClaim`. Tokens and other claims are not kept.
 * @param config gateway config
 * @param claims the userinfo (or ID token) claims
 * @public
 */
export function mapOidcClaimsToUser(config: GatewayConfig, claims: Record<string, unknown>): User {
  // OIDC Core: `sub` is a string of at most 255 ASCII characters; anything else is refused, never coerced.
  const sub = claims.sub
  if (typeof sub !== 'string' || !sub || sub.length > 255) throw new Error('OIDC claims without a valid sub')
  const name = [claims.name, claims.preferred_username, claims.email, sub].find(v => typeof v === 'string' && v) as string
  return { id: `oidc:${sub}`, name: name.slice(0, 256), role: mapGatewayRole(config, claims[config.auth.oidcRoleClaim]) }
}

const cockpitProvider: Required<PasswordIdentityProviderDefinition> = {
  async authenticate(event, username, password) {
    const user = await useCockpitClient(event).authenticate(username, password)
    if (!user) return null
    // v2 also takes the email: remember which account it names, so both spellings share one limit.
    if (useGatewayConfig(event).cockpit.version === 2 && user.email) await rememberLoginAlias(user.email, user.username)
    return { id: user.id, name: user.name || user.username, role: mapGatewayRole(useGatewayConfig(event), user.role) }
  },
  async canonicalUsername(username, event) {
    // v2's /auth/check matches an email-shaped input against `email`; the account is known after its first login.
    if (useGatewayConfig(event).cockpit.version === 2 && username.includes('@')) {
      const account = await getLoginAlias(username)
      if (account) return account
    }
    return getCanonicalUsername(username)
  },
}

let dummyHash: Promise<string> | undefined

const localProvider: PasswordIdentityProvider = async (event, username, password) => {
  const config = useGatewayConfig(event)
  const user = config.auth.localUsers.find(candidate => candidate.username === username)
  // An unknown user still pays one hash verification, so it takes as long as a wrong password.
  const hash = user?.passwordHash ?? await (dummyHash ??= hashPassword(crypto.randomUUID()))
  const valid = await verifyPassword(hash, password).catch(() => false)
  if (!user || !valid) return null
  return { id: `local:${user.username}`, name: user.name ?? user.username, role: user.role }
}

/**
 * A provider in its full form: a plain function gets the default canonicalisation.
 * @param entry what was registered
 */
function resolvePasswordIdentityProvider(entry: PasswordIdentityProviderEntry): Required<PasswordIdentityProviderDefinition> {
  if (typeof entry === 'function') return { authenticate: entry, canonicalUsername: getCanonicalUsername }
  if (!entry || typeof entry.authenticate !== 'function') throw new TypeError('identity provider: expected a function or { authenticate, canonicalUsername? }')
  const { authenticate, canonicalUsername } = entry
  return { authenticate, canonicalUsername: typeof canonicalUsername === 'function' ? canonicalUsername : getCanonicalUsername }
}

let providers: Map<string, Required<PasswordIdentityProviderDefinition>> | undefined

/**
 * The configured password provider (`auth.provider`): `cockpit`, `local`, or one an app registered through
 * the `cockpit-gateway:identity-providers` hook, in its full form (`authenticate`, `canonicalUsername`).
 * @param event the request
 * @returns the provider, or `undefined` when none of that name exists (password login is then disabled)
 */
export async function usePasswordIdentityProvider(event: H3Event): Promise<Required<PasswordIdentityProviderDefinition> | undefined> {
  if (!providers) {
    const all = new Map<string, PasswordIdentityProviderEntry>([['cockpit', cockpitProvider], ['local', localProvider]])
    await useNitroApp().hooks.callHook('cockpit-gateway:identity-providers', all)
    providers = new Map([...all].map(([name, entry]) => [name, resolvePasswordIdentityProvider(entry)]))
  }
  return providers.get(useGatewayConfig(event).auth.provider)
}
