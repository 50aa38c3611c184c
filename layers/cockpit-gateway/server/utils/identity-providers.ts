import type { H3Event } from 'h3'
import type { User } from '#auth-utils'
import { useNitroApp } from 'nitropack/runtime'
import { useCockpitClient } from './cockpit'
import { useGatewayConfig } from './gateway-config'
import type { GatewayConfig } from './gateway-config'

/** Checks a username and password; resolves the user (with a gateway role) or `null` for bad credentials. */
export type PasswordIdentityProvider = (event: H3Event, username: string, password: string) => Promise<User | null>

declare module 'nitropack/types' {
  interface NitroRuntimeHooks {
    /**
     * Lets an app register its own password provider: `providers.set('ldap', fn)`, then set
     * `NUXT_COCKPIT_GATEWAY_AUTH_PROVIDER=ldap`.
     */
    'cockpit-gateway:identity-providers': (providers: Map<string, PasswordIdentityProvider>) => void
  }
}

/**
 * Maps a provider's role (Cockpit v2 role, v1 group, OIDC claim) to a gateway role; unlisted → `guest`.
 * @param config gateway config
 * @param providerRole the provider's role name
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
 */
export function mapOidcClaimsToUser(config: GatewayConfig, claims: Record<string, unknown>): User {
  // OIDC Core: `sub` is a string of at most 255 ASCII characters; anything else is refused, never coerced.
  const sub = claims.sub
  if (typeof sub !== 'string' || !sub || sub.length > 255) throw new Error('OIDC claims without a valid sub')
  const name = [claims.name, claims.preferred_username, claims.email, sub].find(v => typeof v === 'string' && v) as string
  return { id: `oidc:${sub}`, name: name.slice(0, 256), role: mapGatewayRole(config, claims[config.auth.oidcRoleClaim]) }
}

const cockpitProvider: PasswordIdentityProvider = async (event, username, password) => {
  const user = await useCockpitClient(event).authenticate(username, password)
  if (!user) return null
  return { id: user.id, name: user.name || user.username, role: mapGatewayRole(useGatewayConfig(event), user.role) }
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

let providers: Map<string, PasswordIdentityProvider> | undefined

/**
 * The configured password provider (`auth.provider`): `cockpit`, `local`, or one an app registered through
 * the `cockpit-gateway:identity-providers` hook. Unknown → 500 `CONFIG_INVALID`.
 * @param event the request
 */
export async function usePasswordIdentityProvider(event: H3Event): Promise<PasswordIdentityProvider | undefined> {
  if (!providers) {
    const all = new Map<string, PasswordIdentityProvider>([['cockpit', cockpitProvider], ['local', localProvider]])
    await useNitroApp().hooks.callHook('cockpit-gateway:identity-providers', all)
    providers = all
  }
  return providers.get(useGatewayConfig(event).auth.provider)
}
