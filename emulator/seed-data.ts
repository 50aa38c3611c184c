import { SEED_PASSWORD_HASHES, SEED_V1, SEED_V2 } from './seed'
import type { Doc } from './query'

/** Storage keys of the mutable data (users and items); models, roles and keys are fixed. */
export const STORAGE_KEYS = {
  v2Users: 'v2:system:users',
  v2Items: (model: string) => `v2:content:${model}`,
  v1Accounts: 'v1:cockpit:accounts',
  v1Entries: (collection: string) => `v1:collections:${collection}`,
} as const

/** The v2 documents, shaped and ordered as Cockpit 2.13 stores them. */
export function buildV2SeedData(): Record<string, Doc[]> {
  const t = SEED_V2.systemCreated
  const users = Object.values(SEED_V2.users).map(user => ({
    active: true,
    user: user.user,
    name: user.name,
    email: user.email,
    password: SEED_PASSWORD_HASHES[user.password],
    i18n: 'en',
    role: user.role,
    theme: 'auto',
    ...(user.user === 'editor' ? { apiKey: SEED_V2.keys.editorUser } : {}),
    _created: t,
    _modified: t,
    _id: user.id,
  }))
  const author = SEED_V2.users.editor.id
  const items = Object.values(SEED_V2.posts).map(post => ({
    title: post.title,
    body: post.body,
    published: post.published,
    _state: post.state,
    _modified: post.created,
    _mby: author,
    _created: post.created,
    _cby: author,
    _id: post.id,
  }))
  return { [STORAGE_KEYS.v2Users]: users, [STORAGE_KEYS.v2Items(SEED_V2.model)]: items }
}

/** The v1 documents, shaped and ordered as Cockpit 0.12 stores them. */
export function buildV1SeedData(): Record<string, Doc[]> {
  const t = SEED_V1.systemCreated
  const accountKeys = { admin: SEED_V1.keys.adminAccount, editor: SEED_V1.keys.editorAccount, guest: SEED_V1.keys.guestAccount }
  const accounts = Object.values(SEED_V1.users).map(user => ({
    user: user.user,
    email: user.email,
    group: user.group,
    name: user.name,
    active: true,
    i18n: 'en',
    api_key: accountKeys[user.user],
    password: SEED_PASSWORD_HASHES[user.password],
    _created: t,
    _modified: t,
    _id: user.id,
  }))
  const author = SEED_V1.users.editor.id
  const entries = Object.values(SEED_V1.posts).map(post => ({
    title: post.title,
    body: post.body,
    published: post.published,
    _by: author,
    _modified: post.created,
    _created: post.created,
    _id: post.id,
  }))
  return { [STORAGE_KEYS.v1Accounts]: accounts, [STORAGE_KEYS.v1Entries(SEED_V1.collection)]: entries }
}
