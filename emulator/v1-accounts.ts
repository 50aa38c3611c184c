import bcrypt from 'bcryptjs'
import { createAccountKey, createObjectId, nowSeconds } from './ids'
import { JSON_TYPE, sendExact, sendJson } from './http'
import { isPlainObject } from './json'
import { isPhpTruthy } from './params'
import type { Doc } from './query'
import { filterDocuments, sortDocuments } from './query'
import { STORAGE_KEYS } from './seed-data'
import type { V1Context } from './v1-collections'
import { isV1SuperAdmin } from './v1-auth'

/** PHP's `password_hash` writes `$2y$`; bcryptjs writes `$2a$` for the same algorithm. */
function hashPassword(password: string): string {
  return bcrypt.hashSync(password, 10).replace(/^\$2a\$/, '$2y$')
}

function withoutPassword(account: Doc): Doc {
  const { password: _password, ...rest } = account
  return rest
}

/**
 * `/api/cockpit/authUser` with `{user, password[, generateApiKey]}`: the account **including its
 * `api_key`**. Username only (an email fails), active accounts only; any valid key may ask.
 */
export async function authenticateV1User(context: V1Context): Promise<void> {
  const { request, store } = context
  const { user, password } = request.params
  if (!isPhpTruthy(user) || !isPhpTruthy(password)) return sendJson(request.event, 412, { error: 'Missing user or password' })
  const accounts = await store.read(STORAGE_KEYS.v1Accounts)
  const account = accounts.find(candidate => candidate.user === user && candidate.active === true)
  const valid = account && typeof password === 'string' && typeof account.password === 'string' && bcrypt.compareSync(password, account.password)
  if (!account || !valid) return sendJson(request.event, 401, { error: 'Authentication failed' })
  if (isPhpTruthy(request.params.generateApiKey)) {
    const apiKey = createAccountKey()
    await store.mutate(STORAGE_KEYS.v1Accounts, (docs) => {
      const stored = docs.find(doc => doc._id === account._id)
      if (stored) stored.api_key = apiKey
    })
    account.api_key = apiKey
  }
  return sendJson(request.event, 200, withoutPassword(account))
}

/**
 * `/api/cockpit/saveUser` with `{user: {…}}`. Keys and admins create or update anyone (admins
 * included); other accounts may only update themselves, and their `group` is dropped.
 */
export async function saveV1User(context: V1Context): Promise<void> {
  const { request, store, caller } = context
  const sent = request.params.user
  // Lime turns `return false` into an empty 404
  if (!isPlainObject(sent) || Object.keys(sent).length === 0) return sendExact(request.event, 404, '', JSON_TYPE)
  let data: Doc = { ...sent }
  const isUpdate = data._id !== undefined && data._id !== null
  if (caller.kind === 'account' && !isV1SuperAdmin(caller)) {
    if (!isUpdate || data._id !== caller.user._id) return sendExact(request.event, 401, '', JSON_TYPE)
    delete data.group
  }
  if (!isUpdate) {
    if (data.password === undefined || data.password === null) return sendJson(request.event, 412, { error: 'User password required' })
    if (data.user === undefined || data.user === null) return sendJson(request.event, 412, { error: 'Username required' })
    data = { user: 'admin', name: '', email: '', active: true, group: 'user', i18n: 'en', ...data }
    if (Object.hasOwn(data, 'api_key')) data.api_key = createAccountKey()
  }
  if (Object.hasOwn(data, 'password')) {
    if (typeof data.password === 'string' && data.password.length > 0) data.password = hashPassword(data.password)
    else delete data.password
  }
  data._modified = nowSeconds()
  if (!isUpdate) data._created = data._modified
  for (const key of ['user', 'email']) {
    if (typeof data[key] === 'string') data[key] = (data[key] as string).trim()
  }
  const conflict = await store.mutate(STORAGE_KEYS.v1Accounts, (docs) => {
    // like Cockpit: the first account with that user or email, which may be the one being updated
    const exists = docs.find(doc => (data.user !== undefined && doc.user === data.user) || (data.email !== undefined && doc.email === data.email))
    if (exists && (!isUpdate || exists._id !== data._id)) return exists.user === data.user ? 'Username' : 'Email'
    const stored = isUpdate ? docs.find(doc => doc._id === data._id) : undefined
    if (stored) Object.assign(stored, data)
    else {
      if (!isUpdate) data._id = createObjectId()
      docs.push({ ...data })
    }
    return undefined
  })
  if (conflict) return sendJson(request.event, 412, { error: `${conflict} is already used!` })
  return sendJson(request.event, 200, withoutPassword(data))
}

/**
 * `/api/cockpit/listUsers`: keys and admins only (no seed group has `cockpit.accounts`), without
 * `password` and `api_key`, sorted by username. A string `filter` searches name, user and email.
 */
export async function listV1Users(context: V1Context): Promise<void> {
  const { request, store, caller } = context
  if (!isV1SuperAdmin(caller)) return sendJson(request.event, 401, { error: 'Unauthorized' })
  const raw = request.params.filter
  const filter = typeof raw === 'string' && raw !== ''
    ? { $or: [{ name: { $regex: raw } }, { user: { $regex: raw } }, { email: { $regex: raw } }] }
    : isPlainObject(raw) ? raw : {}
  const accounts = sortDocuments(filterDocuments(await store.read(STORAGE_KEYS.v1Accounts), filter), { user: 1 })
  return sendJson(request.event, 200, accounts.map(({ password: _password, api_key: _apiKey, ...rest }) => rest))
}
