import type { Doc } from './query'
import type { ApiRequest } from './request'
import { getBearerToken, getHeaderValue } from './request'
import { SEED_V1 } from './seed'
import { STORAGE_KEYS } from './seed-data'
import type { DocumentStore } from './store'
import type { V1AclAction, V1Collection } from './models'

/** Who a v1 API call acts as. Master and special keys have no user, so no ACL applies to them. */
export type V1Caller
  = | { kind: 'master' }
    | { kind: 'special' }
    | { kind: 'account', user: Doc }

/** v1 API keys (`storage/api.keys.php`): the master key and the special keys with their path rules. */
export const V1_API_KEYS = {
  master: SEED_V1.keys.master,
  special: [{ token: SEED_V1.keys.special, rules: [...SEED_V1.specialKeyRules] }],
} as const

/**
 * The token of a v1 call: the `token` query/body param wins, then `Cockpit-Token`, then
 * `Authorization: Bearer`. The v2 `api-key` header means nothing here.
 */
export function readV1Token(request: ApiRequest): string | undefined {
  if (Object.hasOwn(request.params, 'token')) {
    const value = request.params.token
    return typeof value === 'string' ? value : ''
  }
  return getHeaderValue(request, 'cockpit-token') ?? getBearerToken(request)
}

/**
 * Resolves the caller, or `null` for `401 {"error":"Unauthorized"}`: no token, an unknown one, or a
 * special key none of whose rules (`preg_match("#rule#", $path)`, `*` = all) matches the path.
 */
export async function getV1Caller(store: DocumentStore, token: string | undefined, path: string): Promise<V1Caller | null> {
  if (!token) return null
  if (token === V1_API_KEYS.master) return { kind: 'master' }
  const special = V1_API_KEYS.special.find(key => key.token === token)
  if (special) return special.rules.some(rule => matchesRule(rule, path)) ? { kind: 'special' } : null
  const user = (await store.read(STORAGE_KEYS.v1Accounts)).find(account => account.api_key === token)
  return user ? { kind: 'account', user } : null
}

function matchesRule(rule: string, path: string): boolean {
  if (rule.trim() === '*') return true
  try {
    return new RegExp(rule.trim()).test(path)
  }
  catch {
    return false
  }
}

/** Whether the caller is a super-admin: key without a user, or an account of group `admin`. */
export function isV1SuperAdmin(caller: V1Caller): boolean {
  return caller.kind !== 'account' || caller.user.group === 'admin'
}

/** The collection ACL check (`hasaccess`): only accounts are checked, `admin` passes everything. */
export function hasV1Access(caller: V1Caller, collection: V1Collection, action: V1AclAction): boolean {
  if (caller.kind !== 'account' || caller.user.group === 'admin') return true
  return collection.acl[String(caller.user.group)]?.[action] === true
}

/** The `_by` of a save: the account's `_id`, or `null` for master and special keys. */
export function getV1CallerId(caller: V1Caller): string | null {
  return caller.kind === 'account' ? String(caller.user._id) : null
}
