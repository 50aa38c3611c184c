import type { ApiRequest } from './request'
import { getBearerToken, getHeaderValue } from './request'
import type { DocumentStore } from './store'
import { STORAGE_KEYS } from './seed-data'
import { SEED_V2 } from './seed'

/** Who a v2 API call acts as. */
export interface V2Caller {
  /** `admin` = super-admin; `null` = anonymous with no rights (a JWT-shaped key). */
  role: string | null
  /** Set for `USR-` keys: becomes `_cby`/`_mby`. `null` for `API-` keys. */
  userId: string | null
}

/** A record of `system/api_keys`. */
export interface V2ApiKey {
  key: string
  name: string
  role: string
  meta: Record<string, unknown>
  _id: string
  _created: number
  _modified: number
}

/** A record of `system/roles`. */
export interface V2Role {
  appid: string
  name: string
  info: string
  permissions: Record<string, boolean>
}

const t = SEED_V2.systemCreated

/** The seeded API keys. There is no `public` key, so calls without a key fail. */
export const V2_API_KEYS: readonly V2ApiKey[] = [
  { key: SEED_V2.keys.full, name: 'Full access', role: 'admin', meta: {}, _id: '6b0bc3c7686c82ffb095aa82', _created: t, _modified: t },
  { key: SEED_V2.keys.readOnly, name: 'Read only', role: 'reader', meta: {}, _id: '6b0bc3c7686c82ffb095aa83', _created: t, _modified: t },
  { key: SEED_V2.keys.submit, name: 'acceptance-messages-submit', role: 'submitter', meta: {}, _id: '6b112091686c8241b175b634', _created: t, _modified: t },
]

/** The seeded roles (`admin` is built in and not listed). */
export const V2_ROLES: Readonly<Record<string, V2Role>> = Object.fromEntries(
  Object.entries(SEED_V2.roles).map(([name, permissions]) => [name, {
    appid: name,
    name: name[0]!.toUpperCase() + name.slice(1),
    info: '',
    permissions: Object.fromEntries(permissions.map(permission => [permission, true])),
  }]),
)

/**
 * The key of a v2 call: the `api_key` query/body param wins (even when empty), then the
 * `api-key` header (any case), then `Authorization: Bearer`. `?token=` and `Cockpit-Token` are v1 only.
 */
export function readV2Key(request: ApiRequest): string | undefined {
  if (Object.hasOwn(request.params, 'api_key')) {
    const value = request.params.api_key
    return typeof value === 'string' ? value : ''
  }
  return getHeaderValue(request, 'api-key') ?? getBearerToken(request)
}

const JWT_SHAPE = /^[^.\s]+\.[^.\s]+\.[^.\s]+$/

/**
 * Resolves the caller of a key, or `null` when Cockpit answers `412 Authentication failed`
 * (no key and no `public` key, unknown `API-`/`USR-` key, anything else).
 */
export async function getV2Caller(store: DocumentStore, key: string | undefined): Promise<V2Caller | null> {
  const lookup = key ? key : 'public'
  const apiKey = V2_API_KEYS.find(record => record.key === lookup)
  if (apiKey) return { role: apiKey.role, userId: null }
  if (lookup.startsWith('USR-')) {
    // Cockpit does not check `active` here: an inactive user's key still works
    const user = (await store.read(STORAGE_KEYS.v2Users)).find(record => record.apiKey === lookup)
    return user ? { role: String(user.role), userId: String(user._id) } : null
  }
  // core skips validation of JWT-shaped tokens ("todo"): anonymous, no role
  if (JWT_SHAPE.test(lookup)) return { role: null, userId: null }
  return null
}

/** Whether `role` holds `permission` (e.g. `content/posts/read`); `admin` holds all. */
export function isV2Allowed(role: string | null, permission: string): boolean {
  if (role === 'admin') return true
  if (role === null || !Object.hasOwn(V2_ROLES, role)) return false
  return V2_ROLES[role]!.permissions[permission] === true
}
